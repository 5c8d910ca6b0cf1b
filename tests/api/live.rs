//! Socket rights that follow live changes, read-only followers, visitor budgets shared across
//! sockets, and delivery that never drops a client that reads (issue 17: findings 5, 6, 7, 15,
//! 16c; SPEC S6, S7, A1).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use frontdesk::auth::Role;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::Message;

use crate::helpers::*;
use crate::ws::{self, Ended, Ws};

/// An accepting agent with a console session. Chats here wait in the Queue until accepted by
/// hand (`spawn_manual_app`), and only start while someone is accepting (SPEC W6).
async fn agent_cookie(app: &TestApp, email: &str, role: Role) -> (i64, String) {
    let id = app.add_agent(email, role).await;
    app.set_status(id, frontdesk::routing::AgentStatus::Accepting).await;
    (id, app.cookie_header(&app.session_for(id).await))
}

async fn admin_call(app: &TestApp, cookie: &str, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
    app.plain().request(method, app.url(path)).header("cookie", cookie).header("origin", &app.address).json(&body).send().await.unwrap()
}

async fn set_colleagues(app: &TestApp, admin: &str, on: bool) {
    let r = admin_call(app, admin, reqwest::Method::PATCH, "/api/v1/settings/chat", json!({"agents_see_colleagues": on})).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// A visitor's chat accepted by Bob. Returns (visitor socket, bob socket, conversation).
async fn bobs_chat(app: &TestApp, bob_cookie: &str) -> (Ws, Ws, i64) {
    let (mut visitor, _) = ws::visitor(&app.address, None, None).await;
    visitor.send(json!({"type": "message", "client_id": "m1", "body": "hi"})).await;
    let conv = visitor.recv_type("ack").await["conversation"].as_i64().unwrap();
    let (mut bob, _) = ws::agent(&app.address, bob_cookie).await;
    bob.send(json!({"type": "accept", "conversation": conv})).await;
    bob.recv_type("accepted").await;
    visitor.recv_type("status").await; // queued
    visitor.recv_type("status").await; // active
    (visitor, bob, conv)
}

/// Finding 5: a colleague following Bob's chat read-only gets an error frame for every write
/// frame, and nothing is stored or reaches the visitor.
#[actix_web::test]
async fn a_read_only_follower_cannot_write_into_a_colleagues_chat() {
    let app = spawn_manual_app().await;
    let (_, admin) = agent_cookie(&app, "root@shop.example", Role::Admin).await;
    set_colleagues(&app, &admin, true).await;
    let (_, ann_cookie) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let (_, bob_cookie) = agent_cookie(&app, "bob@shop.example", Role::Agent).await;
    let (mut visitor, mut bob, conv) = bobs_chat(&app, &bob_cookie).await;
    let (mut ann, _) = ws::agent(&app.address, &ann_cookie).await;
    ann.send(json!({"type": "open", "conversation": conv, "last_seq": 0})).await;
    ann.recv_type("opened").await;
    let before = (app.dump("messages").await, app.dump("conversations").await);

    let writes = [
        json!({"type": "typing", "conversation": conv, "typing": true}),
        json!({"type": "delivered", "conversation": conv, "seq": 2}),
        json!({"type": "read", "conversation": conv, "seq": 2}),
        json!({"type": "message", "conversation": conv, "client_id": "a1", "body": "let me"}),
        json!({"type": "end", "conversation": conv}),
    ];
    for w in &writes {
        ann.send(w.clone()).await;
        let e = ann.recv_type("error").await;
        assert_eq!(e["code"], "forbidden", "{w}: {e}");
    }
    assert_eq!((app.dump("messages").await, app.dump("conversations").await), before, "nothing stored");
    // The visitor saw none of it: the next frames are Bob's typing, not Ann's.
    bob.send(json!({"type": "typing", "conversation": conv, "typing": true})).await;
    let typing = visitor.recv_type("typing").await;
    assert_eq!(typing["name"], "bob", "the follower's typing never reached the visitor");
    // Bob, who has the chat, still may.
    bob.send(json!({"type": "read", "conversation": conv, "seq": 2})).await;
    assert_eq!(visitor.recv_type("receipt").await["read_seq"], 2);
}

/// Findings 6 and 7: an admin demotes a supervisor while the console socket is open. The change
/// is pushed to the socket (an `access` frame), the colleague's chat it followed is dropped, and
/// `open` / `end` on it are refused from then on.
#[actix_web::test]
async fn a_demoted_supervisor_loses_supervisor_rights_on_the_open_socket() {
    let app = spawn_manual_app().await;
    let (_, admin) = agent_cookie(&app, "root@shop.example", Role::Admin).await;
    set_colleagues(&app, &admin, false).await;
    let (sue_id, sue_cookie) = agent_cookie(&app, "sue@shop.example", Role::Supervisor).await;
    let (_, bob_cookie) = agent_cookie(&app, "bob@shop.example", Role::Agent).await;
    let (mut visitor, _bob, conv) = bobs_chat(&app, &bob_cookie).await;
    let (mut sue, welcome) = ws::agent(&app.address, &sue_cookie).await;
    assert_eq!(welcome["agent"]["role"], "supervisor");
    sue.send(json!({"type": "open", "conversation": conv, "last_seq": 0})).await;
    sue.recv_type("opened").await;

    let r = admin_call(&app, &admin, reqwest::Method::PATCH, &format!("/api/v1/agents/{sue_id}"), json!({"role": "agent"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let access = sue.recv_type("access").await;
    assert_eq!(access["role"], "agent");
    assert_eq!(access["unfollowed"], json!([conv]));

    // No longer followed: the visitor's next message does not reach the demoted socket.
    visitor.send(json!({"type": "message", "client_id": "m2", "body": "still there?"})).await;
    visitor.recv_type("ack").await;
    sue.send(json!({"type": "open", "conversation": conv, "last_seq": 0})).await;
    let e = sue.recv().await;
    assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some("error"), Some("not_found")), "{e}");
    sue.send(json!({"type": "end", "conversation": conv})).await;
    let e = sue.recv_type("error").await;
    assert_eq!(e["code"], "forbidden");
    let status: String =
        app.db.read(move |c| Ok(c.query_row("SELECT status FROM conversations WHERE id = ?1", [conv], |r| r.get(0))?)).await.unwrap();
    assert_eq!(status, "active", "the chat was not ended");

    // Promoted again: the same socket may open and end it.
    let r = admin_call(&app, &admin, reqwest::Method::PATCH, &format!("/api/v1/agents/{sue_id}"), json!({"role": "supervisor"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sue.recv_type("access").await["role"], "supervisor");
    sue.send(json!({"type": "open", "conversation": conv, "last_seq": 0})).await;
    sue.recv_type("opened").await;
    sue.send(json!({"type": "end", "conversation": conv})).await;
    assert_eq!(visitor.recv_type("status").await["status"], "ended");
}

/// Disable, logout and a password change reach open sockets at once (pushed, not waited for).
#[actix_web::test]
async fn disable_logout_and_password_change_close_the_right_sockets() {
    let app = spawn_manual_app().await;
    let (_, admin) = agent_cookie(&app, "root@shop.example", Role::Admin).await;
    // Ann is signed in twice (two browsers); logging out of one closes only that socket.
    let ann_id = app.add_agent("ann@shop.example", Role::Agent).await;
    let s1 = app.session_for(ann_id).await;
    let s2 = app.session_for(ann_id).await;
    let (mut sock1, _) = ws::agent(&app.address, &app.cookie_header(&s1)).await;
    let (mut sock2, _) = ws::agent(&app.address, &app.cookie_header(&s2)).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", app.cookie_header(&s1))
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(ended_within(&mut sock1, 3).await, Ended::Closed(4001));
    sock2.send(json!({"type": "ping"})).await;
    assert_eq!(sock2.recv_type("pong").await["type"], "pong", "the other session's socket stays");

    // Own password change: every other session's socket closes, this one stays.
    let r = app
        .plain()
        .post(app.url("/api/v1/me/password"))
        .header("cookie", app.cookie_header(&s2))
        .header("origin", &app.address)
        .json(&json!({"current_password": PASSWORD, "new_password": "another fine password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let s3 = app.session_for(ann_id).await;
    let (mut sock3, _) = ws::agent(&app.address, &app.cookie_header(&s3)).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/me/password"))
        .header("cookie", app.cookie_header(&s2))
        .header("origin", &app.address)
        .json(&json!({"current_password": "another fine password", "new_password": "yet another password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(ended_within(&mut sock3, 3).await, Ended::Closed(4001));
    sock2.send(json!({"type": "ping"})).await;
    assert_eq!(sock2.recv_type("pong").await["type"], "pong");

    // Disabled by an admin: closed.
    let r = admin_call(&app, &admin, reqwest::Method::PATCH, &format!("/api/v1/agents/{ann_id}"), json!({"disabled": true})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ended_within(&mut sock2, 3).await, Ended::Closed(4001));
}

/// Sessions ended behind the server's back (the CLI, another process) or by idle expiry close
/// their console sockets at the server's next session sweep (SPEC S6: within 1 s), with no
/// socket polling the database; a session that still stands keeps its socket.
#[actix_web::test]
async fn sessions_ended_elsewhere_or_expired_close_their_sockets_at_the_sweep() {
    let app = spawn_manual_app().await;
    let ann = app.add_agent("ann@shop.example", Role::Agent).await;
    let bob = app.add_agent("bob@shop.example", Role::Agent).await;
    let (mut ann_sock, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(ann).await)).await;
    let (mut bob_sock, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(bob).await)).await;
    // As `frontdesk agent disable` would: straight in the database, nobody tells the hub.
    app.db.write(move |c| frontdesk::auth::store::delete_agent_sessions(c, ann, None).map(|_| ())).await.unwrap();
    frontdesk::chat::agent_ws::sweep_sessions(&app.state).await;
    assert_eq!(ended_within(&mut ann_sock, 3).await, Ended::Closed(4001));
    bob_sock.send(json!({"type": "ping"})).await;
    assert_eq!(bob_sock.recv_type("pong").await["type"], "pong", "Bob's session stands");

    // Bob's session passes its idle time: the sweep ends it (by the manual clock).
    app.clock.advance(app.state.config.session_idle.as_millis() as i64 + 1);
    let (mut fresh, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(bob).await)).await;
    frontdesk::chat::agent_ws::sweep_sessions(&app.state).await;
    assert_eq!(ended_within(&mut bob_sock, 3).await, Ended::Closed(4001));
    fresh.send(json!({"type": "ping"})).await;
    assert_eq!(fresh.recv_type("pong").await["type"], "pong", "a session opened since stands");
}

/// Wait for the socket to end, failing after `secs` (the fallback session check runs far less
/// often, so ending within this deadline means the change was pushed).
async fn ended_within(ws: &mut Ws, secs: u64) -> Ended {
    let deadline = Deadline::secs(secs, "the socket to close after a pushed change");
    loop {
        deadline.check();
        match tokio::time::timeout(Duration::from_millis(200), ws.stream.next()).await {
            Err(_) => continue,
            Ok(Some(Ok(Message::Close(f)))) => return Ended::Closed(f.map(|f| u16::from(f.code)).unwrap_or(1005)),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) | Ok(None) => return Ended::Dropped,
        }
    }
}

// ---------------------------------------------------------------- visitor budgets (15)

async fn app_with_budgets(budgets: &[(&str, &str)]) -> TestApp {
    let budgets: Vec<(String, String)> = budgets.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let app = spawn_app_with(move |c| {
        for (k, v) in &budgets {
            let r = frontdesk::config::Rate::parse(v).unwrap();
            match k.as_str() {
                "message" => c.visitor_message_rate = r,
                "message_ip" => c.visitor_message_rate_ip = r,
                "page" => c.visitor_page_rate = r,
                "page_ip" => c.visitor_page_rate_ip = r,
                "typing" => c.visitor_typing_rate = r,
                "hello" => c.visitor_hello_rate = r,
                "hello_ip" => c.visitor_hello_rate_ip = r,
                other => panic!("{other}"),
            }
        }
    })
    .await;
    app.set_routing(|s| s.mode = frontdesk::routing::Mode::Manual).await;
    app
}

/// Send `n` messages on `ws`, return (acked, rate_limited) counts.
async fn send_and_count(ws: &mut Ws, prefix: &str, n: usize) -> (usize, usize) {
    for i in 0..n {
        ws.send(json!({"type": "message", "client_id": format!("{prefix}{i}"), "body": "hello"})).await;
    }
    let (mut acked, mut limited) = (0, 0);
    let deadline = Deadline::secs(30, "an answer to every message");
    while acked + limited < n {
        deadline.check();
        let f = ws.recv().await;
        match f["type"].as_str() {
            Some("ack") => acked += 1,
            Some("error") => {
                assert_eq!(f["code"], "rate_limited", "{f}");
                assert!(f["ref"].as_str().is_some_and(|r| r.starts_with(prefix)));
                assert!(f["message"].as_str().unwrap().contains("retry in"), "{f}");
                limited += 1;
            }
            _ => {}
        }
    }
    (acked, limited)
}

#[actix_web::test]
async fn the_message_budget_is_per_visitor_and_per_ip_across_sockets() {
    let app = app_with_budgets(&[("message", "5/10s"), ("message_ip", "8/10s")]).await;
    agent_cookie(&app, "ann@shop.example", Role::Agent).await; // someone accepting: chats can start
    let (mut first, w) = ws::visitor(&app.address, None, None).await;
    let token = w["token"].as_str().unwrap().to_string();
    let mut socks = vec![];
    for _ in 0..3 {
        socks.push(ws::visitor(&app.address, Some(&token), None).await.0);
    }
    let mut acked = send_and_count(&mut first, "a", 3).await.0;
    for (i, s) in socks.iter_mut().enumerate() {
        acked += send_and_count(s, &format!("s{i}x"), 3).await.0;
    }
    assert_eq!(acked, 5, "one budget for the visitor, however many sockets");
    // Another visitor from the same address: the IP budget (8) has 3 left.
    let (mut other, _) = ws::visitor(&app.address, None, None).await;
    assert_eq!(send_and_count(&mut other, "o", 5).await, (3, 2));
    // The window passes (manual clock): the budget is back.
    app.clock.advance(10_001);
    assert_eq!(send_and_count(&mut first, "b", 6).await, (5, 1));
    assert_eq!(app.count("messages").await, 13);
}

#[actix_web::test]
async fn reconnects_are_budgeted_per_visitor_and_per_ip() {
    let app = app_with_budgets(&[("hello", "3/1m"), ("hello_ip", "6/1m")]).await;
    let (_, w) = ws::visitor(&app.address, None, None).await; // hello 1
    let token = w["token"].as_str().unwrap().to_string();
    ws::visitor(&app.address, Some(&token), None).await; // 2
    ws::visitor(&app.address, Some(&token), None).await; // 3
    let mut s = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    s.send(json!({"type": "hello", "v": 1, "token": token})).await;
    let e = s.recv_type("error").await;
    assert_eq!(e["code"], "rate_limited");
    assert!(e["message"].as_str().unwrap().contains("retry in"), "{e}");
    assert_eq!(s.ended().await, Ended::Closed(1013));
    // Other visitors from the same address: the IP budget (6) allows three more hellos.
    for _ in 0..2 {
        ws::visitor(&app.address, None, None).await;
    }
    let mut s = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    s.send(json!({"type": "hello", "v": 1})).await;
    s.recv_type("welcome").await; // the 6th: the refused one above did not count
    let mut s = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    s.send(json!({"type": "hello", "v": 1})).await;
    assert_eq!(s.recv_type("error").await["code"], "rate_limited");
    assert_eq!(s.ended().await, Ended::Closed(1013));
    assert_eq!(app.count("visitors").await, 4, "refused hellos create nobody");
    app.clock.advance(60_001);
    ws::visitor(&app.address, Some(&token), None).await;
}

#[actix_web::test]
async fn page_frames_are_budgeted_and_typing_is_thinned() {
    let app = app_with_budgets(&[("page", "3/1m"), ("typing", "2/10s")]).await;
    let (_, cookie) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let (mut v, _) = ws::visitor(&app.address, None, None).await;
    let pages_before = app.count("page_views").await;
    for i in 0..5 {
        v.send(json!({"type": "page", "url": format!("https://shop.example/p{i}")})).await;
    }
    v.send(json!({"type": "ping"})).await;
    let mut limited = 0;
    let deadline = Deadline::secs(10, "the pong after the page frames");
    loop {
        deadline.check();
        let f = v.recv().await;
        if f["type"] == "pong" {
            break;
        }
        if f["type"] == "error" {
            assert_eq!(f["code"], "rate_limited");
            limited += 1;
        }
    }
    assert_eq!(limited, 2);
    assert_eq!(app.count("page_views").await - pages_before, 3);

    v.send(json!({"type": "message", "client_id": "m1", "body": "hi"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let (mut agent, _) = ws::agent(&app.address, &cookie).await;
    agent.send(json!({"type": "accept", "conversation": conv})).await;
    agent.recv_type("accepted").await;
    for i in 0..5 {
        v.send(json!({"type": "typing", "typing": i % 2 == 0})).await;
    }
    v.send(json!({"type": "message", "client_id": "m2", "body": "done typing"})).await;
    let mut typing = 0;
    let deadline = Deadline::secs(10, "the message after the typing frames");
    loop {
        deadline.check();
        let f = agent.recv().await;
        if f["type"] == "typing" {
            typing += 1;
        }
        if f["type"] == "message" && f["body"] == "done typing" {
            break;
        }
    }
    assert_eq!(typing, 2, "typing frames beyond the budget are dropped");
}

// ---------------------------------------------------------------- delivery (16c)

/// A client that pipelines thousands of messages and reads everything is never dropped as
/// "too slow": its own echoes must not overflow its queue while the socket task handles frames.
#[actix_web::test]
async fn a_pipelining_client_that_reads_everything_is_not_dropped() {
    let app = spawn_manual_app().await;
    agent_cookie(&app, "ann@shop.example", Role::Agent).await; // someone accepting: chats can start
    let (v, _) = ws::visitor(&app.address, None, None).await;
    let (mut sink, mut stream) = v.stream.split();
    const N: usize = 3000;
    let acks = Arc::new(AtomicUsize::new(0));
    let reader = {
        let acks = acks.clone();
        tokio::spawn(async move {
            let deadline = Deadline::secs(120, format!("{N} acks"));
            while acks.load(Ordering::Relaxed) < N {
                deadline.check_progress(|| format!("{} acks", acks.load(Ordering::Relaxed)));
                match tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("a frame within 10 s") {
                    Some(Ok(Message::Text(t))) => {
                        let f: Value = serde_json::from_str(t.as_str()).unwrap();
                        if f["type"] == "ack" {
                            acks.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(Ok(Message::Close(c))) => panic!("closed after {} acks: {c:?}", acks.load(Ordering::Relaxed)),
                    Some(Ok(_)) => {}
                    other => panic!("socket ended after {} acks: {other:?}", acks.load(Ordering::Relaxed)),
                }
            }
        })
    };
    for i in 0..N {
        let f = json!({"type": "message", "client_id": format!("m{i}"), "body": format!("message {i}")});
        sink.send(Message::Text(f.to_string().into())).await.unwrap();
    }
    reader.await.unwrap();
    assert_eq!(app.state.hub.stats().await.dropped_slow, 0);
}

/// …while a client that stops reading is still dropped (1013) instead of being buffered for.
#[actix_web::test]
async fn a_client_that_does_not_read_is_still_dropped() {
    let app = spawn_manual_app().await;
    let (_, cookie) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let (mut v, _) = ws::visitor(&app.address, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "hi"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let (agent, _) = ws::agent(&app.address, &cookie).await;
    let (mut sink, mut stream) = agent.stream.split();
    sink.send(Message::Text(json!({"type": "accept", "conversation": conv}).to_string().into())).await.unwrap();
    // The agent reads everything; the visitor reads nothing from here on.
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let body = "x".repeat(9_000);
    let deadline = Deadline::secs(120, "the silent visitor to be dropped");
    let mut sent = 0;
    while app.state.hub.stats().await.dropped_slow == 0 {
        deadline.check_progress(|| format!("{sent} messages sent"));
        assert!(sent < 4000, "not dropped after {sent} messages");
        for _ in 0..50 {
            let f = json!({"type": "message", "conversation": conv, "client_id": format!("a{sent}"), "body": body});
            sink.send(Message::Text(f.to_string().into())).await.unwrap();
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = app.state.hub.stats().await;
    assert_eq!((stats.dropped_slow, stats.visitors_online, stats.agents_online), (1, 0, 1), "the silent visitor, not the agent");
    assert_eq!(v.ended().await, Ended::Closed(1013), "the visitor is told to reconnect and resume");
    drain.abort();
}

// ---------------------------------------------------------------- replay in one pass (16d)

/// A visitor that asks for `history` gets a long chat's replay in a few `history` frames (in
/// seq order, `more` on all but the last) instead of one frame per message; live messages
/// still come as `message`. Without the flag, the replay is `message` frames as before.
#[actix_web::test]
async fn a_long_replay_comes_in_a_few_history_frames() {
    let app = spawn_manual_app().await;
    agent_cookie(&app, "ann@shop.example", Role::Agent).await; // someone accepting: chats can start
    let (v, w) = ws::visitor(&app.address, None, None).await;
    let token = w["token"].as_str().unwrap().to_string();
    let (mut sink, mut stream) = v.stream.split();
    const N: usize = 1500;
    let body = "y".repeat(1000);
    for i in 0..N {
        let f = json!({"type": "message", "client_id": format!("m{i}"), "body": format!("{i} {body}")});
        sink.send(Message::Text(f.to_string().into())).await.unwrap();
    }
    let (mut acks, mut conv) = (0, 0);
    let deadline = Deadline::secs(60, "the acks");
    while acks < N {
        deadline.check();
        if let Some(Ok(Message::Text(t))) = stream.next().await {
            let f: Value = serde_json::from_str(t.as_str()).unwrap();
            if f["type"] == "ack" {
                acks += 1;
                conv = f["conversation"].as_i64().unwrap();
            }
        }
    }

    let mut s = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    s.send(json!({"type": "hello", "v": 1, "token": token, "history": true, "resume": {"conversation": conv, "last_seq": 10}})).await;
    s.recv_type("welcome").await;
    let (mut frames, mut seqs) = (0, Vec::new());
    let deadline = Deadline::secs(30, "the history frames");
    loop {
        deadline.check();
        let f = s.recv().await;
        assert_eq!(f["type"], "history", "the whole replay is history frames: {}", &f.to_string()[..80]);
        assert_eq!(f["conversation"], conv);
        frames += 1;
        seqs.extend(f["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()));
        if f["more"] == false {
            break;
        }
    }
    assert_eq!(seqs, (11..=N as i64).collect::<Vec<_>>(), "after the resume point, in order, once each");
    assert!((2..=10).contains(&frames), "{frames} frames for {} messages of ~1 KB", N - 10);
    // Live messages after the replay: one `message` frame each.
    sink.send(Message::Text(json!({"type": "message", "client_id": "live", "body": "live"}).to_string().into())).await.unwrap();
    let m = s.recv_type("message").await;
    assert_eq!(m["seq"], N as i64 + 1);

    // Without the flag: one `message` frame per message, as before.
    let (mut old, _) = ws::visitor(&app.address, Some(&token), Some((conv, N as i64 - 2))).await;
    assert_eq!(old.recv().await["seq"], N as i64 - 1);
    assert_eq!(old.recv().await["type"], "message");
}
