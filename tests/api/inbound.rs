//! Mail intake through its doors: `POST /api/v1/inbound/mime`, `frontdesk mail ingest` next to a
//! running server, the IMAP check endpoint, and loop safety (SPEC E3–E5).

use std::io::Write;
use std::process::{Command, Stdio};

use frontdesk::auth::{Role, Scope};
use frontdesk::clock::Clock;
use frontdesk::inbound;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@shop.example\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

async fn post_mime(app: &TestApp, token: &str, raw: impl Into<reqwest::Body>) -> reqwest::Response {
    app.plain()
        .post(app.url("/api/v1/inbound/mime"))
        .bearer_auth(token)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .unwrap()
}

async fn ticket(app: &TestApp, cookie: &str, n: i64) -> Value {
    let r = app.plain().get(app.url(&format!("/api/v1/tickets/{n}"))).header("cookie", cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[actix_web::test]
async fn inbound_mime_opens_threads_and_ignores_duplicates() {
    let app = spawn_app().await;
    let token = app.api_token(Scope::Inbound).await;
    let agent = app.add_agent("agent@shop.example", Role::Agent).await;
    let cookie = app.cookie_header(&app.session_for(agent).await);

    let first = mail("Ann <ann@example.com>", "Kettle broken", "<a1@example.com>", "", "It leaks.");
    let r = post_mime(&app, &token, first.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["ticket"].as_i64(), v["threaded"].as_bool()), (Some(1001), Some(false)));

    let t = ticket(&app, &cookie, 1001).await;
    assert_eq!(t["subject"], "Kettle broken");
    assert_eq!(t["source"], "email");
    assert_eq!(t["contact"]["email"], "ann@example.com");
    assert_eq!(t["messages"][0]["body"], "It leaks.");

    // The same message again (a forwarder retrying): ignored, nothing new.
    let r = post_mime(&app, &token, first).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ignored"], "duplicate");
    assert_eq!(app.count("tickets").await, 1);

    // The agent answers; the customer's reply to that mail threads by our Message-ID.
    let r = app
        .plain()
        .post(app.url("/api/v1/tickets/1001/reply"))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .json(&json!({"body": "We send a new one."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let ours: String =
        app.db.read(|c| Ok(c.query_row("SELECT message_id FROM outbox ORDER BY id DESC LIMIT 1", [], |r| r.get(0))?)).await.unwrap();
    let answer = mail("ann@example.com", "Re: Kettle broken [#1001]", "<a2@example.com>", &format!("In-Reply-To: {ours}\r\n"), "Thanks!");
    let r = post_mime(&app, &token, answer).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["ticket"].as_i64(), v["threaded"].as_bool()), (Some(1001), Some(true)));
    let t = ticket(&app, &cookie, 1001).await;
    assert_eq!(t["status"], "open", "a customer reply turns Pending back to Open");
    assert_eq!(t["messages"].as_array().unwrap().iter().filter(|m| m["kind"] == "customer").count(), 2);

    // The signed reply address alone (a client that drops In-Reply-To) threads too.
    let secret = app.db.read(|c| Ok(frontdesk::settings::store::get(c, frontdesk::settings::SECRET_KEY)?.unwrap())).await.unwrap();
    let reply_to = frontdesk::mail::reply_address("support@shop.example", &frontdesk::mail::reply_token(secret.as_bytes(), 1001));
    let by_token = format!(
        "From: ann@example.com\r\nTo: {reply_to}\r\nSubject: one more thing\r\nMessage-ID: <a3@example.com>\r\n\r\nAnd the lid?\r\n"
    );
    let v: Value = post_mime(&app, &token, by_token).await.json().await.unwrap();
    assert_eq!((v["ticket"].as_i64(), v["threaded"].as_bool()), (Some(1001), Some(true)));
    // A forged token does not.
    let forged = "From: eve@evil.example\r\nTo: support+t1001.0000000000000000@shop.example\r\nSubject: x\r\nMessage-ID: <e1@evil.example>\r\n\r\nhi\r\n";
    let v: Value = post_mime(&app, &token, forged).await.json().await.unwrap();
    assert_eq!((v["ticket"].as_i64(), v["threaded"].as_bool()), (Some(1002), Some(false)));
}

#[actix_web::test]
async fn inbound_mime_html_and_attachments_are_kept_safely() {
    let app = spawn_app().await;
    let token = app.api_token(Scope::Inbound).await;
    let agent = app.add_agent("agent@shop.example", Role::Agent).await;
    let cookie = app.cookie_header(&app.session_for(agent).await);
    let raw = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mail/012-inline-image-related.eml")).unwrap();
    let v: Value = post_mime(&app, &token, raw).await.json().await.unwrap();
    let t = ticket(&app, &cookie, v["ticket"].as_i64().unwrap()).await;
    let m = &t["messages"][0];
    let url = m["attachments"][0]["url"].as_str().unwrap().to_string();
    assert!(m["body_html"].as_str().unwrap().contains(&format!("{url}?inline=1")), "{m}");
    let r = app.plain().get(app.url(&format!("{url}?inline=1"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().len(), 70);
}

#[actix_web::test]
async fn inbound_mime_refuses_bad_input_with_clear_codes_and_changes_nothing() {
    let app = spawn_app_with(|c| c.mail_max_bytes = 4096).await;
    let token = app.api_token(Scope::Inbound).await;
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (vec![], StatusCode::BAD_REQUEST, "empty_message"),
        (b"\x00\x01\x02 binary".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "not_a_mail"),
        (b"{\"subject\": \"json is not mail\"}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "not_a_mail"),
        (b"Subject: no sender\r\n\r\nhello".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "no_sender"),
        (b"From: nobody\r\nSubject: x\r\n\r\nhello".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "no_sender"),
        (mail("a@example.com", "big", "<big@x.example>", "", &"x".repeat(5000)).into_bytes(), StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
    ];
    for (raw, status, code) in cases {
        let before = (app.dump("tickets").await, app.dump("inbound_mail").await, app.dump("attachments").await);
        let r = post_mime(&app, &token, raw.clone()).await;
        let (s, c) = error_code(r).await;
        assert_eq!((s, c.as_str()), (status, code), "{:?}", String::from_utf8_lossy(&raw[..raw.len().min(40)]));
        assert_eq!(before, (app.dump("tickets").await, app.dump("inbound_mail").await, app.dump("attachments").await));
    }
    // A session (even an admin's) is not a forwarder's token.
    let admin = app.add_agent("admin@shop.example", Role::Admin).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/inbound/mime"))
        .header("cookie", app.cookie_header(&app.session_for(admin).await))
        .header("origin", &app.address)
        .body(mail("a@example.com", "x", "<s@x.example>", "", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("tickets").await, 0);
}

#[actix_web::test]
async fn automatic_mail_never_triggers_automatic_mail_and_one_auto_reply_per_sender_per_day() {
    let app = spawn_app().await;
    let token = app.api_token(Scope::Inbound).await;
    let automatic = [
        ("ooo@example.com", "Out of Office: kettle", "Auto-Submitted: auto-replied\r\n", "auto_reply"),
        ("MAILER-DAEMON@mx.example.com", "Undelivered Mail", "Return-Path: <>\r\n", "bounce"),
        ("news@list.example.com", "Weekly news", "List-Id: <news.list.example.com>\r\nPrecedence: list\r\n", "list"),
        ("alerts@psp.example.com", "Chargeback", "Auto-Submitted: auto-generated\r\n", "auto_submitted"),
        ("helpdesk@other.example.com", "Ticket received", "X-Autoreply: yes\r\n", "auto_reply"),
    ];
    for (i, (from, subject, extra, class)) in automatic.iter().enumerate() {
        let v: Value =
            post_mime(&app, &token, mail(from, subject, &format!("<auto{i}@x.example>"), extra, "automatic")).await.json().await.unwrap();
        assert_eq!(v["automatic"], *class, "{from}");
        let n = v["ticket"].as_i64().unwrap();
        let (number, sender) = (n, from.to_lowercase());
        let may = app
            .db
            .write(move |c| {
                let mid: i64 = c.query_row(
                    "SELECT m.id FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.number = ?1 AND m.kind = 'customer'",
                    [number],
                    |r| r.get(0),
                )?;
                inbound::may_auto_answer(c, mid, &sender, 0)
            })
            .await
            .unwrap();
        assert!(!may, "{from}: automatic mail must never be answered automatically");
    }
    assert_eq!(app.count("outbox").await, 0, "intake itself sends nothing");
    assert_eq!(app.count("auto_reply_log").await, 0, "nothing automatic was counted as sent");

    // A person's mail may get one automatic answer a day.
    let v: Value =
        post_mime(&app, &token, mail("Ann <ann@example.com>", "Hello", "<p1@example.com>", "", "hi")).await.json().await.unwrap();
    assert!(v["automatic"].is_null());
    let now = app.clock.now_ms();
    let claims = app
        .db
        .write(move |c| {
            Ok([
                inbound::may_auto_reply(c, "ann@example.com", now)?,
                inbound::may_auto_reply(c, "ANN@example.com", now + 3_600_000)?,
                inbound::may_auto_reply(c, "ann@example.com", now + 86_400_000 - 1)?,
                inbound::may_auto_reply(c, "ann@example.com", now + 86_400_000)?,
                inbound::may_auto_reply(c, "not an address", now)?,
                inbound::may_auto_reply(c, "no-reply@shop.example", now)?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(claims, [true, false, false, true, false, false]);
}

#[actix_web::test]
async fn imap_check_reports_plain_words() {
    let app = spawn_app().await;
    let admin = app.add_agent("admin@shop.example", Role::Admin).await;
    let cookie = app.cookie_header(&app.session_for(admin).await);
    let post = |body: Value| {
        app.plain().post(app.url("/api/v1/settings/imap/check")).header("cookie", &cookie).header("origin", &app.address).json(&body).send()
    };
    // Nothing configured and nothing given.
    let (s, c) = error_code(post(json!({})).await.unwrap()).await;
    assert_eq!((s, c.as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let (s, _) = error_code(post(json!({"url": "http://a:b@x.example/INBOX"})).await.unwrap()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, c) = error_code(post(json!({"url": "imaps://a:b@x.example", "extra": 1})).await.unwrap()).await;
    assert_eq!((s, c.as_str()), (StatusCode::BAD_REQUEST, "unknown_field"));
    // A closed port: TCP, in words.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let v: Value = post(json!({"url": format!("imap://a:b@127.0.0.1:{closed}/INBOX")})).await.unwrap().json().await.unwrap();
    assert_eq!((v["ok"].as_bool(), v["error"]["code"].as_str()), (Some(false), Some("tcp")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("connection refused"), "{v}");
    assert!(!v.to_string().contains(":b@"), "the password is never shown back");
    // A host that does not exist: DNS.
    let v: Value = post(json!({"url": "imaps://a:b@no-such-host.invalid/INBOX"})).await.unwrap().json().await.unwrap();
    assert_eq!(v["error"]["code"], "dns", "{v}");
    // Something that is not IMAP (this very server speaks HTTP): protocol or TLS, never a hang.
    let port = app.address.rsplit(':').next().unwrap();
    let v: Value = post(json!({"url": format!("imaps://a:b@127.0.0.1:{port}/INBOX")})).await.unwrap().json().await.unwrap();
    assert_eq!(v["error"]["code"], "tls", "{v}");
}

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

fn ingest_cli(data_dir: &std::path::Path, file: Option<&std::path::Path>, stdin: &[u8]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data_dir).args(["mail", "ingest"]).env_remove("FRONTDESK_CONFIG");
    if let Some(f) = file {
        cmd.arg(f);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[actix_web::test]
async fn mail_ingest_cli_works_while_serve_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::cli::Server::start(dir.path());
    let out =
        Command::new(BIN).arg("--data-dir").arg(dir.path()).args(["token", "create", "--name", "t", "--scope", "admin"]).output().unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let first = mail("Olga <olga@example.com>", "Где мой заказ?", "<cli1@example.com>", "", "Заказ 55 не пришёл.");
    let out = ingest_cli(dir.path(), None, first.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "#1001 new");

    let file = dir.path().join("reply.eml");
    std::fs::write(
        &file,
        mail("olga@example.com", "Re: Где мой заказ?", "<cli2@example.com>", "In-Reply-To: <cli1@example.com>\r\n", "Ну?"),
    )
    .unwrap();
    let out = ingest_cli(dir.path(), Some(&file), b"");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "#1001 threaded");

    let out = ingest_cli(dir.path(), Some(&file), b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ignored: duplicate"), "{out:?}");

    for (input, code) in
        [(&b""[..], "empty_message"), (b"garbage without headers", "not_a_mail"), (b"Subject: x\r\n\r\nno from", "no_sender")]
    {
        let out = ingest_cli(dir.path(), None, input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(code) && err.starts_with("frontdesk: refused"), "{err}");
    }
    let out = ingest_cli(dir.path(), Some(&dir.path().join("missing.eml")), b"");
    assert_eq!(out.status.code(), Some(2));

    // The running server sees what the CLI imported.
    let r = reqwest::Client::new().get(server.url("/api/v1/tickets/1001")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["subject"], "Где мой заказ?");
    assert_eq!(t["messages"].as_array().unwrap().len(), 2);
    let (status, _) = server.terminate();
    assert!(status.success());
}

#[actix_web::test]
async fn mail_for_a_merged_ticket_goes_to_the_ticket_it_was_merged_into() {
    let app = spawn_app().await;
    let token = app.api_token(Scope::Inbound).await;
    let admin = app.add_agent("admin@shop.example", Role::Admin).await;
    let cookie = app.cookie_header(&app.session_for(admin).await);
    post_mime(&app, &token, mail("ann@example.com", "First", "<m1@example.com>", "", "one")).await;
    post_mime(&app, &token, mail("ann@example.com", "Second", "<m2@example.com>", "", "two")).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/tickets/1001/merge"))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .json(&json!({"into": 1002}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    for (i, extra) in ["In-Reply-To: <m1@example.com>\r\n", ""].iter().enumerate() {
        let v: Value = post_mime(&app, &token, mail("ann@example.com", "Re: First [#1001]", &format!("<r{i}@example.com>"), extra, "more"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!((v["ticket"].as_i64(), v["threaded"].as_bool()), (Some(1002), Some(true)), "{extra:?}");
    }
}
