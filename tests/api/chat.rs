//! Live chat over the real sockets: the happy path, resume, loss-free delivery under
//! disconnects, attachments, authorization and malformed frames.

use std::collections::BTreeMap;

use frontdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::Message;

use crate::helpers::*;
use crate::ws::{self, Ended, Ws};

/// An accepting agent with a console session. These tests exercise the Queue list and
/// accepting by hand, so they run with manual routing (`spawn_manual_app`).
async fn agent_cookie(app: &TestApp, email: &str, role: Role) -> (i64, String) {
    let id = app.add_agent(email, role).await;
    app.set_status(id, frontdesk::routing::AgentStatus::Accepting).await;
    (id, app.cookie_header(&app.session_for(id).await))
}

#[actix_web::test]
async fn visitor_and_agent_chat_end_to_end_with_resume() {
    let app = spawn_manual_app().await;
    let (_, cookie) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let (mut agent, welcome) = ws::agent(&app.address, &cookie).await;
    assert_eq!(welcome["queue"], json!([]));
    let (mut v, vw) = ws::visitor(&app.address, None, None).await;
    let token = vw["token"].as_str().unwrap().to_string();
    assert!(vw["conversation"].is_null());
    assert_eq!(vw["sneak_peek"], true);

    v.send(json!({"type": "message", "client_id": "m1", "body": "Hello, do you ship to Kraków?"})).await;
    let ack = v.recv_type("ack").await;
    assert_eq!((ack["client_id"].as_str(), ack["seq"].as_i64()), (Some("m1"), Some(1)));
    let conv = ack["conversation"].as_i64().unwrap();
    let queued = agent.recv_type("queue").await;
    assert_eq!((queued["op"].as_str(), queued["conversation"]["id"].as_i64()), (Some("add"), Some(conv)));
    assert_eq!(queued["conversation"]["preview"], "Hello, do you ship to Kraków?");

    agent.send(json!({"type": "accept", "conversation": conv})).await;
    let accepted = agent.recv_type("accepted").await;
    assert_eq!(accepted["conversation"]["status"], "active");
    // The agent catches up on the transcript it has not seen.
    let first = agent.recv_type("message").await;
    assert_eq!((first["seq"].as_i64(), first["author"]["kind"].as_str()), (Some(1), Some("visitor")));
    assert_eq!(v.recv_type("status").await["status"], "queued");
    let status = v.recv_type("status").await;
    assert_eq!((status["status"].as_str(), status["agent_name"].as_str()), (Some("active"), Some("ann")));
    let joined = v.recv_type("message").await;
    assert_eq!((joined["seq"].as_i64(), joined["author"]["kind"].as_str()), (Some(2), Some("system")));

    // Sneak peek: the agent sees the draft; the visitor sees the agent typing.
    v.send(json!({"type": "typing", "typing": true, "draft": "Also, do you"})).await;
    let typing = agent.recv_type("typing").await;
    assert_eq!((typing["who"].as_str(), typing["draft"].as_str()), (Some("visitor"), Some("Also, do you")));
    agent.send(json!({"type": "typing", "conversation": conv, "typing": true})).await;
    let typing = v.recv_type("typing").await;
    assert_eq!((typing["who"].as_str(), typing["name"].as_str()), (Some("agent"), Some("ann")));

    agent.send(json!({"type": "message", "conversation": conv, "client_id": "a1", "body": "Yes, in 2 days."})).await;
    assert_eq!(agent.recv_type("ack").await["seq"], 3);
    let reply = v.recv_type("message").await;
    assert_eq!(
        (reply["seq"].as_i64(), reply["body"].as_str(), reply["author"]["name"].as_str()),
        (Some(3), Some("Yes, in 2 days."), Some("ann"))
    );

    // Receipts: delivered and read reach the visitor.
    agent.send(json!({"type": "read", "conversation": conv, "seq": 1})).await;
    let receipt = v.recv_type("receipt").await;
    assert_eq!((receipt["delivered_seq"].as_i64(), receipt["read_seq"].as_i64()), (Some(1), Some(1)));
    v.send(json!({"type": "read", "seq": 3})).await;
    assert_eq!(agent.recv_type("read").await["seq"], 3);

    // The visitor reloads the page: same identity, same conversation, only what was missed.
    v.cut();
    let (mut v, vw) = ws::visitor(&app.address, Some(&token), Some((conv, 1))).await;
    assert_eq!(vw["token"], token.as_str());
    assert_eq!(vw["conversation"]["id"], conv);
    assert_eq!(vw["conversation"]["agent_read_seq"], 1);
    assert_eq!(v.recv_type("message").await["seq"], 2);
    assert_eq!(v.recv_type("message").await["seq"], 3);
    // A resent message (lost ack) is stored once and acknowledged with the same seq.
    v.send(json!({"type": "message", "client_id": "m1", "body": "Hello, do you ship to Kraków?"})).await;
    assert_eq!(v.recv_type("ack").await["seq"], 1);

    // The visitor panel knows where they came from.
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let c = app.plain();
    let detail: Value = c
        .get(app.url(&format!("/api/v1/conversations/{conv}")))
        .header("cookie", app.cookie_header(&app.session_for(admin).await))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["messages"].as_array().unwrap().len(), 3);
    let visitor = &detail["visitor"];
    assert_eq!(visitor["search_query"], "red shoes");
    assert_eq!(visitor["timezone"], "Europe/Warsaw");
    assert_eq!(visitor["current_url"], "https://shop.example/products/red-shoes");
    assert_eq!(visitor["pages"].as_array().unwrap().len(), 1, "a reload is not a new page view");

    // Ending: the visitor sees it, the archive finds it by text.
    agent.send(json!({"type": "end", "conversation": conv})).await;
    let ended = v.recv_type("status").await;
    assert_eq!((ended["status"].as_str(), ended["outcome"].as_str()), (Some("ended"), Some("served")));
    let found: Value =
        c.get(app.url("/api/v1/conversations?status=ended&q=krak")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["items"][0]["id"], conv);
    let none: Value = c
        .get(app.url("/api/v1/conversations?status=ended&q=nothinglikethis"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]));
}

/// SPEC S1: 1,000 messages, the connection cut at 25 random points; every acknowledged message
/// is stored exactly once, in order, and the agent sees seq 1, 2, 3, … without a gap.
#[actix_web::test]
async fn no_message_lost_or_duplicated_across_disconnects() {
    let app = spawn_manual_app().await;
    let (_, cookie) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let (mut agent, _) = ws::agent(&app.address, &cookie).await;
    let (mut v, vw) = ws::visitor(&app.address, None, None).await;
    let token = vw["token"].as_str().unwrap().to_string();

    const N: usize = 1000;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next_rand = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut cuts: Vec<usize> = (0..25).map(|_| 1 + (next_rand() % (N as u64 - 2)) as usize).collect();
    cuts.sort_unstable();
    cuts.dedup();
    assert!(cuts.len() >= 20);

    let mut acked: BTreeMap<usize, i64> = BTreeMap::new();
    let mut conv: Option<i64> = None;
    let mut sent = 0usize;
    let mut reconnects = 0;
    let deadline = Deadline::secs(120, format!("{N} acks across 25 cuts"));
    while acked.len() < N {
        deadline.check_progress(|| format!("{} acked", acked.len()));
        // Send a window of messages, then read acks; cut mid-window at the chosen points.
        let window_end = (sent + 40).min(N);
        for i in sent..window_end {
            v.send(json!({"type": "message", "client_id": format!("m{i}"), "body": format!("message {i}")})).await;
        }
        sent = window_end;
        let cut_here = cuts.first().is_some_and(|&c| c < sent);
        if cut_here {
            cuts.remove(0);
            // Read a few acks (some messages were acknowledged, others are in flight), then cut.
            for _ in 0..(next_rand() % 5) {
                if let Ok(f) = v.next().await
                    && f["type"] == "ack"
                {
                    acked.insert(f["client_id"].as_str().unwrap()[1..].parse().unwrap(), f["seq"].as_i64().unwrap());
                    conv = f["conversation"].as_i64();
                }
            }
            v.cut();
            reconnects += 1;
            let (nv, _) = ws::visitor(&app.address, Some(&token), conv.map(|c| (c, 0))).await;
            v = nv;
            // Resend everything not acknowledged, in order (the server deduplicates by client id).
            let unacked: Vec<usize> = (0..sent).filter(|i| !acked.contains_key(i)).collect();
            for i in unacked {
                v.send(json!({"type": "message", "client_id": format!("m{i}"), "body": format!("message {i}")})).await;
            }
        }
        // Collect acks until every sent message is acknowledged.
        while (0..sent).any(|i| !acked.contains_key(&i)) {
            deadline.check_progress(|| format!("{} of {sent} sent acked", acked.len()));
            let f = v.recv().await;
            if f["type"] == "ack" {
                acked.insert(f["client_id"].as_str().unwrap()[1..].parse().unwrap(), f["seq"].as_i64().unwrap());
                conv = f["conversation"].as_i64();
            }
        }
    }
    assert!(reconnects >= 20, "{reconnects} reconnects");
    let conv = conv.unwrap();

    // Acks are dense and in send order: message i has seq i + 1.
    for (i, seq) in &acked {
        assert_eq!(*seq, *i as i64 + 1, "message {i}");
    }
    // Stored exactly once each, in order.
    let stored: Vec<(i64, String)> = app
        .db
        .read(move |c| {
            let mut st = c.prepare("SELECT seq, client_id FROM messages WHERE conversation_id = ?1 ORDER BY seq")?;
            Ok(st.query_map([conv], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), N);
    for (i, (seq, cid)) in stored.iter().enumerate() {
        assert_eq!((*seq, cid.as_str()), (i as i64 + 1, format!("m{i}").as_str()));
    }
    // The agent (following the queue) opens the chat and receives 1..N without gaps.
    agent.send(json!({"type": "open", "conversation": conv, "last_seq": 0})).await;
    let mut expect = 1;
    let deadline = Deadline::secs(60, format!("the agent to receive messages 1..={N}"));
    while expect <= N as i64 {
        deadline.check_progress(|| format!("next expected seq {expect}"));
        let f = agent.recv().await;
        if f["type"] == "message" {
            assert_eq!(f["seq"].as_i64(), Some(expect), "agent saw a gap or a duplicate");
            expect += 1;
        }
    }
}

/// A chat with one visitor message, accepted by Bob; Ann is another agent. Every refusal test
/// starts here and ends by checking that nothing stored changed and the server still answers.
pub(crate) struct Refusals {
    pub app: TestApp,
    pub visitor: Ws,
    conv: i64,
    pub ann: String,
    before: (Vec<String>, Vec<String>),
}

impl Refusals {
    pub async fn new() -> Refusals {
        let app = spawn_manual_app().await;
        let (_, ann) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
        let (_, bob_cookie) = agent_cookie(&app, "bob@shop.example", Role::Agent).await;
        let (mut visitor, _) = ws::visitor(&app.address, None, None).await;
        visitor.send(json!({"type": "message", "client_id": "m1", "body": "hi"})).await;
        let conv = visitor.recv_type("ack").await["conversation"].as_i64().unwrap();
        let (mut bob, _) = ws::agent(&app.address, &bob_cookie).await;
        bob.send(json!({"type": "accept", "conversation": conv})).await;
        bob.recv_type("accepted").await;
        let before = (app.dump("messages").await, app.dump("conversations").await);
        Refusals { app, visitor, conv, ann, before }
    }

    /// Send raw text frames on the visitor socket; each must get an error frame with `code`.
    async fn visitor_errors(&mut self, cases: &[(String, &str)]) {
        for (frame, code) in cases {
            self.visitor.send_raw(Message::Text(frame.clone().into())).await;
            let e = self.visitor.recv_type("error").await;
            assert_eq!(e["code"], *code, "{}", &frame[..frame.len().min(60)]);
        }
    }

    pub async fn unchanged(self) {
        assert_eq!((self.app.dump("messages").await, self.app.dump("conversations").await), self.before, "stored data unchanged");
        assert_eq!(self.app.plain().get(self.app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK, "server fine");
    }
}

#[actix_web::test]
async fn malformed_frames_get_an_error_frame() {
    let mut r = Refusals::new().await;
    r.visitor_errors(&[("not json".into(), "invalid_json"), ("{".into(), "invalid_json"), ("[1,2]".into(), "invalid_frame")]).await;
    r.visitor.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(r.visitor.recv_type("error").await["code"], "unsupported");
    r.unchanged().await;
}

#[actix_web::test]
async fn unknown_types_and_fields_get_an_error_frame() {
    let mut r = Refusals::new().await;
    r.visitor_errors(&[
        (r#"{"type":"launch"}"#.into(), "unknown_type"),
        (r#"{"type":"message","client_id":"m9","body":"hi","admin":true}"#.into(), "unknown_field"),
        (r#"{"type":"message","client_id":"x y","body":"hi"}"#.into(), "invalid_frame"),
        (r#"{"type":"read","seq":-5}"#.into(), "invalid_frame"),
        (r#"{"type":"hello","v":1}"#.into(), "invalid_frame"),
    ])
    .await;
    r.unchanged().await;
}

#[actix_web::test]
async fn oversize_messages_get_too_large() {
    let mut r = Refusals::new().await;
    r.visitor_errors(&[(format!(r#"{{"type":"message","client_id":"m9","body":"{}"}}"#, "x".repeat(10_001)), "too_large")]).await;
    r.unchanged().await;
}

/// Open a socket, send `frame` first, expect an error frame with `code` and the close `close`.
async fn refused_at_hello(r: &Refusals, path: &str, cookie: Option<&str>, frame: Value, code: &str, close: u16) {
    let mut s = Ws::connect(&r.app.address, path, &r.app.address, cookie).await.unwrap();
    s.send(frame).await;
    assert_eq!(s.recv_type("error").await["code"], code);
    assert_eq!(s.ended().await, Ended::Closed(close));
}

#[actix_web::test]
async fn oversize_frames_close_with_1009() {
    let r = Refusals::new().await;
    let (mut s, _) = ws::visitor(&r.app.address, None, None).await;
    s.send_raw(Message::Text("x".repeat(70 * 1024).into())).await;
    assert_eq!(s.ended().await, Ended::Closed(1009));
    r.unchanged().await;
}

#[actix_web::test]
async fn wrong_protocol_version_closes_with_4000() {
    let r = Refusals::new().await;
    refused_at_hello(&r, "/ws/visitor", None, json!({"type": "hello", "v": 2}), "unsupported_version", 4000).await;
    let (_, cookie) = agent_cookie(&r.app, "eve@shop.example", Role::Agent).await;
    refused_at_hello(&r, "/ws/agent", Some(&cookie), json!({"type": "hello", "v": 0}), "unsupported_version", 4000).await;
    r.unchanged().await;
}

#[actix_web::test]
async fn frames_before_hello_close_with_4000() {
    let r = Refusals::new().await;
    refused_at_hello(&r, "/ws/visitor", None, json!({"type": "message", "client_id": "m1", "body": "no hello"}), "hello_required", 4000)
        .await;
    r.unchanged().await;
}

#[actix_web::test]
async fn frames_for_a_conversation_the_socket_is_not_part_of_are_refused() {
    let r = Refusals::new().await;
    let (mut ann, _) = ws::agent(&r.app.address, &r.ann).await;
    ann.send(json!({"type": "message", "conversation": r.conv, "client_id": "a1", "body": "let me"})).await;
    let e = ann.recv_type("error").await;
    assert_eq!((e["code"].as_str(), e["ref"].as_str()), (Some("forbidden"), Some("a1")));
    ann.send(json!({"type": "accept", "conversation": r.conv})).await;
    assert_eq!(ann.recv_type("error").await["code"], "conflict");
    ann.send(json!({"type": "open", "conversation": 424242, "last_seq": 0})).await;
    assert_eq!(ann.recv_type("error").await["code"], "not_found");
    ann.send(json!({"type": "end", "conversation": r.conv})).await;
    assert_eq!(ann.recv_type("error").await["code"], "forbidden");
    ann.send(json!({"type": "read", "conversation": r.conv, "seq": 1})).await;
    // A receipt from someone who does not have the chat is ignored, not stored.
    ann.send(json!({"type": "ping"})).await;
    assert_eq!(ann.recv_type("pong").await["type"], "pong");
    r.unchanged().await;
}

#[actix_web::test]
async fn agent_socket_checks_origin_and_ends_with_the_session() {
    let app = spawn_manual_app().await;
    let (_, cookie) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let refused = Ws::connect(&app.address, "/ws/agent", "https://evil.example", Some(&cookie)).await;
    assert!(refused.is_err(), "foreign Origin must not open an agent socket");
    assert!(Ws::connect(&app.address, "/ws/agent", &app.address, None).await.is_err(), "no cookie, no socket");

    let (mut sock, _) = ws::agent(&app.address, &cookie).await;
    // Disabling the agent ends every session, and the socket closes with 4001.
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let ann_id = app
        .db
        .read(|c| Ok(c.query_row("SELECT id FROM agents WHERE email_norm = 'ann@shop.example'", [], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap();
    let r = app
        .plain()
        .patch(app.url(&format!("/api/v1/agents/{ann_id}")))
        .header("cookie", app.cookie_header(&app.session_for(admin).await))
        .header("origin", &app.address)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sock.ended().await, Ended::Closed(4001));
}

#[actix_web::test]
async fn files_travel_byte_identical_and_download_safely() {
    let app = spawn_manual_app().await;
    let (_, cookie) = agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let (mut v, vw) = ws::visitor(&app.address, None, None).await;
    let token = vw["token"].as_str().unwrap();
    // 700 KiB of varied bytes: several chunks.
    let bytes: Vec<u8> = (0..700 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let up = |name: &str, body: Vec<u8>, ctype: &str| {
        app.plain()
            .post(app.url("/api/v1/widget/uploads"))
            .header("origin", &app.address)
            .header("x-visitor-token", token)
            .header("x-file-name", name)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let r = up("%3Cscript%3E.html", b"<script>alert(1)</script>".to_vec(), "text/html").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let html: Value = r.json().await.unwrap();
    let r = up("photo%20%E2%84%961.png", bytes.clone(), "image/png").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["name"], "photo №1.png");
    assert_eq!(info["size"], bytes.len());
    // Same bytes again: stored once.
    up("copy.png", bytes.clone(), "image/png").await.unwrap();
    assert_eq!(app.count("blobs").await, 2);

    v.send(json!({"type": "message", "client_id": "f1", "attachment": info["token"]})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let (mut agent, _) = ws::agent(&app.address, &cookie).await;
    agent.send(json!({"type": "accept", "conversation": conv})).await;
    let m = agent.recv_type("message").await;
    let url = m["attachment"]["url"].as_str().unwrap().to_string();
    let got = app.plain().get(app.url(&url)).send().await.unwrap();
    assert_eq!(got.headers()["content-disposition"].to_str().unwrap().split(';').next(), Some("attachment"));
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    assert_eq!(got.headers()["content-type"], "application/octet-stream");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes, "byte-identical");
    let inline = app.plain().get(app.url(&format!("{url}?inline=1"))).send().await.unwrap();
    assert_eq!(inline.headers()["content-type"], "image/png");
    assert!(inline.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    // HTML never renders inline.
    let h = app.plain().get(app.url(&format!("{}?inline=1", html["url"].as_str().unwrap()))).send().await.unwrap();
    assert_eq!(h.headers()["content-type"], "application/octet-stream");
    assert!(h.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));

    // The agent sends a file back.
    let r = app
        .plain()
        .post(app.url("/api/v1/uploads"))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .header("x-file-name", "invoice.pdf")
        .body(b"%PDF-1.4 fake".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let pdf: Value = r.json().await.unwrap();
    assert_eq!(pdf["content_type"], "application/pdf");
    agent
        .send(json!({"type": "message", "conversation": conv, "client_id": "f2", "body": "Your invoice", "attachment": pdf["token"]}))
        .await;
    agent.recv_type("ack").await;
    let m = v.recv_type("message").await;
    let m = if m["author"]["kind"] == "agent" { m } else { v.recv_type("message").await };
    let m = if m["author"]["kind"] == "agent" { m } else { v.recv_type("message").await };
    assert_eq!(m["attachment"]["name"], "invoice.pdf");
    // A visitor cannot attach someone else's file.
    let (mut other, _) = ws::visitor(&app.address, None, None).await;
    other.send(json!({"type": "message", "client_id": "x", "attachment": info["token"]})).await;
    assert_eq!(other.recv_type("error").await["code"], "forbidden");
    // Bad uploads: refused, and nothing half-stored stays behind.
    let blobs_before = (app.count("blobs").await, app.count("blob_chunks").await, app.count("attachments").await);
    let r = up("empty.txt", vec![], "text/plain").await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    let r = up("big.bin", vec![0u8; 10 * 1024 * 1024 + 1], "application/octet-stream").await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .plain()
        .post(app.url("/api/v1/widget/uploads"))
        .header("origin", &app.address)
        .header("x-visitor-token", "forged")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!((app.count("blobs").await, app.count("blob_chunks").await, app.count("attachments").await), blobs_before);
}

#[actix_web::test]
async fn with_sneak_peek_off_drafts_never_reach_agents() {
    let app = spawn_manual_app().await;
    let (_, cookie) = agent_cookie(&app, "ann@shop.example", Role::Admin).await;
    let r = app
        .plain()
        .patch(app.url("/api/v1/settings/chat"))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .json(&json!({"sneak_peek": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (mut v, vw) = ws::visitor(&app.address, None, None).await;
    assert_eq!(vw["sneak_peek"], false, "the widget is told, so it can say so");
    v.send(json!({"type": "message", "client_id": "m1", "body": "hi"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let (mut agent, welcome) = ws::agent(&app.address, &cookie).await;
    assert_eq!(welcome["sneak_peek"], false);
    agent.send(json!({"type": "accept", "conversation": conv})).await;
    agent.recv_type("accepted").await;
    v.send(json!({"type": "typing", "typing": true, "draft": "my secret draft"})).await;
    let typing = agent.recv_type("typing").await;
    assert_eq!(typing["typing"], true);
    assert!(typing["draft"].is_null(), "draft withheld: {typing}");
    let r = app
        .plain()
        .patch(app.url("/api/v1/settings/chat"))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .json(&json!({"sneak_peek": "no"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn ticket_presence_reaches_colleagues_who_may_see_the_ticket() {
    let app = spawn_manual_app().await;
    let (_, ann_cookie) = agent_cookie(&app, "ann@shop.example", Role::Admin).await;
    let (_, bob_cookie) = agent_cookie(&app, "bob@shop.example", Role::Agent).await;
    let token = app.api_token(frontdesk::auth::Scope::Admin).await;
    let d: Value = app
        .plain()
        .post(app.url("/api/v1/departments"))
        .bearer_auth(&token)
        .json(&json!({"name": "Legal"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t: Value = app
        .plain()
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&json!({"subject": "Contract", "body": "x", "department_id": d["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let open: Value = app
        .plain()
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&json!({"subject": "Hello", "body": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (mut ann, _) = ws::agent(&app.address, &ann_cookie).await;
    let (mut bob, _) = ws::agent(&app.address, &bob_cookie).await;
    bob.send(json!({"type": "viewing", "ticket": open["number"], "state": "replying"})).await;
    let p = ann.recv_type("presence").await;
    assert_eq!((p["ticket"].clone(), p["name"].as_str(), p["state"].as_str()), (open["number"].clone(), Some("bob"), Some("replying")));
    // Bob is not in Legal: he cannot announce himself on (or learn of) its ticket.
    bob.send(json!({"type": "viewing", "ticket": t["number"], "state": "viewing"})).await;
    assert_eq!(bob.recv_type("error").await["code"], "not_found");
    bob.send(json!({"type": "viewing", "ticket": 424242, "state": "viewing"})).await;
    assert_eq!(bob.recv_type("error").await["code"], "not_found");
}

#[actix_web::test]
async fn chats_of_silent_visitors_end_by_timeout_as_missed() {
    let app = spawn_manual_app().await;
    agent_cookie(&app, "ann@shop.example", Role::Agent).await;
    let (mut v, _) = ws::visitor(&app.address, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "anyone?"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let idle = |minutes: i64| {
        let before = frontdesk::clock::Clock::now_ms(app.clock.as_ref()) - minutes * 60_000;
        app.db.read(move |c| frontdesk::chat::store::idle_conversations(c, before))
    };
    assert!(idle(30).await.unwrap().is_empty(), "not idle yet");
    app.clock.advance(31 * 60_000);
    let ids = idle(30).await.unwrap();
    assert_eq!(ids, vec![conv]);
    frontdesk::chat::end_idle(&app.state, conv).await.unwrap();
    let (mut ended, mut line) = (Value::Null, Value::Null);
    let deadline = Deadline::secs(30, "the ended status");
    while ended.is_null() {
        deadline.check();
        let f = v.recv().await;
        match f["type"].as_str() {
            Some("status") if f["status"] == "ended" => ended = f,
            Some("message") if f["author"]["kind"] == "system" => line = f,
            _ => {}
        }
    }
    assert_eq!((ended["outcome"].as_str(), ended["ended_by"].as_str()), (Some("missed"), Some("timeout")));
    assert_eq!(line["event"]["code"], "timeout", "the system line comes first");
    assert!(idle(30).await.unwrap().is_empty(), "ended chats are not idle");
}

/// A visitor's `hello.resume` naming another visitor's conversation gets nothing of it: the
/// resume point only counts for the visitor's own open chat (object policy for visitor frames).
#[actix_web::test]
async fn a_visitor_cannot_resume_into_someone_elses_conversation() {
    let r = Refusals::new().await;
    let mut other = Ws::connect(&r.app.address, "/ws/visitor", &r.app.address, None).await.unwrap();
    other
        .send(json!({"type": "hello", "v": 1, "page": {"url": "https://shop.example/"}, "resume": {"conversation": r.conv, "last_seq": 0}}))
        .await;
    let welcome = other.recv_type("welcome").await;
    assert!(welcome["conversation"].is_null(), "{welcome}");
    other.send(json!({"type": "ping"})).await;
    // Everything the server sent before the pong: none of it is the other chat's.
    loop {
        let f = other.recv().await;
        if f["type"] == "pong" {
            break;
        }
        assert_ne!(f["type"], "message", "a message of someone else's chat: {f}");
        assert_ne!(f["conversation"], json!(r.conv), "{f}");
    }
    r.unchanged().await;
}
