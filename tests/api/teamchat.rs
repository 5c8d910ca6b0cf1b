//! Internal chat between agents over the real sockets (SPEC C12, issue 11): department and 1:1
//! rooms, loss-free delivery across cut connections on both ends, history pages, rights that
//! follow live changes, and refused input that changes nothing.

use std::collections::BTreeMap;

use frontdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::world::*;
use crate::ws::{Ended, Ws};

/// An agent socket that resumes the given team rooms.
async fn team_socket(base: &str, cookie: &str, resume: &[(i64, i64)]) -> (Ws, Value) {
    let mut s = Ws::connect(base, "/ws/agent", base, Some(cookie)).await.expect("agent socket");
    let team: Vec<Value> = resume.iter().map(|(room, seq)| json!({"room": room, "last_seq": seq})).collect();
    s.send(json!({"type": "hello", "v": 1, "team": team})).await;
    let welcome = s.recv_type("welcome").await;
    (s, welcome)
}

/// GET with a session cookie of an agent outside `Who`.
async fn get_as(w: &World, cookie: &str, path: &str) -> (StatusCode, Value) {
    let r = w.app.plain().get(w.app.url(path)).header("cookie", cookie).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

/// The room messages a frame carries (`team_message` one, `team_history` many).
fn room_messages(f: &Value, room: i64) -> Vec<Value> {
    match f["type"].as_str() {
        Some("team_message") if f["room"] == room => vec![f.clone()],
        Some("team_history") if f["room"] == room => f["messages"].as_array().unwrap().clone(),
        _ => vec![],
    }
}

struct Receiver {
    sock: Ws,
    cookie: String,
    room: i64,
    /// Every seq received, in arrival order, across reconnects.
    seen: Vec<i64>,
    reconnects: usize,
}

impl Receiver {
    fn last(&self) -> i64 {
        self.seen.last().copied().unwrap_or(0)
    }

    /// Read until `upto` has arrived, at most `limit` messages (then stop, to cut mid-stream).
    async fn read(&mut self, upto: i64, limit: usize) {
        let deadline = Deadline::secs(30, format!("room {} up to seq {upto}", self.room));
        let mut n = 0;
        while self.last() < upto && n < limit {
            deadline.check_progress(|| format!("last seq {}", self.last()));
            let f = self.sock.recv().await;
            for m in room_messages(&f, self.room) {
                self.seen.push(m["seq"].as_i64().unwrap());
                n += 1;
            }
        }
    }

    async fn reconnect(&mut self, base: &str) {
        let (s, _) = team_socket(base, &self.cookie, &[(self.room, self.last())]).await;
        let old = std::mem::replace(&mut self.sock, s);
        old.cut();
        self.reconnects += 1;
    }
}

/// Send `n` messages into `room` from `sender`, in windows, cutting the sender's socket at
/// `cuts` points and the receiver's at every other one; unacknowledged messages are resent
/// after each reconnect. Returns the acknowledged seq of every message.
async fn stream_with_cuts(
    base: &str,
    sender_cookie: &str,
    rx: &mut Receiver,
    room: i64,
    prefix: &str,
    n: usize,
    cuts: &[usize],
) -> BTreeMap<usize, i64> {
    let (mut tx, _) = team_socket(base, sender_cookie, &[]).await;
    let mut cuts: Vec<usize> = cuts.to_vec();
    let cuts_total = cuts.len();
    let mut acked: BTreeMap<usize, i64> = BTreeMap::new();
    let mut sent = 0;
    let mut round = 0u64;
    let mut sender_reconnects = 0;
    let deadline = Deadline::secs(120, format!("{n} team messages across cuts"));
    let msg = |i: usize| json!({"type": "team_message", "room": room, "client_id": format!("{prefix}{i}"), "body": format!("{prefix} message {i}")});
    let take_ack = |f: &Value, acked: &mut BTreeMap<usize, i64>| {
        if f["type"] == "team_ack" {
            let i: usize = f["client_id"].as_str().unwrap()[prefix.len()..].parse().unwrap();
            acked.insert(i, f["seq"].as_i64().unwrap());
        }
    };
    while acked.len() < n {
        deadline.check_progress(|| format!("{} acked", acked.len()));
        round += 1;
        let end = (sent + 25).min(n);
        for i in sent..end {
            tx.send(msg(i)).await;
        }
        sent = end;
        if cuts.first().is_some_and(|&c| c < sent) {
            cuts.remove(0);
            // A few acks arrive, the rest are in flight: cut.
            for _ in 0..(round % 4) {
                if let Ok(f) = tx.next().await {
                    take_ack(&f, &mut acked);
                }
            }
            tx.cut();
            let (s, _) = team_socket(base, sender_cookie, &[]).await;
            tx = s;
            sender_reconnects += 1;
            for i in (0..sent).filter(|i| !acked.contains_key(i)) {
                tx.send(msg(i)).await;
            }
            if round.is_multiple_of(2) {
                // The receiver loses its connection too, part-way through what was sent.
                let committed = acked.values().copied().max().unwrap_or(0);
                rx.read(committed, 7).await;
                rx.reconnect(base).await;
            }
        }
        while (0..sent).any(|i| !acked.contains_key(&i)) {
            deadline.check_progress(|| format!("{} of {sent} acked", acked.len()));
            let f = tx.recv().await;
            take_ack(&f, &mut acked);
        }
    }
    assert_eq!(sender_reconnects, cuts_total, "the sender's socket was cut at every point");
    acked
}

/// Done-when 5: a department room and a 1:1 room, both ends' connections cut again and again;
/// every acknowledged message is stored once, seqs are dense in send order, and the receiver
/// sees 1, 2, 3, … without a gap or a duplicate, resuming by seq after each reconnect.
#[actix_web::test]
async fn department_and_direct_rooms_lose_nothing_across_cuts() {
    let w = World::new().await;
    let pat = w.agent("pat@shop.example", Role::Agent, vec![w.dept_a]).await;
    let pat_cookie = w.app.cookie_header(&w.app.session_for(pat).await);

    // Department A's room: ag1 writes, pat reads.
    let (pat_sock, welcome) = team_socket(&w.app.address, &pat_cookie, &[]).await;
    let rooms = welcome["team"].as_array().unwrap();
    assert_eq!(rooms.len(), 1, "pat is in department A only: {rooms:?}");
    assert_eq!(
        (rooms[0]["id"].as_i64(), rooms[0]["kind"].as_str(), rooms[0]["name"].as_str()),
        (Some(w.room_a), Some("department"), Some("Dept A"))
    );
    let mut rx = Receiver { sock: pat_sock, cookie: pat_cookie.clone(), room: w.room_a, seen: vec![], reconnects: 0 };
    const N: usize = 300;
    let cuts = [13, 40, 77, 101, 130, 151, 190, 222, 250, 280];
    let acked = stream_with_cuts(&w.app.address, &w.ag1, &mut rx, w.room_a, "d", N, &cuts).await;
    for (i, seq) in &acked {
        assert_eq!(*seq, *i as i64 + 1, "message {i}");
    }
    rx.read(N as i64, usize::MAX).await;
    assert!(rx.reconnects >= 4, "the receiver reconnected {} times", rx.reconnects);
    assert_eq!(rx.seen, (1..=N as i64).collect::<Vec<_>>(), "pat saw a gap or a duplicate");
    let room = w.room_a;
    let stored: Vec<(i64, String)> = w
        .app
        .db
        .read(move |c| {
            let mut st = c.prepare("SELECT seq, client_id FROM team_messages WHERE room_id = ?1 ORDER BY seq")?;
            Ok(st.query_map([room], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), N);
    for (i, (seq, cid)) in stored.iter().enumerate() {
        assert_eq!((*seq, cid.as_str()), (i as i64 + 1, format!("d{i}").as_str()));
    }
    // pat has read nothing yet: the unread counter says so, and a read clears it.
    let (_, list) = get_as(&w, &pat_cookie, "/api/v1/team/rooms").await;
    assert_eq!((list["items"][0]["unread"].as_i64(), list["items"][0]["last_seq"].as_i64()), (Some(N as i64), Some(N as i64)));
    rx.sock.send(json!({"type": "team_read", "room": w.room_a, "seq": 250})).await;
    let read = rx.sock.recv_type("team_read").await;
    assert_eq!((read["room"].as_i64(), read["seq"].as_i64()), (Some(w.room_a), Some(250)));
    let (_, list) = get_as(&w, &pat_cookie, "/api/v1/team/rooms").await;
    assert_eq!(list["items"][0]["unread"], 50);

    // A 1:1 room: ag1 opens it; pat's open socket follows it at once, then the same cuts.
    let (s, room) = w.call(Who::Ag1, "POST", "/api/v1/team/direct", Some(json!({"agent_id": pat}))).await;
    assert_eq!(s, StatusCode::CREATED, "{room}");
    assert_eq!((room["kind"].as_str(), room["agent_id"].as_i64(), room["name"].as_str()), (Some("direct"), Some(pat), Some("pat")));
    let direct = room["id"].as_i64().unwrap();
    let joined = rx.sock.recv_type("team_room").await;
    assert_eq!(
        (joined["room"]["id"].as_i64(), joined["room"]["name"].as_str()),
        (Some(direct), Some("ag1")),
        "pat sees the room under ag1's name"
    );
    let (s, again) = w.call(Who::Ag1, "POST", "/api/v1/team/direct", Some(json!({"agent_id": pat}))).await;
    assert_eq!((s, again["id"].as_i64()), (StatusCode::OK, Some(direct)), "one room per pair");
    let mut rx = Receiver { sock: rx.sock, cookie: pat_cookie, room: direct, seen: vec![], reconnects: 0 };
    let acked = stream_with_cuts(&w.app.address, &w.ag1, &mut rx, direct, "p", 120, &[10, 33, 61, 90, 111]).await;
    assert_eq!(acked.len(), 120);
    rx.read(120, usize::MAX).await;
    assert!(rx.reconnects >= 2, "the receiver reconnected {} times", rx.reconnects);
    assert_eq!(rx.seen, (1..=120).collect::<Vec<_>>(), "pat saw a gap or a duplicate in the 1:1 room");
    assert_eq!(w.app.count("team_messages").await, N as i64 + 120);
}

/// The rooms each caller has, a 1:1 room only its two agents may read, history pages.
#[actix_web::test]
async fn rooms_belong_to_members_and_history_comes_in_pages() {
    let w = World::new().await;
    let names =
        |v: &Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect() };
    assert_eq!(names(&w.call(Who::Ag1, "GET", "/api/v1/team/rooms", None).await.1), ["Dept A"]);
    assert_eq!(names(&w.call(Who::Ag2, "GET", "/api/v1/team/rooms", None).await.1), ["Dept B"]);
    assert_eq!(names(&w.call(Who::Sup, "GET", "/api/v1/team/rooms", None).await.1), Vec::<String>::new(), "a supervisor in no department");
    assert_eq!(
        names(&w.call(Who::Admin, "GET", "/api/v1/team/rooms", None).await.1),
        ["Dept A", "Dept B"],
        "admins see every department's room"
    );
    assert_eq!(names(&w.call(Who::AdminToken, "GET", "/api/v1/team/rooms", None).await.1), Vec::<String>::new(), "a token is not a person");
    // A new department brings its room.
    let dept_c = w.department("Dept C").await;
    let (_, rooms) = w.call(Who::Admin, "GET", "/api/v1/team/rooms", None).await;
    assert!(rooms["items"].as_array().unwrap().iter().any(|r| r["department_id"] == dept_c), "{rooms}");

    // ag1 ↔ ag2: only the two of them.
    let (s, room) = w.call(Who::Ag1, "POST", "/api/v1/team/direct", Some(json!({"agent_id": w.ag2_id}))).await;
    assert_eq!(s, StatusCode::CREATED, "{room}");
    let direct = room["id"].as_i64().unwrap();
    let (mut ag1, _) = team_socket(&w.app.address, &w.ag1, &[]).await;
    for i in 1..=7 {
        ag1.send(json!({"type": "team_message", "room": direct, "client_id": format!("c{i}"), "body": format!("see ticket #{i}")})).await;
        assert_eq!(ag1.recv_type("team_ack").await["seq"], i);
    }
    let path = format!("/api/v1/team/rooms/{direct}/messages");
    for who in [Who::Sup, Who::Admin, Who::AdminToken] {
        let (s, body) = w.call(who, "GET", &path, None).await;
        assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{who:?} reads a 1:1 room");
    }
    let (_, ag2_rooms) = w.call(Who::Ag2, "GET", "/api/v1/team/rooms", None).await;
    let mine = ag2_rooms["items"].as_array().unwrap().iter().find(|r| r["id"] == direct).expect("ag2 has the room").clone();
    assert_eq!((mine["name"].as_str(), mine["agent_id"].as_i64(), mine["unread"].as_i64()), (Some("ag1"), Some(w.ag1_id), Some(7)));
    let (_, ag1_rooms) = w.call(Who::Ag1, "GET", "/api/v1/team/rooms", None).await;
    let own = ag1_rooms["items"].as_array().unwrap().iter().find(|r| r["id"] == direct).unwrap().clone();
    assert_eq!(own["unread"], 0, "your own messages are read");

    let seqs = |v: &Value| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect() };
    let (s, page) = w.call(Who::Ag2, "GET", &format!("{path}?limit=3"), None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!((seqs(&page), page["more"].as_bool()), (vec![5, 6, 7], Some(true)));
    assert_eq!(page["items"][0]["body"], "see ticket #5");
    assert_eq!(page["items"][0]["name"], "ag1");
    let (_, page) = w.call(Who::Ag2, "GET", &format!("{path}?limit=3&before=5"), None).await;
    assert_eq!((seqs(&page), page["more"].as_bool()), (vec![2, 3, 4], Some(true)));
    let (_, page) = w.call(Who::Ag2, "GET", &format!("{path}?before=2"), None).await;
    assert_eq!((seqs(&page), page["more"].as_bool()), (vec![1], Some(false)));
}

/// Bad input to the team routes and frames: a clear error, nothing stored changes.
#[actix_web::test]
async fn malformed_team_input_is_refused_and_changes_nothing() {
    let w = World::new().await;
    const TEAM: &[&str] = &["team_rooms", "team_messages", "team_reads"];
    let before = w.dump(TEAM).await;
    let path = format!("/api/v1/team/rooms/{}/messages", w.room_a);
    for (who, method, path, body, status, code) in [
        (Who::Ag1, "GET", format!("{path}?limit=0"), None, 400, "invalid_input"),
        (Who::Ag1, "GET", format!("{path}?limit=201"), None, 400, "invalid_input"),
        (Who::Ag1, "GET", format!("{path}?before=0"), None, 400, "invalid_input"),
        (Who::Ag1, "GET", format!("{path}?before=soon"), None, 400, "invalid_input"),
        (Who::Ag1, "GET", format!("{path}?page=2"), None, 400, "invalid_input"),
        (Who::Ag1, "GET", "/api/v1/team/rooms/abc/messages".to_string(), None, 404, "not_found"),
        (Who::Ag1, "GET", "/api/v1/team/rooms/999999/messages".to_string(), None, 404, "not_found"),
        (Who::Ag1, "POST", "/api/v1/team/direct".to_string(), Some(json!({})), 400, "invalid_input"),
        (Who::Ag1, "POST", "/api/v1/team/direct".to_string(), Some(json!({"agent_id": "ag2"})), 400, "invalid_input"),
        (Who::Ag1, "POST", "/api/v1/team/direct".to_string(), Some(json!({"agent_id": w.ag2_id, "x": 1})), 400, "unknown_field"),
        (Who::Ag1, "POST", "/api/v1/team/direct".to_string(), Some(json!({"agent_id": w.ag1_id})), 400, "invalid_input"),
        (Who::Ag1, "POST", "/api/v1/team/direct".to_string(), Some(json!({"agent_id": 999999})), 404, "not_found"),
        (Who::AdminToken, "POST", "/api/v1/team/direct".to_string(), Some(json!({"agent_id": w.ag1_id})), 400, "invalid_input"),
    ] {
        let (s, v) = w.call(who, method, &path, body.clone()).await;
        assert_eq!((s.as_u16(), v["error"]["code"].as_str()), (status, Some(code)), "{method} {path} {body:?}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A disabled colleague cannot be written to.
    let gone = w.agent("gone@shop.example", Role::Agent, vec![]).await;
    let (s, _) = w.call(Who::Admin, "PATCH", &format!("/api/v1/agents/{gone}"), Some(json!({"disabled": true}))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = w.call(Who::Ag1, "POST", "/api/v1/team/direct", Some(json!({"agent_id": gone}))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));

    let (mut s, _) = team_socket(&w.app.address, &w.ag1, &[]).await;
    let room = w.room_a;
    for (frame, code) in [
        (json!({"type": "team_message", "room": room, "client_id": "a b", "body": "hi"}), "invalid_frame"),
        (json!({"type": "team_message", "room": room, "client_id": "c1", "body": "  "}), "invalid_frame"),
        (json!({"type": "team_message", "room": room, "client_id": "c1", "body": "x".repeat(10_001)}), "too_large"),
        (json!({"type": "team_message", "room": room, "client_id": "c1", "body": "hi", "attachment": "t"}), "unknown_field"),
        (json!({"type": "team_message", "room": "A", "client_id": "c1", "body": "hi"}), "invalid_frame"),
        (json!({"type": "team_message", "room": 999999, "client_id": "c1", "body": "hi"}), "not_found"),
        (json!({"type": "team_typing", "room": room}), "invalid_frame"),
        (json!({"type": "team_typing", "room": 999999, "typing": true}), "not_found"),
        (json!({"type": "team_read", "room": room, "seq": -1}), "invalid_frame"),
        (json!({"type": "team_read", "room": 999999, "seq": 1}), "not_found"),
        (json!({"type": "team_shout", "room": room}), "unknown_type"),
    ] {
        s.send(frame.clone()).await;
        let answers = s.until_pong().await;
        let codes: Vec<&str> = answers.iter().filter(|a| a["type"] == "error").filter_map(|a| a["code"].as_str()).collect();
        assert_eq!(codes, [code], "{frame}: {answers:?}");
    }
    // A hello with a malformed team resume is refused like any bad hello.
    let mut bad = Ws::connect(&w.app.address, "/ws/agent", &w.app.address, Some(&w.ag1)).await.unwrap();
    bad.send(json!({"type": "hello", "v": 1, "team": [{"room": room}]})).await;
    assert_eq!(bad.recv_type("error").await["code"], "invalid_frame");
    assert_eq!(bad.ended().await, Ended::Closed(4000));
    assert_eq!(w.dump(TEAM).await, before, "refused input changed stored data");
}

/// Rights follow live changes: an agent taken out of a department stops receiving its room at
/// once (and may not write there); a disabled agent's socket closes.
#[actix_web::test]
async fn removed_and_disabled_agents_lose_rooms_live() {
    let w = World::new().await;
    let (mut ag1, _) = team_socket(&w.app.address, &w.ag1, &[]).await;
    let (mut admin, welcome) = team_socket(&w.app.address, &w.admin, &[]).await;
    assert_eq!(welcome["team"].as_array().unwrap().len(), 2);
    admin.send(json!({"type": "team_message", "room": w.room_a, "client_id": "a1", "body": "before"})).await;
    admin.recv_type("team_ack").await;
    assert_eq!(ag1.recv_type("team_message").await["body"], "before");

    let (s, _) = w.call(Who::Admin, "PATCH", &format!("/api/v1/agents/{}", w.ag1_id), Some(json!({"department_ids": [w.dept_b]}))).await;
    assert_eq!(s, StatusCode::OK);
    let rooms = ag1.recv_type("access").await;
    let ids: Vec<i64> = rooms["team"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(!ids.contains(&w.room_a) && ids.len() == 1, "{rooms}");
    admin.send(json!({"type": "team_message", "room": w.room_a, "client_id": "a2", "body": "after"})).await;
    admin.recv_type("team_ack").await;
    ag1.send(json!({"type": "team_message", "room": w.room_a, "client_id": "x1", "body": "still here?"})).await;
    let refused = ag1.recv_type("error").await;
    assert_eq!((refused["code"].as_str(), refused["ref"].as_str()), (Some("not_found"), Some("x1")));
    // The new department's room is followed from now on. The hub keeps order, so had "after"
    // been delivered it would come before this.
    let room_b = ids[0];
    admin.send(json!({"type": "team_message", "room": room_b, "client_id": "a3", "body": "welcome to B"})).await;
    let deadline = Deadline::secs(10, "the message in B");
    loop {
        deadline.check();
        let f = ag1.recv().await;
        assert_ne!(f["body"], "after", "a message of a room ag1 left reached it");
        if f["body"] == "welcome to B" {
            break;
        }
    }
    admin.send(json!({"type": "team_typing", "room": room_b, "typing": true})).await;
    let typing = ag1.recv_type("team_typing").await;
    assert_eq!((typing["room"].as_i64(), typing["name"].as_str(), typing["typing"].as_bool()), (Some(room_b), Some("admin"), Some(true)));

    let (s, _) = w.call(Who::Admin, "PATCH", &format!("/api/v1/agents/{}", w.ag1_id), Some(json!({"disabled": true}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ag1.ended().await, Ended::Closed(4001));
}

/// A visitor socket never receives an internal frame, whatever the agents do in their rooms,
/// and cannot send one.
#[actix_web::test]
async fn visitor_sockets_never_see_internal_chat() {
    let mut w = World::new().await;
    let mut visitor = w.visitor.take().unwrap();
    let (mut ag1, _) = team_socket(&w.app.address, &w.ag1, &[]).await;
    let (s, room) = w.call(Who::Ag1, "POST", "/api/v1/team/direct", Some(json!({"agent_id": w.admin_id}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let direct = room["id"].as_i64().unwrap();
    for (i, room) in [w.room_a, direct].into_iter().enumerate() {
        ag1.send(json!({"type": "team_typing", "room": room, "typing": true})).await;
        ag1.send(json!({"type": "team_message", "room": room, "client_id": format!("s{i}"), "body": "internal only"})).await;
        ag1.recv_type("team_ack").await;
        ag1.send(json!({"type": "team_read", "room": room, "seq": 1})).await;
    }
    // ag1 writes in the visitor's chat too: the visitor gets that, and only that.
    ag1.send(json!({"type": "message", "conversation": w.conv, "client_id": "v9", "body": "for the visitor"})).await;
    ag1.recv_type("ack").await;
    // The hub keeps order: anything internal sent to the visitor would arrive before this.
    let deadline = Deadline::secs(10, "the visitor's message");
    let mut got = Vec::new();
    while got.last().is_none_or(|f: &Value| f["body"] != "for the visitor") {
        deadline.check();
        got.push(visitor.recv().await);
    }
    got.extend(visitor.until_pong().await);
    for f in &got {
        let ty = f["type"].as_str().unwrap();
        assert!(!ty.starts_with("team"), "a visitor received {f}");
        assert!(!f.to_string().contains("internal only"), "a visitor received {f}");
    }
    for frame in [
        json!({"type": "team_message", "room": w.room_a, "client_id": "v1", "body": "let me in"}),
        json!({"type": "team_typing", "room": w.room_a, "typing": true}),
        json!({"type": "team_read", "room": w.room_a, "seq": 1}),
    ] {
        visitor.send(frame).await;
        let answers = visitor.until_pong().await;
        assert_eq!(answers.iter().filter(|a| a["type"] == "error" && a["code"] == "unknown_type").count(), 1, "{answers:?}");
    }
    assert_eq!(w.app.count("team_messages").await, 2);
}

/// Admins see every department's room: a department created while their console is open brings
/// its room at once (an `access` frame with it, followed from then on), and a deleted one takes
/// it away.
#[actix_web::test]
async fn admins_follow_new_and_deleted_department_rooms_live() {
    let w = World::new().await;
    let (mut admin, welcome) = team_socket(&w.app.address, &w.admin, &[]).await;
    assert_eq!(welcome["team"].as_array().unwrap().len(), 2);
    let dept = w.department("Dept C").await;
    let access = admin.recv_type("access").await;
    let room = access["team"].as_array().unwrap().iter().find(|r| r["department_id"] == dept).unwrap_or_else(|| panic!("{access}"))["id"]
        .as_i64()
        .unwrap();
    let cee = w.agent("cee@shop.example", Role::Agent, vec![dept]).await;
    let cee_cookie = w.app.cookie_header(&w.app.session_for(cee).await);
    let (mut cee_sock, _) = team_socket(&w.app.address, &cee_cookie, &[]).await;
    cee_sock.send(json!({"type": "team_message", "room": room, "client_id": "c1", "body": "first in C"})).await;
    cee_sock.recv_type("team_ack").await;
    assert_eq!(admin.recv_type("team_message").await["body"], "first in C");

    let (s, _) = w.call(Who::AdminToken, "DELETE", &format!("/api/v1/departments/{dept}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let access = admin.recv_type("access").await;
    assert!(!access["team"].as_array().unwrap().iter().any(|r| r["id"] == room), "{access}");
    assert_eq!(w.app.count("team_messages").await, 0, "the room's messages went with it");
}
