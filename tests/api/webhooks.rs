//! Signed webhooks: a local receiver gets every event kind signed with the documented scheme;
//! a receiver that is down gets retries with backoff (manual clock) and exactly one delivery
//! once it is back; deliveries that keep failing switch the webhook off; loopback and private
//! targets are refused, directly and through redirects, unless `webhook_allow_private`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use frontdesk::auth::{Role, Scope};
use frontdesk::clock::Clock;
use frontdesk::webhooks::delivery::{self, Outcome, Reach, Runtime};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::ws;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// A tiny HTTP/1.1 server: records each request and answers with `answer(path)` (a status
/// line plus headers, e.g. `"200 OK"` or `"307 Temporary Redirect\r\nlocation: …"`).
pub struct Receiver {
    pub addr: SocketAddr,
    pub got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(bind: &str, answer: fn(&str) -> String) -> Receiver {
        let listener = tokio::net::TcpListener::bind(bind).await.expect("bind receiver");
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = got.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut lines = head.lines();
                    let path = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_string();
                    let headers: HashMap<String, String> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
                    let reply = format!("HTTP/1.1 {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", answer(&path));
                    log.lock().unwrap().push(Received { path, headers, body });
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Receiver { addr, got, task }
    }

    pub fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

fn ok(_: &str) -> String {
    "200 OK".into()
}

/// Verify `X-Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
/// exactly as docs/api.md tells receivers to.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x.to_string()),
            Some(("v1", x)) => v1 = Some(x.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let Ok(tag) = hex::decode(v1) else { return false };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, format!("{t}.{body}").as_bytes(), &tag).is_ok()
}

async fn admin_client(app: &TestApp) -> (reqwest::Client, String) {
    (app.plain(), app.api_token(Scope::Admin).await)
}

async fn register(app: &TestApp, token: &str, url: &str, events: &[&str]) -> Value {
    let r =
        app.plain().post(app.url("/api/v1/webhooks")).bearer_auth(token).json(&json!({"url": url, "events": events})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn log_of(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let v: Value = app
        .plain()
        .get(app.url(&format!("/api/v1/webhooks/{id}/deliveries")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().clone()
}

async fn create_ticket(app: &TestApp, token: &str, subject: &str, email: &str) -> i64 {
    let r = app
        .plain()
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({"subject": subject, "body": "Where is my parcel?", "customer": {"email": email, "name": "Customer"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["number"].as_i64().unwrap()
}

#[actix_web::test]
async fn every_event_kind_arrives_signed() {
    let app = spawn_app_with(|c| c.webhook_allow_private = true).await;
    let receiver = Receiver::start("127.0.0.1:0", ok).await;
    let (c, token) = admin_client(&app).await;
    let all = frontdesk::webhooks::EVENTS;
    let hook = register(&app, &token, &format!("http://{}/hooks/frontdesk", receiver.addr), all).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["enabled"], true);
    // The secret is shown once: listing does not repeat it.
    let listed: Value = c.get(app.url("/api/v1/webhooks")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(listed["items"][0].get("secret").is_none());

    // Chat: started, a message, ended (chats start only while an agent accepts; manual routing
    // leaves it waiting in the Queue, unassigned).
    app.set_routing(|s| s.mode = frontdesk::routing::Mode::Manual).await;
    let accepting = app.add_agent("accepting@shop.example", frontdesk::auth::Role::Agent).await;
    app.set_status(accepting, frontdesk::routing::AgentStatus::Accepting).await;
    let (mut v, welcome) = ws::visitor(&app.address, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "Hello there"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    frontdesk::chat::end_idle(&app.state, conv).await.unwrap();
    // The visitor rates the ended chat.
    let r = c
        .post(app.url("/api/v1/widget/rating"))
        .header("X-Visitor-Token", welcome["token"].as_str().unwrap())
        .json(&json!({"rating": "good", "comment": "Quick answer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // Tickets: created (with a new contact), updated, replied.
    let number = create_ticket(&app, &token, "Parcel", "buyer@shop.example").await;
    let r = c
        .patch(app.url(&format!("/api/v1/tickets/{number}")))
        .bearer_auth(&token)
        .json(&json!({"status": "pending"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(app.url(&format!("/api/v1/tickets/{number}/reply")))
        .bearer_auth(&token)
        .json(&json!({"body": "It ships tomorrow."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);

    let deadline = Deadline::secs(20, "a delivery of every event kind");
    loop {
        let kinds: Vec<String> = receiver.all().iter().map(|r| r.headers["x-frontdesk-event"].clone()).collect();
        if all.iter().all(|k| kinds.iter().any(|g| g == k)) {
            break;
        }
        deadline.check_progress(|| format!("got {kinds:?}"));
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for got in receiver.all() {
        assert_eq!(got.path, "/hooks/frontdesk");
        assert_eq!(got.headers["content-type"], "application/json");
        let sig = &got.headers["x-frontdesk-signature"];
        assert!(verify(&secret, sig, &got.body), "signature of {} verifies", got.headers["x-frontdesk-event"]);
        assert!(!verify("whsec_wrong", sig, &got.body));
        assert!(!verify(&secret, sig, &format!("{} ", got.body)), "a changed body does not verify");
        let t: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
        assert_eq!(t, app.clock.now_ms() / 1000, "t is the (manual) clock's unix second");
        let body: Value = serde_json::from_str(&got.body).unwrap();
        assert_eq!(body["event"], got.headers["x-frontdesk-event"].as_str());
        assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    }
    let by_kind = |k: &str| -> Value {
        let r = receiver.all().into_iter().find(|r| r.headers["x-frontdesk-event"] == k).unwrap();
        serde_json::from_str::<Value>(&r.body).unwrap()["data"].clone()
    };
    assert_eq!(by_kind("conversation.started")["conversation"]["id"], conv);
    assert_eq!(by_kind("message.created")["message"]["body"], "Hello there");
    assert_eq!(by_kind("conversation.ended")["conversation"]["ended_by"], "timeout");
    assert_eq!(by_kind("ticket.created")["ticket"]["number"], number);
    assert_eq!(by_kind("ticket.updated")["changes"]["status"], "pending");
    assert_eq!(by_kind("ticket.replied")["message"]["body"], "It ships tomorrow.");
    assert_eq!(by_kind("contact.created")["contact"]["email"], "buyer@shop.example");

    // The delivery log shows each with its answer.
    let id = hook["id"].as_i64().unwrap();
    let log = log_of(&app, &token, id).await;
    assert!(log.len() >= all.len());
    assert!(log.iter().all(|d| d["status"] == "delivered" && d["last_status"] == 200 && d["attempts"] == 1), "{log:?}");

    // "Send test": a signed ping, sent now, logged.
    let before = receiver.count();
    let r = c.post(app.url(&format!("/api/v1/webhooks/{id}/test"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = r.json().await.unwrap();
    assert_eq!((d["event"].as_str(), d["status"].as_str(), d["last_status"].as_i64()), (Some("ping"), Some("delivered"), Some(200)));
    assert_eq!(receiver.count(), before + 1);
    let ping = receiver.all().pop().unwrap();
    assert!(verify(&secret, &ping.headers["x-frontdesk-signature"], &ping.body));

    // Rotating the secret: later deliveries are signed with the new one only.
    let rotated: Value =
        c.post(app.url(&format!("/api/v1/webhooks/{id}/secret"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    c.post(app.url(&format!("/api/v1/webhooks/{id}/test"))).bearer_auth(&token).send().await.unwrap();
    let ping = receiver.all().pop().unwrap();
    assert!(verify(new_secret, &ping.headers["x-frontdesk-signature"], &ping.body));
    assert!(!verify(&secret, &ping.headers["x-frontdesk-signature"], &ping.body));
    receiver.stop();
}

#[actix_web::test]
async fn a_receiver_that_is_down_gets_retries_then_exactly_one_delivery() {
    let app = spawn_app_with(|c| c.webhook_allow_private = true).await;
    let (_, token) = admin_client(&app).await;
    // A port with nobody listening: take one, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hook = register(&app, &token, &format!("http://127.0.0.1:{port}/in"), &["ticket.created"]).await;
    let id = hook["id"].as_i64().unwrap();
    let number = create_ticket(&app, &token, "Retry me", "retry@shop.example").await;

    // Attempt 1 fails; the next waits 30 s, then 1 min (backoff doubles).
    let mut expected_wait = 30_000;
    for attempt in 1..=2 {
        let deadline = Deadline::secs(10, format!("failed attempt {attempt}"));
        let d = loop {
            let log = log_of(&app, &token, id).await;
            if log.len() == 1 && log[0]["attempts"] == attempt && log[0]["last_error"].is_string() {
                break log[0].clone();
            }
            deadline.check_progress(|| format!("{log:?}"));
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(d["status"], "pending");
        assert_eq!(d["next_attempt_at"].as_i64().unwrap() - d["last_attempt_at"].as_i64().unwrap(), expected_wait);
        // Before the wait is over nothing is sent again.
        app.clock.advance(expected_wait - 1_000);
        assert_eq!(delivery::run_due(&app.state).await.unwrap(), 0);
        if attempt == 1 {
            app.clock.advance(1_000);
        }
        expected_wait *= 2;
    }
    // The receiver comes back on the same port; the third attempt gets through.
    let receiver = Receiver::start(&format!("127.0.0.1:{port}"), ok).await;
    app.clock.advance(1_000);
    wait_until(|| async { receiver.count() == 1 }).await;
    let deadline = Deadline::secs(10, "the delivery to be recorded");
    loop {
        let log = log_of(&app, &token, id).await;
        if log[0]["status"] == "delivered" {
            assert_eq!((log[0]["attempts"].as_i64(), log[0]["last_status"].as_i64()), (Some(3), Some(200)));
            break;
        }
        deadline.check();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let body: Value = serde_json::from_str(&receiver.all()[0].body).unwrap();
    assert_eq!(body["data"]["ticket"]["number"], number);
    // Exactly one: time passes, rounds run, nothing more is sent.
    app.clock.advance(24 * 3_600_000);
    assert_eq!(delivery::run_due(&app.state).await.unwrap(), 0);
    assert_eq!(receiver.count(), 1);
    receiver.stop();
}

#[actix_web::test]
async fn deliveries_that_keep_failing_switch_the_webhook_off_with_a_notice() {
    let app = spawn_app_with(|c| c.webhook_allow_private = true).await;
    let (c, token) = admin_client(&app).await;
    fn broken(_: &str) -> String {
        "500 Internal Server Error".into()
    }
    let receiver = Receiver::start("127.0.0.1:0", broken).await;
    let hook = register(&app, &token, &format!("http://{}/", receiver.addr), &["ticket.created"]).await;
    let id = hook["id"].as_i64().unwrap();
    create_ticket(&app, &token, "Doomed", "doomed@shop.example").await;
    for attempt in 1..=frontdesk::webhooks::MAX_ATTEMPTS {
        let deadline = Deadline::secs(10, format!("attempt {attempt}"));
        while (receiver.count() as i64) < attempt {
            deadline.check();
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        wait_until(|| async {
            let d = &log_of(&app, &token, id).await[0];
            d["attempts"] == attempt && d["last_status"] == 500
        })
        .await;
        app.clock.advance(frontdesk::webhooks::MAX_BACKOFF_MS);
    }
    wait_until(|| async {
        let h: Value = c.get(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        h["enabled"] == false
    })
    .await;
    let h: Value = c.get(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(h["disabled_reason"].as_str().unwrap().contains("HTTP 500"), "{h}");
    let log = log_of(&app, &token, id).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("failed"), Some(frontdesk::webhooks::MAX_ATTEMPTS)));
    let audit: Value = c.get(app.url("/api/v1/audit")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "webhook.disabled" && e["actor"] == "system"));
    // Switched off: new events are not queued for it, and nothing more is sent.
    create_ticket(&app, &token, "After", "after@shop.example").await;
    app.clock.advance(frontdesk::webhooks::MAX_BACKOFF_MS);
    assert_eq!(delivery::run_due(&app.state).await.unwrap(), 0);
    assert_eq!(log_of(&app, &token, id).await.len(), 1);
    assert_eq!(receiver.count() as i64, frontdesk::webhooks::MAX_ATTEMPTS);
    // Enabling it again clears the notice.
    let h: Value = c
        .patch(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&token)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((h["enabled"].as_bool(), h["disabled_reason"].as_str()), (Some(true), None));
    receiver.stop();
}

#[actix_web::test]
async fn loopback_and_private_targets_are_refused_directly_and_through_redirects() {
    // Registering: refused while private targets are not allowed.
    let app = spawn_app().await;
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let cookie = app.cookie_header(&app.session_for(admin).await);
    for url in [
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
    ] {
        let r = app
            .browser()
            .post(app.url("/api/v1/webhooks"))
            .header("cookie", &cookie)
            .json(&json!({"url": url, "events": ["ticket.created"]}));
        let (status, code) = error_code(r.send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{url}");
    }
    assert_eq!(app.count("webhooks").await, 0);

    // Delivering: a receiver that stands in for a public site (trusted) redirects elsewhere.
    fn to_second(path: &str) -> String {
        let target = String::from_utf8(hex::decode(path.trim_start_matches("/go/")).unwrap()).unwrap();
        format!("307 Temporary Redirect\r\nlocation: {target}")
    }
    let first = Receiver::start("127.0.0.1:0", to_second).await;
    let second = Receiver::start("127.0.0.2:0", ok).await;
    let trusted = vec![first.addr.ip()];
    let strict = Runtime::with_reach(Reach { allow_private: false, trusted }).unwrap();
    let open = Runtime::with_reach(Reach { allow_private: true, trusted: vec![] }).unwrap();
    let redirect_to = |target: &str| format!("http://{}/go/{}", first.addr, hex::encode(target));
    let body = r#"{"event":"ping"}"#;
    for target in [format!("http://{}/x", second.addr), format!("http://localhost:{}/x", second.addr.port()), "http://[::1]:9/x".into()] {
        match delivery::send(&strict, &redirect_to(&target), "whsec_k", "ping", 1, body, 1).await {
            Outcome::Failed { error, .. } => assert!(error.contains("refused") || error.contains("not a public"), "{target}: {error}"),
            Outcome::Delivered(s) => panic!("{target}: a redirect to a private address was followed ({s})"),
        }
    }
    assert_eq!(second.count(), 0, "nothing reached the private address");
    // The same redirect with private targets allowed is followed, once, still signed.
    let target = format!("http://{}/x", second.addr);
    match delivery::send(&open, &redirect_to(&target), "whsec_k", "ping", 1, body, 1).await {
        Outcome::Delivered(200) => {}
        other => panic!("expected delivery through the redirect, got {other:?}"),
    }
    assert_eq!(second.count(), 1);
    let got = &second.all()[0];
    assert_eq!(got.body, body);
    assert!(verify("whsec_k", &got.headers["x-frontdesk-signature"], body));
    // A direct private target fails at send time too (e.g. a hook registered before the switch was turned off).
    match delivery::send(&strict, &format!("http://{}/x", second.addr), "k", "ping", 1, body, 1).await {
        Outcome::Failed { error, .. } => assert!(error.contains("not a public"), "{error}"),
        other => panic!("{other:?}"),
    }
    first.stop();
    second.stop();
}

#[actix_web::test]
async fn malformed_webhook_requests_change_nothing() {
    let app = spawn_app_with(|c| c.webhook_allow_private = true).await;
    let (c, token) = admin_client(&app).await;
    let post = |body: Value| c.post(app.url("/api/v1/webhooks")).bearer_auth(&token).json(&body).send();
    for (body, code) in [
        (json!({"url": "https://hooks.example.com/x"}), "invalid_input"),
        (json!({"events": ["ticket.created"]}), "invalid_input"),
        (json!({"url": "https://hooks.example.com/x", "events": []}), "invalid_input"),
        (json!({"url": "https://hooks.example.com/x", "events": ["ticket.deleted"]}), "invalid_input"),
        (json!({"url": "https://hooks.example.com/x", "events": "ticket.created"}), "invalid_input"),
        (json!({"url": "ftp://hooks.example.com/x", "events": ["ticket.created"]}), "invalid_input"),
        (json!({"url": "https://user:pw@hooks.example.com/x", "events": ["ticket.created"]}), "invalid_input"),
        (json!({"url": "https://hooks.example.com/x", "events": ["ticket.created"], "secret": "mine"}), "unknown_field"),
    ] {
        let (status, got) = error_code(post(body.clone()).await.unwrap()).await;
        assert_eq!((status, got.as_str()), (StatusCode::BAD_REQUEST, code), "{body}");
    }
    assert_eq!(app.count("webhooks").await, 0);
    let hook = register(&app, &token, "https://hooks.example.com/x", &["ticket.created"]).await;
    let id = hook["id"].as_i64().unwrap();
    let before = app.dump("webhooks").await;
    for body in [json!({"events": []}), json!({"url": "gopher://x"}), json!({"enabled": "yes"}), json!({"colour": "red"})] {
        let r = c.patch(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(app.dump("webhooks").await, before);
    let r = c.get(app.url("/api/v1/webhooks/1/deliveries?limit=abc")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for path in ["/api/v1/webhooks/999", "/api/v1/webhooks/999/deliveries"] {
        assert_eq!(c.get(app.url(path)).bearer_auth(&token).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    let r = c.post(app.url("/api/v1/webhooks/999/test")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        c.delete(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.count("webhooks").await, 0);
}
