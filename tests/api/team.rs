//! Team work in chats on the real server and real sockets (issue 11, SPEC C7/C8): transfer to
//! an agent and to a department (and the refusals), a supervisor's whisper that never reaches
//! the visitor (raw frames, replays, stored transcript, mail, ticket), take-over, and the status
//! colour thresholds in the chat settings.

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use frontdesk::routing::AgentStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws::{self, Ws};

/// An agent with this role, chat limit, departments and status, connected to the agent socket.
async fn agent(app: &TestApp, email: &str, role: Role, limit: i64, departments: Vec<i64>, status: AgentStatus) -> (i64, Ws) {
    let id = app.add_agent(email, role).await;
    let now = app.clock.now_ms();
    let patch = frontdesk::agents::AgentPatch { chat_limit: Some(limit), department_ids: Some(departments), ..Default::default() };
    app.db.write(move |c| frontdesk::agents::update(c, id, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
    app.set_status(id, status).await;
    let cookie = app.cookie_header(&app.session_for(id).await);
    let (ws, _) = ws::agent(&app.address, &cookie).await;
    (id, ws)
}

/// A visitor's first message: the socket and the chat.
async fn visitor_chat(app: &TestApp, body: &str) -> (Ws, i64) {
    let (v, conv, _) = visitor_chat_token(app, body).await;
    (v, conv)
}

/// The same, with the visitor's token (to reconnect as this visitor).
async fn visitor_chat_token(app: &TestApp, body: &str) -> (Ws, i64, String) {
    let (mut v, welcome) = ws::visitor(&app.address, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": body})).await;
    let ack = v.recv_type("ack").await;
    (v, ack["conversation"].as_i64().unwrap(), welcome["token"].as_str().unwrap().to_string())
}

/// Every frame until the first that matches, the match included.
async fn until(s: &mut Ws, what: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Deadline::secs(20, what.to_string());
    let mut out = Vec::new();
    loop {
        deadline.check();
        let f = s.recv().await;
        let done = pred(&f);
        out.push(f);
        if done {
            return out;
        }
    }
}

fn error_codes(frames: &[Value]) -> Vec<String> {
    frames.iter().filter(|f| f["type"] == "error").filter_map(|f| f["code"].as_str().map(str::to_string)).collect()
}

async fn department(app: &TestApp, admin: &reqwest::Client, name: &str) -> i64 {
    let r = admin.post(app.url("/api/v1/departments")).json(&json!({"name": name})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn agent_of(app: &TestApp, conv: i64) -> Option<i64> {
    app.db.read(move |c| Ok(frontdesk::chat::store::conv(c, conv)?.unwrap().agent_id)).await.unwrap()
}

#[actix_web::test]
async fn transfer_to_an_agent_with_a_note_the_receiver_sees_and_the_visitor_does_not() {
    let app = spawn_manual_app().await;
    let (ann, mut wa) = agent(&app, "ann@shop.example", Role::Agent, 3, vec![], AgentStatus::Accepting).await;
    let (bob, mut wb) = agent(&app, "bob@shop.example", Role::Agent, 3, vec![], AgentStatus::Accepting).await;
    let (mut v, conv) = visitor_chat(&app, "I want a refund").await;
    wa.send(json!({"type": "accept", "conversation": conv})).await;
    wa.recv_type("accepted").await;

    let note = "Order 77, refund approved by Ann";
    wa.send(json!({"type": "transfer", "conversation": conv, "agent_id": bob, "note": note})).await;
    // Bob's console follows the chat: `assigned`, then the transcript with the note line first
    // among the new lines, then the public hand-over line.
    let assigned = wb.recv_type("assigned").await;
    assert_eq!((assigned["conversation"]["id"].as_i64(), assigned["conversation"]["agent_id"].as_i64()), (Some(conv), Some(bob)));
    let replay = until(&mut wb, "the hand-over line", |f| f["event"]["code"] == "handed_over").await;
    let msgs: Vec<&Value> = replay.iter().filter(|f| f["type"] == "message").collect();
    let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "gap-free from the start");
    let note_line = msgs[msgs.len() - 2];
    assert_eq!(note_line["internal"], true, "{note_line}");
    assert_eq!(note_line["event"], json!({"code": "transferred_to_agent", "from": "ann", "to": "bob", "note": note}));
    assert_eq!(msgs[msgs.len() - 1]["event"], json!({"code": "handed_over", "name": "bob"}));
    assert!(msgs[msgs.len() - 1].get("internal").is_none(), "the hand-over line is public");
    // Ann's console hears the chat moved and can no longer write in it.
    let t = wa.recv_type("transferred").await;
    assert_eq!(
        t,
        json!({"type": "transferred", "conversation": conv, "from_agent": ann, "to_agent": bob, "to_department": null, "by": ann, "by_name": "ann"})
    );
    wa.send(json!({"type": "message", "conversation": conv, "client_id": "a2", "body": "still me?"})).await;
    assert_eq!(error_codes(&wa.until_pong().await), ["forbidden"]);

    // The visitor: the new agent's name and the neutral line, never the note.
    let seen = until(&mut v, "the hand-over line", |f| f["type"] == "message" && f["event"]["code"] == "handed_over").await;
    assert!(seen.iter().any(|f| f["type"] == "status" && f["status"] == "active" && f["agent_name"] == "bob"), "{seen:?}");
    for f in &seen {
        let raw = f.to_string();
        assert!(!raw.contains("refund approved") && !raw.contains("internal") && !raw.contains("transferred"), "leaked: {raw}");
    }
    // Bob continues; the visitor gets it.
    wb.send(json!({"type": "message", "conversation": conv, "client_id": "b1", "body": "Hi, Bob here"})).await;
    wb.recv_type("ack").await;
    let m = v.recv_type("message").await;
    assert_eq!((m["body"].as_str(), m["author"]["name"].as_str()), (Some("Hi, Bob here"), Some("bob")));
    assert_eq!(agent_of(&app, conv).await, Some(bob));

    // The agents report (SPEC R3): the chat counts once for each agent who had it, not only for
    // Bob, who has it now.
    app.add_agent("boss@shop.example", Role::Admin).await;
    let boss = app.login("boss@shop.example").await;
    let today = jiff::Timestamp::from_millisecond(app.clock.now_ms()).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date();
    let (from, to) = (today.yesterday().unwrap(), today.tomorrow().unwrap());
    let r = boss.get(app.url(&format!("/api/v1/reports/agents?from={from}&to={to}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    let chats = |id: i64| report["rows"].as_array().unwrap().iter().find(|r| r["agent_id"] == id).map(|r| r["chats"].clone());
    assert_eq!((chats(ann), chats(bob)), (Some(json!(1)), Some(json!(1))), "{report}");
}

#[actix_web::test]
async fn refused_transfers_say_why_and_change_nothing() {
    let app = spawn_manual_app().await;
    let admin = {
        app.add_agent("root@shop.example", Role::Admin).await;
        app.login("root@shop.example").await
    };
    let sales = department(&app, &admin, "Sales").await;
    let support = department(&app, &admin, "Support").await;
    let (_ann, mut wa) = agent(&app, "ann@shop.example", Role::Agent, 3, vec![sales], AgentStatus::Accepting).await;
    let (carol, mut wc) = agent(&app, "carol@shop.example", Role::Agent, 1, vec![sales], AgentStatus::Accepting).await;
    let (dan, _wd) = agent(&app, "dan@shop.example", Role::Agent, 3, vec![sales], AgentStatus::Accepting).await;
    let (ed, _we) = agent(&app, "ed@shop.example", Role::Agent, 3, vec![sales], AgentStatus::Accepting).await;
    let (frank, _wf) = agent(&app, "frank@shop.example", Role::Agent, 3, vec![support], AgentStatus::Accepting).await;
    let (_sue, mut ws_sue) = agent(&app, "sue@shop.example", Role::Supervisor, 3, vec![], AgentStatus::Accepting).await;
    let (_v1, c1) = visitor_chat(&app, "one").await;
    let (_v2, c2) = visitor_chat(&app, "two").await;
    app.db.write(move |c| Ok(c.execute("UPDATE conversations SET department_id = ?1", [sales])?)).await.unwrap();
    wa.send(json!({"type": "accept", "conversation": c1})).await;
    wa.recv_type("accepted").await;
    wc.send(json!({"type": "accept", "conversation": c2})).await;
    wc.recv_type("accepted").await;
    app.set_status(dan, AgentStatus::Offline).await;
    app.set_status(ed, AgentStatus::NotAccepting).await;
    wa.until_pong().await;

    let tables = ["conversations", "messages"];
    let before = (app.dump(tables[0]).await, app.dump(tables[1]).await);
    let cases = [
        (json!({"agent_id": carol}), "agent_full"),
        (json!({"agent_id": carol, "force": true}), "forbidden"),
        (json!({"agent_id": dan}), "agent_unavailable"),
        (json!({"agent_id": ed}), "agent_unavailable"),
        (json!({"agent_id": frank}), "not_in_department"),
        (json!({"agent_id": 99999}), "not_found"),
        (json!({"department_id": 99999}), "not_found"),
        (json!({}), "invalid_frame"),
        (json!({"agent_id": carol, "department_id": sales}), "invalid_frame"),
        (json!({"agent_id": "carol"}), "invalid_frame"),
        (json!({"agent_id": carol, "note": "n".repeat(2001)}), "too_large"),
    ];
    for (target, want) in cases {
        let mut f = json!({"type": "transfer", "conversation": c1});
        for (k, val) in target.as_object().unwrap() {
            f[k] = val.clone();
        }
        wa.send(f.clone()).await;
        let answers = wa.until_pong().await;
        assert_eq!(error_codes(&answers), [want], "{f}: {answers:?}");
        let e = answers.iter().find(|a| a["type"] == "error").unwrap();
        assert!(!e["message"].as_str().unwrap().is_empty(), "a clear message: {e}");
    }
    // Not the chat's agent: Carol may read Ann's chat but not hand it on.
    wc.send(json!({"type": "transfer", "conversation": c1, "agent_id": frank})).await;
    assert_eq!(error_codes(&wc.until_pong().await), ["forbidden"]);
    assert_eq!((app.dump(tables[0]).await, app.dump(tables[1]).await), before, "refused transfers changed stored data");

    // A supervisor may push it past Carol's limit.
    ws_sue.send(json!({"type": "transfer", "conversation": c1, "agent_id": carol, "force": true})).await;
    let t = ws_sue.recv_type("transferred").await;
    assert_eq!(t["to_agent"], carol);
    assert_eq!(agent_of(&app, c1).await, Some(carol));
    let load = app.db.read(move |c| frontdesk::routing::store::load(c, carol)).await.unwrap().unwrap();
    assert_eq!(load, (1, 2), "Carol over her limit by a supervisor's decision");
    let audit = app.dump("audit_log").await;
    let row = audit.iter().find(|r| r.contains("chat.transfer")).expect("the supervisor's transfer is audited");
    assert!(row.contains(&format!("conversation:{c1}")) && row.contains("beyond_limit") && row.contains("sue@shop.example"), "{row}");
}

#[actix_web::test]
async fn transfer_to_a_department_queues_the_chat_there_with_its_position() {
    let app = spawn_app().await;
    let admin = {
        let id = app.add_agent("root@shop.example", Role::Admin).await;
        let client = app.login("root@shop.example").await;
        // Signing in made the admin accepting; this test routes to Ann and Bob only.
        app.set_status(id, AgentStatus::Offline).await;
        client
    };
    let sales = department(&app, &admin, "Sales").await;
    let (ann, mut wa) = agent(&app, "ann@shop.example", Role::Agent, 3, vec![], AgentStatus::Accepting).await;
    let (bob, mut wb) = agent(&app, "bob@shop.example", Role::Agent, 3, vec![sales], AgentStatus::NotAccepting).await;
    let (mut v, conv) = visitor_chat(&app, "Do you sell in bulk?").await;
    assert_eq!(v.recv_type("status").await["status"], "active");
    assert_eq!(agent_of(&app, conv).await, Some(ann));
    wa.recv_type("assigned").await;

    // Ten minutes of chat with Ann: the wait in Sales' queue starts at the transfer, so the
    // widget does not at once offer to leave a message (retention) to a visitor who just came.
    app.clock.advance(600_000);
    wa.send(json!({"type": "transfer", "conversation": conv, "department_id": sales, "note": "bulk order, 500 pcs"})).await;
    let t = wa.recv_type("transferred").await;
    assert_eq!((t["to_department"].as_i64(), t["to_agent"].as_i64(), t["from_agent"].as_i64()), (Some(sales), None, Some(ann)));
    // The visitor: the neutral line, then its place in Sales' queue (nobody there accepts yet).
    let seen = until(&mut v, "a queue place", |f| f["type"] == "status" && f["status"] == "queued").await;
    let line = seen.iter().rev().find(|f| f["type"] == "message").expect("the hand-over line");
    assert_eq!(line["event"], json!({"code": "handed_to_department", "department": "Sales"}));
    let queued = seen.last().unwrap();
    assert_eq!((queued["position"].as_i64(), queued["waited_s"].as_i64()), (Some(1), Some(0)), "{queued}");
    assert!(!seen.iter().any(|f| f.to_string().contains("500 pcs")), "the note stays internal: {seen:?}");
    let row = app.db.read(move |c| frontdesk::chat::store::conversation_view(c, conv)).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.agent_id, row.department_id), ("queued", None, Some(sales)));
    // Ann, outside Sales, does not get it back although she has free slots; Bob does once he
    // accepts, and reads the note.
    app.set_status(bob, AgentStatus::Accepting).await;
    frontdesk::routing::dispatch(&app.state).await;
    let a = wb.recv_type("assigned").await;
    assert_eq!(a["conversation"]["id"], conv);
    let replay = until(&mut wb, "the note line", |f| f["event"]["code"] == "transferred_to_department").await;
    assert_eq!(replay.last().unwrap()["event"]["note"], "bulk order, 500 pcs");
    let s = v.recv_type("status").await;
    assert_eq!((s["status"].as_str(), s["agent_name"].as_str()), (Some("active"), Some("bob")));
}

#[actix_web::test]
async fn a_whisper_reaches_agents_only_never_the_visitor_socket_replay_or_transcript() {
    let app = spawn_manual_app().await;
    let (_ann, mut wa) = agent(&app, "ann@shop.example", Role::Agent, 3, vec![], AgentStatus::Accepting).await;
    let (sue, mut wsue) = agent(&app, "sue@shop.example", Role::Supervisor, 3, vec![], AgentStatus::Accepting).await;
    let (mut v, conv, token) = visitor_chat_token(&app, "Is there a discount?").await;
    wa.send(json!({"type": "accept", "conversation": conv})).await;
    wa.recv_type("accepted").await;
    wsue.send(json!({"type": "open", "conversation": conv, "last_seq": 0})).await;
    wsue.recv_type("opened").await;

    let secret = "Offer 10% but not more";
    wsue.send(json!({"type": "whisper", "conversation": conv, "client_id": "w1", "body": secret})).await;
    let ack = wsue.recv_type("ack").await;
    let wseq = ack["seq"].as_i64().unwrap();
    let got = until(&mut wa, "the whisper", |f| f["type"] == "message" && f["body"] == secret).await;
    let w = got.last().unwrap();
    assert_eq!((w["internal"].as_bool(), w["author"]["agent_id"].as_i64(), w["seq"].as_i64()), (Some(true), Some(sue), Some(wseq)));
    // The same client id again: the same message, nothing new stored.
    let n = app.count("messages").await;
    wsue.send(json!({"type": "whisper", "conversation": conv, "client_id": "w1", "body": secret})).await;
    assert_eq!(wsue.recv_type("ack").await["seq"], wseq);
    assert_eq!(app.count("messages").await, n);

    // Ann answers the visitor; the visitor's raw frames up to that answer carry no whisper.
    wa.send(json!({"type": "message", "conversation": conv, "client_id": "a1", "body": "We have 5% today"})).await;
    wa.recv_type("ack").await;
    let seen = until(&mut v, "Ann's answer", |f| f["type"] == "message" && f["body"] == "We have 5% today").await;
    assert_eq!(seen.last().unwrap()["seq"], wseq + 1, "the answer follows the whisper's seq");
    for f in &seen {
        let raw = f.to_string();
        assert!(!raw.contains("Offer 10%") && !raw.contains("\"internal\""), "the visitor saw: {raw}");
    }
    // A reconnecting visitor's replay (one frame per message, and `history` frames) skips it.
    drop(v);
    for history in [false, true] {
        let mut r = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
        r.send(json!({"type": "hello", "v": 1, "token": token, "history": history, "resume": {"conversation": conv, "last_seq": 0}})).await;
        let frames = r.until_pong().await;
        let mut seqs = Vec::new();
        for f in &frames {
            assert!(!f.to_string().contains("Offer 10%"), "replay leaked: {f}");
            match f["type"].as_str() {
                Some("message") => seqs.push(f["seq"].as_i64().unwrap()),
                Some("history") => seqs.extend(f["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap())),
                _ => {}
            }
        }
        assert!(seqs.contains(&(wseq + 1)) && !seqs.contains(&wseq), "history={history}: {seqs:?}");
    }
    // Stored: agents read it through the API; the transcript mail and a ticket made from the chat do not carry it.
    let ann_client = app.login("ann@shop.example").await;
    let msgs: Value =
        ann_client.get(app.url(&format!("/api/v1/conversations/{conv}/messages"))).send().await.unwrap().json().await.unwrap();
    assert!(msgs.to_string().contains("Offer 10%"), "agents read whispers in the transcript: {msgs}");
    let r = ann_client
        .post(app.url(&format!("/api/v1/conversations/{conv}/transcript")))
        .json(&json!({"email": "visitor@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    let outbox = app.dump("outbox").await;
    assert!(outbox.iter().any(|row| row.contains("We have 5% today")), "the transcript went out: {outbox:?}");
    assert!(!outbox.iter().any(|row| row.contains("Offer 10%")), "the transcript mail carries the whisper: {outbox:?}");
    let r = ann_client.post(app.url(&format!("/api/v1/conversations/{conv}/ticket"))).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let tm = app.dump("ticket_messages").await;
    assert!(tm.iter().any(|row| row.contains("We have 5% today")) && !tm.iter().any(|row| row.contains("Offer 10%")), "{tm:?}");
    // The visitor's earlier chats (shown when they come back) hold what they saw, not the whisper.
    wa.send(json!({"type": "end", "conversation": conv})).await;
    until(&mut wa, "the end of the chat", |f| f["type"] == "chat" && f["op"] == "ended").await;
    let earlier: Value = reqwest::Client::new()
        .get(app.url("/api/v1/widget/chats"))
        .header("X-Visitor-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = earlier.to_string();
    assert!(text.contains("We have 5% today") && !text.contains("Offer 10%"), "earlier chats carry the whisper: {text}");

    // Ann, an agent, can neither whisper nor take over, and nothing changes.
    let before = (app.dump("conversations").await, app.dump("messages").await);
    wa.send(json!({"type": "whisper", "conversation": conv, "client_id": "w2", "body": "me too"})).await;
    wa.send(json!({"type": "take_over", "conversation": conv})).await;
    let answers = wa.until_pong().await;
    assert_eq!(error_codes(&answers), ["forbidden", "forbidden"]);
    assert_eq!(answers.iter().filter(|a| a["type"] == "error" && a["ref"] == "w2").count(), 1, "the refused whisper names its client_id");
    assert_eq!((app.dump("conversations").await, app.dump("messages").await), before);
}

#[actix_web::test]
async fn take_over_makes_the_supervisor_the_writing_agent_and_tells_the_former_one() {
    let app = spawn_manual_app().await;
    let (ann, mut wa) = agent(&app, "ann@shop.example", Role::Agent, 3, vec![], AgentStatus::Accepting).await;
    let (sue, mut wsue) = agent(&app, "sue@shop.example", Role::Supervisor, 3, vec![], AgentStatus::NotAccepting).await;
    let (mut v, conv) = visitor_chat(&app, "Where is my parcel?").await;
    wa.send(json!({"type": "accept", "conversation": conv})).await;
    wa.recv_type("accepted").await;

    wsue.send(json!({"type": "take_over", "conversation": conv})).await;
    let a = wsue.recv_type("assigned").await;
    assert_eq!(a["conversation"]["agent_id"], sue);
    let told = wa.recv_type("taken_over").await;
    assert_eq!(told, json!({"type": "taken_over", "conversation": conv, "from_agent": ann, "agent_id": sue, "name": "sue"}));
    assert_eq!(agent_of(&app, conv).await, Some(sue));
    let audit = app.dump("audit_log").await;
    assert!(audit.iter().any(|r| r.contains("chat.take_over") && r.contains(&format!("conversation:{conv}"))), "{audit:?}");
    // The visitor learns the new name; the internal line stays with the agents.
    let seen = until(&mut v, "the hand-over line", |f| f["event"]["code"] == "handed_over").await;
    assert!(seen.iter().any(|f| f["type"] == "status" && f["agent_name"] == "sue"), "{seen:?}");
    assert!(!seen.iter().any(|f| f.to_string().contains("took over")), "{seen:?}");
    // Ann can no longer write; Sue can, and the visitor gets it from her.
    wa.send(json!({"type": "message", "conversation": conv, "client_id": "a9", "body": "hello?"})).await;
    assert_eq!(error_codes(&wa.until_pong().await), ["forbidden"]);
    wsue.send(json!({"type": "message", "conversation": conv, "client_id": "s1", "body": "Sue here, it ships today"})).await;
    wsue.recv_type("ack").await;
    let m = v.recv_type("message").await;
    assert_eq!((m["author"]["agent_id"].as_i64(), m["body"].as_str()), (Some(sue), Some("Sue here, it ships today")));
    // Taking over twice, or a queued chat, is refused.
    wsue.send(json!({"type": "take_over", "conversation": conv})).await;
    assert_eq!(error_codes(&wsue.until_pong().await), ["conflict"]);
    let (_v2, queued) = visitor_chat(&app, "anyone?").await;
    wsue.send(json!({"type": "take_over", "conversation": queued})).await;
    assert_eq!(error_codes(&wsue.until_pong().await), ["conflict"]);
}

#[actix_web::test]
async fn status_colour_thresholds_are_chat_settings_and_bad_values_change_nothing() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let admin = app.login("root@shop.example").await;
    let ann = app.login("ann@shop.example").await;
    let s: Value = ann.get(app.url("/api/v1/settings/chat")).send().await.unwrap().json().await.unwrap();
    assert_eq!((s["reply_overdue_s"].as_i64(), s["visitor_idle_s"].as_i64()), (Some(120), Some(300)), "defaults, readable by agents: {s}");
    let before = app.dump("settings").await;
    for (body, code) in [
        (json!({"reply_overdue_s": 5}), "invalid_input"),
        (json!({"visitor_idle_s": 86_401}), "invalid_input"),
        (json!({"reply_overdue_s": "60"}), "invalid_input"),
        (json!({"reply_overdue_s": 60, "visitor_idle_s": -1}), "invalid_input"),
        (json!({"red_after_s": 60}), "unknown_field"),
    ] {
        let r = admin.patch(app.url("/api/v1/settings/chat")).json(&body).send().await.unwrap();
        assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, code.to_string()), "{body}");
    }
    assert_eq!(app.dump("settings").await, before, "refused settings changed nothing");
    let r = ann.patch(app.url("/api/v1/settings/chat")).json(&json!({"reply_overdue_s": 60})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r =
        admin.patch(app.url("/api/v1/settings/chat")).json(&json!({"reply_overdue_s": 45, "visitor_idle_s": 600})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = ann.get(app.url("/api/v1/settings/chat")).send().await.unwrap().json().await.unwrap();
    assert_eq!((s["reply_overdue_s"].as_i64(), s["visitor_idle_s"].as_i64()), (Some(45), Some(600)));
}
