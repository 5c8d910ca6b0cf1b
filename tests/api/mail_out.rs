//! Outgoing mail against a real SMTP server: aiosmtpd (`tests/support/smtp_sink.py`) on a
//! loopback port, writing a Maildir the tests read. Each test starts its own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The Python with aiosmtpd: `FRONTDESK_TEST_PYTHON` (tests/run.sh sets Debian's), else the
/// first of /usr/bin/python3, python3 that can import it.
fn python() -> String {
    if let Ok(p) = std::env::var("FRONTDESK_TEST_PYTHON") {
        return p;
    }
    for p in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(p).args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if ok {
            return p.to_string();
        }
    }
    panic!("no python3 with aiosmtpd: apt-get install python3-aiosmtpd (tests/run.sh does)");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running aiosmtpd that stores accepted mail in a Maildir.
pub struct Sink {
    pub port: u16,
    pub maildir: PathBuf,
    child: Option<Child>,
    auth: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Sink {
    /// A sink on a free port (not started: `start` it, or leave it down to test failures).
    pub fn on_free_port() -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("Maildir");
        Sink { port: free_port(), maildir, child: None, auth: None, _dir: Some(dir) }
    }

    pub fn with_auth(mut self, user_password: &str) -> Sink {
        self.auth = Some(user_password.into());
        self
    }

    pub fn start(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut cmd = Command::new(python());
        cmd.arg(script).arg(self.port.to_string()).arg(&self.maildir);
        if let Some(a) = &self.auth {
            cmd.arg("--auth").arg(a);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start aiosmtpd");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("aiosmtpd printed ready");
        assert_eq!(line, "ready");
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        match &self.auth {
            Some(a) => format!("smtp://{a}@127.0.0.1:{}", self.port),
            None => format!("smtp://127.0.0.1:{}", self.port),
        }
    }

    /// Every stored mail, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(self.maildir.join("new")) {
            Ok(d) => d.map_while(Result::ok).map(|e| e.path()).collect(),
            Err(_) => vec![],
        };
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files.iter().map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()).collect()
    }

    /// Wait (real time, with a deadline) until `n` mails arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        let d = Deadline::secs(20, format!("{n} mails in the Maildir"));
        loop {
            let m = self.mails();
            if m.len() >= n {
                return m;
            }
            d.check_progress(|| format!("{} arrived", m.len()));
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A header's value (unfolded), case-insensitive name; None when absent.
pub fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\r\n\r\n").next().unwrap_or("").replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The Subject, its encoded words decoded.
pub fn decoded_subject(mail: &str) -> String {
    mail_parser::MessageParser::default().parse(mail.as_bytes()).and_then(|m| m.subject().map(str::to_string)).unwrap_or_default()
}

/// The decoded text of every part (base64 and quoted-printable undone), for finding links and
/// words whatever transfer encoding the mail chose.
pub fn decoded(mail: &str) -> String {
    use base64::Engine as _;
    let mut out = String::new();
    let lines: Vec<&str> = mail.split("\r\n").collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].to_ascii_lowercase();
        let b64 = l.starts_with("content-transfer-encoding: base64");
        let qp = l.starts_with("content-transfer-encoding: quoted-printable");
        i += 1;
        if !(b64 || qp) {
            continue;
        }
        while i < lines.len() && !lines[i].is_empty() {
            i += 1; // rest of the part's header
        }
        let mut body = Vec::new();
        while i < lines.len() && !lines[i].starts_with("--") {
            body.push(lines[i]);
            i += 1;
        }
        if b64 {
            let raw = base64::engine::general_purpose::STANDARD.decode(body.concat()).unwrap_or_default();
            out.push_str(&String::from_utf8_lossy(&raw));
        } else {
            let joined = body.join("\n").replace("=\n", "");
            let bytes = joined.as_bytes();
            let mut raw = Vec::new();
            let mut j = 0;
            while j < bytes.len() {
                if bytes[j] == b'='
                    && let Some(b) = joined.get(j + 1..j + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    raw.push(b);
                    j += 3;
                } else {
                    raw.push(bytes[j]);
                    j += 1;
                }
            }
            out.push_str(&String::from_utf8_lossy(&raw));
        }
        out.push('\n');
    }
    out.push_str(mail);
    out
}

/// The app with outgoing mail pointed at the sink.
async fn app_with(sink: &Sink) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |c| {
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse(&url).unwrap());
        c.mail_from = Some("Shop support <support@shop.example>".into());
    })
    .await
}

struct Staff {
    id: i64,
    admin: reqwest::Client,
}

/// An admin API token's client: unlike a session it survives the clock moving by days.
fn token_client(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(h).build().unwrap()
}

async fn staff(app: &TestApp) -> Staff {
    let id = app.add_agent("ann@shop.example", Role::Admin).await;
    Staff { id, admin: app.login("ann@shop.example").await }
}

async fn call(client: &reqwest::Client, app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut rb = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(path));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let s = r.status();
    let t = r.text().await.unwrap();
    (s, if t.is_empty() { Value::Null } else { serde_json::from_str(&t).unwrap_or(Value::String(t)) })
}

async fn new_ticket(app: &TestApp, who: &reqwest::Client, email: &str) -> i64 {
    let (s, t) = call(
        who,
        app,
        "POST",
        "/api/v1/tickets",
        Some(json!({"subject": "Broken zipper", "body": "It broke.", "customer": {"email": email}})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t["number"].as_i64().unwrap()
}

async fn reply(app: &TestApp, who: &reqwest::Client, number: i64, body: Value) -> Value {
    let (s, t) = call(who, app, "POST", &format!("/api/v1/tickets/{number}/reply"), Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t
}

/// The delivery of the last reply in the thread.
async fn last_delivery(app: &TestApp, who: &reqwest::Client, number: i64) -> Value {
    let (_, t) = call(who, app, "GET", &format!("/api/v1/tickets/{number}"), None).await;
    let replies: Vec<&Value> = t["messages"].as_array().unwrap().iter().filter(|m| m["kind"] == "reply").collect();
    replies.last().unwrap()["delivery"].clone()
}

/// Wait (real time, deadline) until the last reply's delivery is in `state`; returns it.
async fn wait_state(app: &TestApp, who: &reqwest::Client, number: i64, state: &str) -> Value {
    let deadline = Deadline::secs(20, format!("the reply to be {state}"));
    loop {
        let d = last_delivery(app, who, number).await;
        if d["state"] == state {
            return d;
        }
        deadline.check_progress(|| d.to_string());
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn a_reply_reaches_the_smtp_server_threaded_signed_multipart_with_its_attachment() {
    let mut sink = Sink::on_free_port();
    sink.start();
    let app = app_with(&sink).await;
    let st = staff(&app).await;
    let number = new_ticket(&app, &st.admin, "ola@example.pl").await;

    let first = reply(&app, &st.admin, number, json!({"body": "We are on it.", "after": "open"})).await;
    let mails = sink.wait_for(1).await;
    let m1 = &mails[0];
    let first_mid = first["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "reply").unwrap()["message_id"].clone();
    assert_eq!(header(m1, "Message-ID").as_deref(), first_mid.as_str(), "the thread's Message-ID is the mail's");
    assert_eq!(header(m1, "X-Envelope-To").as_deref(), Some("ola@example.pl"));
    assert_eq!(header(m1, "Subject").as_deref(), Some(format!("Re: Broken zipper [#{number}]").as_str()));
    assert!(header(m1, "Auto-Submitted").is_none(), "an agent's reply is not automatic mail");
    let from = header(m1, "From").unwrap();
    assert!(from.contains("support@shop.example"), "{from}");
    let reply_to = header(m1, "Reply-To").unwrap();
    let addr = reply_to.rsplit('<').next().unwrap().trim_end_matches('>');
    assert!(addr.starts_with(&format!("support+t{number}.")) && addr.ends_with("@shop.example"), "{reply_to}");
    assert_eq!(frontdesk::mail::verify_reply_token(app.state.mail.key(), addr), Some(number), "the reply address is signed");
    assert!(m1.contains("multipart/alternative") && m1.contains("text/plain") && m1.contains("text/html"), "{m1}");
    assert!(m1.contains("We are on it."));

    // The second reply answers the first and carries a file.
    let up = app
        .browser()
        .post(app.url("/api/v1/uploads"))
        .header("cookie", app.cookie_header(&app.session_for(st.id).await))
        .header("x-file-name", "receipt.pdf")
        .body(b"%PDF-1.4 receipt".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), StatusCode::CREATED);
    let att: Value = up.json().await.unwrap();
    // Uploads belong to the uploader: the same admin replies with their own file.
    reply(&app, &st.admin, number, json!({"body": "Here is your receipt.", "attachments": [att["token"]]})).await;
    let mails = sink.wait_for(2).await;
    let m2 = &mails[1];
    assert_eq!(header(m2, "In-Reply-To").as_deref(), first_mid.as_str());
    assert!(header(m2, "References").unwrap().contains(first_mid.as_str().unwrap()));
    assert!(m2.contains("multipart/mixed") && m2.contains("multipart/alternative"), "{m2}");
    assert!(m2.contains("filename=\"receipt.pdf\""), "{m2}");
    assert!(decoded(m2).contains("%PDF-1.4 receipt"), "the file's bytes are in the mail");

    // The thread shows each reply as sent (recorded right after the server's acceptance).
    let d = wait_state(&app, &st.admin, number, "sent").await;
    // Intake can tell our own mail by its Message-ID.
    let (ours, other) = (first_mid.as_str().unwrap().to_string(), "<someone@else.example>".to_string());
    let known =
        app.db.read(move |c| Ok((frontdesk::mail::store::is_ours(c, &ours)?, frontdesk::mail::store::is_ours(c, &other)?))).await.unwrap();
    assert_eq!(known, (true, false));
    assert!(d["at"].is_i64() && d["error"].is_null());
}

#[actix_web::test]
async fn smtp_down_retries_with_backoff_shows_the_failure_and_delivers_exactly_once_when_back() {
    let mut sink = Sink::on_free_port(); // not started: connections are refused
    let app = app_with(&sink).await;
    let st = Staff { id: 0, admin: token_client(&app.api_token(frontdesk::auth::Scope::Admin).await) };
    let number = new_ticket(&app, &st.admin, "ola@example.pl").await;
    let t0 = app.clock.now_ms();
    reply(&app, &st.admin, number, json!({"body": "Answer"})).await;

    // The worker tried at once (woken by the reply) and failed: queued again, reason shown.
    let mut d = Value::Null;
    let deadline = Deadline::secs(20, "the first attempt");
    while d["attempts"] != 1 {
        deadline.check_progress(|| d.to_string());
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        d = last_delivery(&app, &st.admin, number).await;
    }
    assert_eq!(d["state"], "queued");
    assert!(d["error"].as_str().unwrap().contains("refused"), "{d}");
    assert_eq!(d["next_attempt_at"], t0 + 60_000, "1 minute after the first failure");

    // Not due before its time; then each failure doubles the wait.
    let state = app.state.clone();
    let r = frontdesk::mail::send_due(&state, t0 + 59_000).await.unwrap();
    assert!(r.sent.is_empty() && r.retrying.is_empty(), "{r:?}");
    let mut at = t0;
    for attempt in 2..frontdesk::mail::MAX_ATTEMPTS {
        at += frontdesk::mail::backoff_ms(attempt - 1);
        app.clock.advance(at - app.clock.now_ms());
        let r = frontdesk::mail::send_due(&state, at).await.unwrap();
        assert_eq!(r.retrying.len(), 1, "attempt {attempt}: {r:?}");
        let d = last_delivery(&app, &st.admin, number).await;
        assert_eq!(
            (d["attempts"].as_i64(), d["next_attempt_at"].as_i64()),
            (Some(attempt), Some(at + frontdesk::mail::backoff_ms(attempt)))
        );
    }
    // The last attempt gives up: failed, visible in the thread and on the status page.
    at += frontdesk::mail::backoff_ms(frontdesk::mail::MAX_ATTEMPTS - 1);
    app.clock.advance(at - app.clock.now_ms());
    let r = frontdesk::mail::send_due(&state, at).await.unwrap();
    assert_eq!(r.failed.len(), 1, "{r:?}");
    let d = last_delivery(&app, &st.admin, number).await;
    assert_eq!(d["state"], "failed");
    assert!(d["error"].as_str().unwrap().contains(&format!("127.0.0.1:{}", sink.port)), "{d}");
    let (s, page) = call(&st.admin, &app, "GET", "/api/v1/mail/outbox", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["counts"]["failed"], 1, "{page}");
    let row = &page["items"][0];
    assert_eq!((row["status"].as_str(), row["ticket"].as_i64()), (Some("failed"), Some(number)));
    assert!(row["last_error"].as_str().unwrap().contains("refused"));
    // A mail that failed for good is not tried again by the worker.
    app.clock.advance(86_400_000);
    assert!(frontdesk::mail::send_due(&state, at + 86_400_000).await.unwrap().sent.is_empty());

    // SMTP is back; "retry" sends it once.
    sink.start();
    let outbox_id = d["outbox_id"].as_i64().unwrap();
    let (s, row) = call(&st.admin, &app, "POST", &format!("/api/v1/mail/outbox/{outbox_id}/retry"), None).await;
    assert_eq!(s, StatusCode::OK, "{row}");
    sink.wait_for(1).await;
    wait_state(&app, &st.admin, number, "sent").await;
    for _ in 0..3 {
        app.clock.advance(3_600_000);
        frontdesk::mail::send_due(&state, app.clock.now_ms()).await.unwrap();
    }
    let (s, again) = call(&st.admin, &app, "POST", &format!("/api/v1/mail/outbox/{outbox_id}/retry"), None).await;
    assert_eq!((s, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "a sent mail is never sent again");
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.mails().len(), 1, "exactly one delivery");
}

#[actix_web::test]
async fn refused_recipients_and_bad_passwords_fail_for_good_in_plain_words() {
    let mut sink = Sink::on_free_port().with_auth("desk:right-password");
    sink.start();
    let url = format!("smtp://desk:wrong@127.0.0.1:{}", sink.port);
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse(&url).unwrap());
        c.mail_from = Some("support@shop.example".into());
    })
    .await;
    let st = staff(&app).await;
    let (s, r) = call(&st.admin, &app, "POST", "/api/v1/settings/mail/test", Some(json!({"to": "me@shop.example"}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((r["ok"].as_bool(), r["stage"].as_str()), (Some(false), Some("auth")), "{r}");
    assert!(r["error"].as_str().unwrap().contains("user name or password"), "{r}");
    assert!(!r.to_string().contains("wrong"), "the password is never shown back: {r}");
    drop(app);

    // Right password: the test mail arrives; a refused recipient is named.
    let url = sink.url();
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse(&url).unwrap());
        c.mail_from = Some("support@shop.example".into());
    })
    .await;
    let st = staff(&app).await;
    let (_, r) = call(&st.admin, &app, "POST", "/api/v1/settings/mail/test", Some(json!({"to": "me@shop.example"}))).await;
    assert_eq!(r["ok"], true, "{r}");
    let m = sink.wait_for(1).await;
    assert_eq!(header(&m[0], "Auto-Submitted").as_deref(), Some("auto-generated"));
    assert_eq!(header(&m[0], "X-Auto-Response-Suppress").as_deref(), Some("All"));
    let (_, r) = call(&st.admin, &app, "POST", "/api/v1/settings/mail/test", Some(json!({"to": "refuse-me@shop.example"}))).await;
    assert_eq!((r["ok"].as_bool(), r["stage"].as_str()), (Some(false), Some("recipient")), "{r}");
    // A reply to a refused address fails at once (5xx), no retries.
    let number = new_ticket(&app, &st.admin, "refuse-me@example.pl").await;
    reply(&app, &st.admin, number, json!({"body": "Answer"})).await;
    let d = wait_state(&app, &st.admin, number, "failed").await;
    assert_eq!(d["attempts"], 1);
    assert!(d["error"].as_str().unwrap().contains("refused a recipient"), "{d}");

    // Nothing listening: TCP; an unknown host: DNS.
    let (_, r) = call(&st.admin, &app, "POST", "/api/v1/settings/mail/test", Some(json!({"to": "me@shop.example"}))).await;
    assert_eq!(r["ok"], true);
    sink.stop();
    let (_, r) = call(&st.admin, &app, "POST", "/api/v1/settings/mail/test", Some(json!({"to": "me@shop.example"}))).await;
    assert_eq!((r["ok"].as_bool(), r["stage"].as_str()), (Some(false), Some("tcp")), "{r}");
}

#[actix_web::test]
async fn mail_settings_from_the_console_masked_and_read_only_when_configured() {
    let app = spawn_app().await;
    let st = staff(&app).await;
    let (s, v) = call(&st.admin, &app, "GET", "/api/v1/settings/mail", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((v["smtp_url"]["source"].clone(), v["not_ready"].as_str()), (Value::Null, Some("smtp_url is not set")));
    // Mail written while unconfigured waits in the queue.
    let number = new_ticket(&app, &st.admin, "ola@example.pl").await;
    reply(&app, &st.admin, number, json!({"body": "Answer"})).await;
    assert_eq!(last_delivery(&app, &st.admin, number).await["state"], "queued");

    let mut sink = Sink::on_free_port().with_auth("desk:s3cret pass");
    sink.start();
    let url = format!("smtp://desk:s3cret%20pass@127.0.0.1:{}", sink.port);
    let (s, v) =
        call(&st.admin, &app, "PATCH", "/api/v1/settings/mail", Some(json!({"smtp_url": url, "mail_from": "Shop <support@shop.example>"})))
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["smtp_url"]["value"], format!("smtp://desk:********@127.0.0.1:{}", sink.port));
    assert_eq!((v["smtp_url"]["source"].as_str(), v["smtp_url"]["editable"].as_bool()), (Some("console"), Some(true)));
    assert!(!v.to_string().contains("s3cret"), "passwords never shown back");
    // Configuring sends what waited.
    let m = sink.wait_for(1).await;
    assert_eq!(header(&m[0], "X-Envelope-To").as_deref(), Some("ola@example.pl"));
    // Saving the masked value keeps the stored password.
    let masked = v["smtp_url"]["value"].as_str().unwrap().to_string();
    let (s, _) = call(&st.admin, &app, "PATCH", "/api/v1/settings/mail", Some(json!({"smtp_url": masked}))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, r) = call(&st.admin, &app, "POST", "/api/v1/settings/mail/test", Some(json!({"to": "me@shop.example"}))).await;
    assert_eq!(r["ok"], true, "{r}");
    // Bad input changes nothing.
    let before = app.dump("settings").await;
    for bad in [
        json!({"smtp_url": "http://x"}),
        json!({"smtp_url": 5}),
        json!({"mail_from": "nobody"}),
        json!({"default_locale": "de"}),
        json!({"nope": true}),
    ] {
        let (s, e) = call(&st.admin, &app, "PATCH", "/api/v1/settings/mail", Some(bad.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
        assert!(e["error"]["message"].as_str().is_some());
    }
    for bad in [json!({}), json!({"to": "x"}), json!({"to": "a@b.co", "x": 1})] {
        let (s, _) = call(&st.admin, &app, "POST", "/api/v1/settings/mail/test", Some(bad.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (s, _) = call(&st.admin, &app, "GET", "/api/v1/mail/outbox?status=nope", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(&st.admin, &app, "POST", "/api/v1/mail/outbox/999999/retry", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(app.dump("settings").await, before);

    // Set by config: shown with its source, read-only.
    let app2 = spawn_app_with(|c| {
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse("smtps://u:pw@mail.example").unwrap());
        c.smtp_url_source = Some("env FRONTDESK_SMTP_URL".into());
    })
    .await;
    let st2 = staff(&app2).await;
    let (_, v) = call(&st2.admin, &app2, "GET", "/api/v1/settings/mail", None).await;
    assert_eq!(v["smtp_url"]["value"], "smtps://u:********@mail.example:465");
    assert_eq!((v["smtp_url"]["from"].as_str(), v["smtp_url"]["editable"].as_bool()), (Some("env FRONTDESK_SMTP_URL"), Some(false)));
    let (s, e) = call(&st2.admin, &app2, "PATCH", "/api/v1/settings/mail", Some(json!({"smtp_url": "smtp://127.0.0.1:25"}))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(e["error"]["message"].as_str().unwrap().contains("env FRONTDESK_SMTP_URL"));
}

/// The reset link from a mail: `…/reset#token=…`.
fn link_in(mail: &str) -> String {
    let text = decoded(mail);
    let start = text.find("/reset#token=").expect("a reset link");
    let begin = text[..start].rfind("http").unwrap();
    let end = text[start..].find(|c: char| c.is_whitespace() || c == '"' || c == '<').map_or(text.len(), |e| start + e);
    text[begin..end].to_string()
}

#[actix_web::test]
async fn invitation_and_password_reset_links_work_once_and_expire() {
    let mut sink = Sink::on_free_port();
    sink.start();
    let app = app_with(&sink).await;
    let st = staff(&app).await;
    let (s, agent) = call(
        &st.admin,
        &app,
        "POST",
        "/api/v1/invitations",
        Some(json!({"email": "bob@shop.example", "name": "Bob", "role": "agent", "locale": "ru"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{agent}");
    let m = sink.wait_for(1).await;
    assert_eq!(header(&m[0], "X-Envelope-To").as_deref(), Some("bob@shop.example"));
    assert_eq!(header(&m[0], "Auto-Submitted").as_deref(), Some("auto-generated"));
    assert!(header(&m[0], "Subject").unwrap().starts_with("=?utf-8?"), "Russian subject, encoded");
    let link = link_in(&m[0]);
    let token = link.split("#token=").nth(1).unwrap().to_string();
    // The invited agent cannot sign in before choosing a password.
    assert_eq!(app.post_login(&app.browser(), "bob@shop.example", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    let anon = app.browser();
    let (s, v) = call(&anon, &app, "GET", &format!("/api/v1/auth/reset?token={token}"), None).await;
    assert_eq!((s, v["kind"].as_str(), v["email"].as_str()), (StatusCode::OK, Some("invitation"), Some("bob@shop.example")));
    let (s, _) = call(&anon, &app, "POST", "/api/v1/auth/reset", Some(json!({"token": token, "password": "short"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "weak password refused, link still good");
    let (s, v) = call(&anon, &app, "POST", "/api/v1/auth/reset", Some(json!({"token": token, "password": PASSWORD}))).await;
    assert_eq!((s, v["email"].as_str()), (StatusCode::OK, Some("bob@shop.example")), "{v}");
    assert_eq!(app.post_login(&app.browser(), "bob@shop.example", PASSWORD).await.status(), StatusCode::OK);
    let (s, v) = call(&anon, &app, "POST", "/api/v1/auth/reset", Some(json!({"token": token, "password": "another password"}))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::GONE, Some("link_expired")), "works once");
    let bob = agent["id"].as_i64().unwrap();
    let (s, _) = call(&st.admin, &app, "POST", &format!("/api/v1/agents/{bob}/invite"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "Bob has a password now");

    // Password reset: always 200; a mail only for a real account, at most one a minute.
    for email in ["nobody@shop.example", "bob@shop.example", "BOB@shop.example"] {
        let (s, v) = call(&anon, &app, "POST", "/api/v1/auth/password-reset", Some(json!({"email": email}))).await;
        assert_eq!((s, v["ok"].as_bool()), (StatusCode::OK, Some(true)));
    }
    let m = sink.wait_for(2).await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.mails().len(), 2, "one reset mail");
    let token = link_in(&m[1]).split("#token=").nth(1).unwrap().to_string();
    // An hour later it no longer works.
    app.clock.advance(3_600_001);
    let (s, v) = call(&anon, &app, "GET", &format!("/api/v1/auth/reset?token={token}"), None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::GONE, Some("link_expired")));
    let (s, _) = call(&anon, &app, "POST", "/api/v1/auth/reset", Some(json!({"token": token, "password": "yet another one"}))).await;
    assert_eq!(s, StatusCode::GONE);
    // A fresh one works, ends Bob's sessions, and sets the new password.
    call(&anon, &app, "POST", "/api/v1/auth/password-reset", Some(json!({"email": "bob@shop.example"}))).await;
    let m = sink.wait_for(3).await;
    let token = link_in(&m[2]).split("#token=").nth(1).unwrap().to_string();
    let (s, _) = call(&anon, &app, "POST", "/api/v1/auth/reset", Some(json!({"token": token, "password": "brand new password"}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.post_login(&app.browser(), "bob@shop.example", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.post_login(&app.browser(), "bob@shop.example", "brand new password").await.status(), StatusCode::OK);

    // Malformed input.
    for (path, body) in [
        ("/api/v1/auth/password-reset", json!({})),
        ("/api/v1/auth/password-reset", json!({"email": "a@b.co", "x": 1})),
        ("/api/v1/auth/reset", json!({"token": "x"})),
        ("/api/v1/invitations", json!({"email": "not-an-email", "name": "X", "role": "agent"})),
        ("/api/v1/invitations", json!({"email": "x@shop.example", "name": "X", "role": "boss"})),
    ] {
        let (s, _) = call(&st.admin, &app, "POST", path, Some(body.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {body}");
    }
    let (s, _) = call(&anon, &app, "GET", "/api/v1/auth/reset?token=", None).await;
    assert_eq!(s, StatusCode::GONE);
    let (s, _) = call(&anon, &app, "GET", "/api/v1/auth/reset", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

/// `frontdesk serve` as a real process with mail pointed at `smtp_url`; returns it and its URL.
fn serve(data_dir: &Path, smtp_url: &str) -> (Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("FRONTDESK_CONFIG")
        .env("FRONTDESK_SMTP_URL", smtp_url)
        .env("FRONTDESK_MAIL_FROM", "support@shop.example")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("Listening on ") {
                let _ = tx.send(u.trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(30)).expect("server printed its address");
    (child, url)
}

/// SPEC E1 "survives restarts mid-send": the process is SIGKILLed while the SMTP server has the
/// mail (it never answers), and the restarted one sends it, with the same Message-ID, once.
#[actix_web::test]
async fn a_mail_interrupted_mid_send_by_a_crash_is_sent_after_the_restart() {
    // A server that accepts connections and never says a word: the send hangs in `sending`.
    let tarpit_port = tarpit();
    let dir = tempfile::tempdir().unwrap();
    let out =
        Command::new(BIN).arg("--data-dir").arg(dir.path()).args(["token", "create", "--name", "t", "--scope", "admin"]).output().unwrap();
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("fdt_"), "{}", String::from_utf8_lossy(&out.stderr));
    let api = token_client(&token);

    let (mut child, url) = serve(dir.path(), &format!("smtp://127.0.0.1:{tarpit_port}"));
    let r = api
        .post(format!("{url}/api/v1/tickets"))
        .json(&json!({"subject": "Order", "body": "Where is it?", "customer": {"email": "ola@example.pl"}}))
        .send()
        .await
        .unwrap();
    let number = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let r = api.post(format!("{url}/api/v1/tickets/{number}/reply")).json(&json!({"body": "Shipped today."})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let thread = |url: String| {
        let api = api.clone();
        async move {
            let t: Value = api.get(format!("{url}/api/v1/tickets/{number}")).send().await.unwrap().json().await.unwrap();
            t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "reply").unwrap().clone()
        }
    };
    let deadline = Deadline::secs(20, "the reply to be in `sending`");
    loop {
        let m = thread(url.clone()).await;
        if m["delivery"]["state"] == "sending" {
            break;
        }
        deadline.check_progress(|| m["delivery"].to_string());
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();

    let mut sink = Sink::on_free_port();
    sink.start();
    let (mut child, url) = serve(dir.path(), &sink.url());
    let mails = sink.wait_for(1).await;
    let m = thread(url.clone()).await;
    assert_eq!(header(&mails[0], "Message-ID").as_deref(), m["message_id"].as_str(), "the same Message-ID");
    let deadline = Deadline::secs(20, "sent after the restart");
    while thread(url.clone()).await["delivery"]["state"] != "sent" {
        deadline.check();
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.mails().len(), 1, "sent once");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn config_check_names_a_malformed_smtp_url_without_its_password() {
    let out = Command::new(BIN)
        .args(["config", "check"])
        .env_remove("FRONTDESK_CONFIG")
        .env("FRONTDESK_SMTP_URL", "smtps//user:hunter22@mail.example")
        .env("FRONTDESK_MAIL_FROM", "not an address")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("smtp_url (from env FRONTDESK_SMTP_URL)"), "{err}");
    assert!(err.contains("mail_from (from env FRONTDESK_MAIL_FROM)"), "{err}");
    assert!(!err.contains("hunter22"), "{err}");
}

/// One chat: the visitor writes, the admin accepts, answers and ends it. Returns the conversation.
async fn chat_once(app: &TestApp, cookie: &str, visitor_token: Option<&str>, words: &str) -> (i64, String) {
    use crate::ws;
    let (mut agent, _) = ws::agent(&app.address, cookie).await;
    let (mut v, welcome) = ws::visitor(&app.address, visitor_token, None).await;
    let token = welcome["token"].as_str().unwrap().to_string();
    v.send(json!({"type": "message", "client_id": "m1", "body": words})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    agent.send(json!({"type": "accept", "conversation": conv})).await;
    agent.recv_type("accepted").await;
    agent.send(json!({"type": "message", "conversation": conv, "client_id": "a1", "body": "Tak, wysyłamy."})).await;
    agent.recv_type("ack").await;
    agent.send(json!({"type": "end", "conversation": conv})).await;
    v.recv_type("status").await;
    let deadline = Deadline::secs(10, "the chat to end");
    loop {
        let f = v.recv_type("status").await;
        if f["status"] == "ended" {
            break;
        }
        deadline.check();
    }
    (conv, token)
}

#[actix_web::test]
async fn transcripts_and_offline_answers_go_out_in_the_visitors_language() {
    let mut sink = Sink::on_free_port();
    sink.start();
    let app = app_with(&sink).await;
    let st = staff(&app).await;
    // The admin accepts the chats by hand (manual routing), and chats only start while
    // someone is accepting.
    app.set_routing(|r| r.mode = frontdesk::routing::Mode::Manual).await;
    app.set_status(st.id, frontdesk::routing::AgentStatus::Accepting).await;
    let cookie = app.cookie_header(&app.session_for(st.id).await);
    let (s, _) = call(&st.admin, &app, "PATCH", "/api/v1/settings/mail", Some(json!({"transcript_auto": true}))).await;
    assert_eq!(s, StatusCode::OK);

    // An anonymous visitor (browser language pl): nothing goes out on its own at the end.
    let (conv, token) = chat_once(&app, &cookie, None, "Czy wysyłacie do Krakowa?").await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.mails().is_empty(), "no address, no automatic transcript");
    // The agent has no address to send to; the visitor asks with one.
    let (s, e) = call(&st.admin, &app, "POST", &format!("/api/v1/conversations/{conv}/transcript"), Some(json!({}))).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")));
    let ask = |email: &str| {
        app.plain()
            .post(app.url("/api/v1/widget/transcript"))
            .header("origin", &app.address)
            .header("x-visitor-token", &token)
            .json(&json!({"email": email}))
            .send()
    };
    // Her browser said Europe/Warsaw (in its hello): the transcript's times are hers, the zone
    // named once.
    let first_at: i64 = app
        .db
        .read(move |c| {
            Ok(c.query_row("SELECT created_at FROM messages WHERE conversation_id = ?1 ORDER BY seq LIMIT 1", [conv], |r| r.get(0))?)
        })
        .await
        .unwrap();
    let warsaw = jiff::Timestamp::from_millisecond(first_at).unwrap().to_zoned(jiff::tz::TimeZone::get("Europe/Warsaw").unwrap());
    assert_eq!(ask("ola@example.pl").await.unwrap().status(), StatusCode::ACCEPTED);
    let m = sink.wait_for(1).await;
    assert_eq!(header(&m[0], "X-Envelope-To").as_deref(), Some("ola@example.pl"));
    assert_eq!(header(&m[0], "Auto-Submitted").as_deref(), Some("auto-generated"));
    let text = decoded(&m[0]);
    assert!(text.contains("Twój czat z Shop support") || header(&m[0], "Subject").unwrap().starts_with("=?utf-8?"), "Polish");
    assert!(text.contains("Czy wysyłacie do Krakowa?") && text.contains("Tak, wysyłamy."), "{text}");
    assert!(text.contains("Oto zapis Twojego czatu"), "{text}");
    assert!(text.contains(&format!("[{}] ", warsaw.strftime("%H:%M"))) && !text.contains(" UTC]"), "Warsaw time: {text}");
    assert!(decoded_subject(&m[0]).contains(&format!("{}, Europe/Warsaw", warsaw.strftime("%Y-%m-%d"))), "{}", decoded_subject(&m[0]));
    // Asking again for the same address sends nothing new; another address is the agent's call.
    assert_eq!(ask("ola@example.pl").await.unwrap().status(), StatusCode::ACCEPTED);
    let (s, v) =
        call(&st.admin, &app, "POST", &format!("/api/v1/conversations/{conv}/transcript"), Some(json!({"email": "boss@example.pl"}))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    sink.wait_for(2).await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.mails().len(), 2);
    for bad in [json!({"email": "nope"}), json!({"x": 1})] {
        assert_eq!(ask_raw(&app, &token, bad.clone()).await, StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = app.plain().post(app.url("/api/v1/widget/transcript")).header("origin", &app.address).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no visitor token");

    // The visitor leaves an offline message with an address; the answer is an offline answer
    // in Polish, and their next chat's transcript goes out by itself when it ends.
    let r = app
        .plain()
        .post(app.url("/api/v1/widget/offline"))
        .header("origin", &app.address)
        .header("x-visitor-token", &token)
        .json(&json!({"email": "ola@example.pl", "message": "Czy macie rozmiar 38?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    reply(&app, &st.admin, number, json!({"body": "Tak, mamy."})).await;
    let m = sink.wait_for(3).await;
    let text = decoded(&m[2]);
    assert!(text.contains("Dziękujemy za wiadomość. Oto nasza odpowiedź:") && text.contains("Tak, mamy."), "{text}");
    assert!(text.contains(&format!("Zgłoszenie #{number}")), "{text}");
    assert!(header(&m[2], "Auto-Submitted").is_none());
    // The server hears the SMTP server's answer a moment after the mail arrived there: the row
    // turns `sent` then.
    let deadline = Deadline::secs(10, "the offline answer marked sent");
    loop {
        let (_, page) = call(&st.admin, &app, "GET", "/api/v1/mail/outbox?status=sent", None).await;
        if page["items"].as_array().unwrap().iter().any(|r| r["kind"] == "offline_answer" && r["ticket"] == number) {
            break;
        }
        deadline.check_progress(|| format!("{page}"));
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    chat_once(&app, &cookie, Some(&token), "A rozmiar 39?").await;
    let m = sink.wait_for(4).await;
    assert_eq!(header(&m[3], "X-Envelope-To").as_deref(), Some("ola@example.pl"));
    assert!(decoded(&m[3]).contains("A rozmiar 39?"));
}

async fn ask_raw(app: &TestApp, token: &str, body: Value) -> StatusCode {
    app.plain()
        .post(app.url("/api/v1/widget/transcript"))
        .header("origin", &app.address)
        .header("x-visitor-token", token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

/// A mail server that accepts connections and never answers.
fn tarpit() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().map_while(Result::ok) {
            held.push(s);
        }
    });
    port
}

#[actix_web::test]
async fn a_hanging_mail_server_never_holds_up_the_scheduler_round() {
    let port = tarpit();
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}")).unwrap());
        c.mail_from = Some("support@shop.example".into());
    })
    .await;
    let st = staff(&app).await;
    let number = new_ticket(&app, &st.admin, "ola@example.pl").await;
    reply(&app, &st.admin, number, json!({"body": "Answer"})).await;
    wait_state(&app, &st.admin, number, "sending").await;
    // The worker waits on the silent server (up to its 20 s timeout); the round goes on without it.
    let report = tokio::time::timeout(Duration::from_secs(5), frontdesk::jobs::run_once(&app.state, 1)).await.expect("round not held up");
    assert_eq!(report.mail, None, "mail skipped while the worker is busy");
}
