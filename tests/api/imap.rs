//! The IMAP fetcher against a real Dovecot (SPEC E3): each test starts its own Dovecot as a
//! non-root user on loopback ports with a generated config (Maildir in a temp dir, IMAP with
//! plaintext login allowed on loopback, IMAPS with a self-signed certificate made by `openssl`),
//! delivers mail by writing files into the Maildir, and watches tickets appear.
//! `tests/run.sh` installs `dovecot-imapd`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use frontdesk::inbound::imap::{self, ImapUrl};
use serde_json::{Value, json};

use crate::helpers::*;

const DOVECOT: &str = "/usr/sbin/dovecot";
const USER: &str = "support@shop.example";
const PASSWORD: &str = "s3cret pass";

pub struct Dovecot {
    child: Child,
    pub dir: tempfile::TempDir,
    pub imap_port: u16,
    pub imaps_port: u16,
    delivered: usize,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Dovecot {
    /// Start Dovecot as the current user, or as `nobody` when the tests run as root (Dovecot
    /// then never holds root: setpriv drops it before exec).
    pub fn start() -> Dovecot {
        assert!(Path::new(DOVECOT).exists(), "{DOVECOT} is missing: install dovecot-imapd (tests/run.sh does)");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["run", "state", "home", "Maildir/new", "Maildir/cur", "Maildir/tmp"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        // A test CA (what imap_ca_file trusts) and the server's certificate signed by it.
        let f = |s: &str| d.join(s).to_str().unwrap().to_string();
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=frontdesk test CA"])
            .args(["-keyout", &f("ca.key"), "-out", &f("ca.pem")]));
        run(Command::new("openssl").args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"]).args([
            "-keyout",
            &f("key.pem"),
            "-out",
            &f("server.csr"),
        ]));
        std::fs::write(d.join("server.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
        run(Command::new("openssl").args(["x509", "-req", "-days", "1", "-CAcreateserial"]).args([
            "-in",
            &f("server.csr"),
            "-CA",
            &f("ca.pem"),
            "-CAkey",
            &f("ca.key"),
            "-extfile",
            &f("server.ext"),
            "-out",
            &f("cert.pem"),
        ]));
        std::fs::write(d.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let root = unsafe { libc::geteuid() } == 0;
        let (user, group) = if root {
            ("nobody".to_string(), run(Command::new("id").args(["-gn", "nobody"])))
        } else {
            (run(Command::new("id").arg("-un")), run(Command::new("id").arg("-gn")))
        };
        let (imap_port, imaps_port) = (free_port(), free_port());
        let p = |s: &str| d.join(s).to_str().unwrap().to_string();
        let conf = format!(
            r#"base_dir = {run}
state_dir = {state}
log_path = {log}
instance_name = fd-test-{imap_port}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{maildir}
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={home}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"#,
            run = p("run"),
            state = p("state"),
            log = p("dovecot.log"),
            cert = p("cert.pem"),
            key = p("key.pem"),
            maildir = p("Maildir"),
            passwd = p("passwd"),
            home = p("home"),
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        let mut cmd = if root {
            run(Command::new("chown").args(["-R", &format!("nobody:{group}")]).arg(d));
            let mut c = Command::new("setpriv");
            c.args(["--reuid=nobody", &format!("--regid={group}"), "--clear-groups", DOVECOT]);
            c
        } else {
            Command::new(DOVECOT)
        };
        let child = cmd.args(["-F", "-c"]).arg(d.join("dovecot.conf")).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let dv = Dovecot { child, dir, imap_port, imaps_port, delivered: 0 };
        let deadline = Deadline::secs(20, "Dovecot listening");
        while std::net::TcpStream::connect(("127.0.0.1", imaps_port)).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", imap_port)).is_err()
        {
            if deadline.passed() {
                panic!("Dovecot did not start:\n{}", std::fs::read_to_string(dv.dir.path().join("dovecot.log")).unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        dv
    }

    /// The test CA's certificate (for `imap_ca_file`).
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn url(&self, tls: bool) -> ImapUrl {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
        let s = if tls {
            format!("imaps://{}:{}@127.0.0.1:{}/INBOX", enc(USER), enc(PASSWORD), self.imaps_port)
        } else {
            format!("imap://{}:{}@127.0.0.1:{}/INBOX", enc(USER), enc(PASSWORD), self.imap_port)
        };
        ImapUrl::parse(&s).unwrap()
    }

    /// Deliver like an MTA does: write into tmp/, rename into new/.
    pub fn deliver(&mut self, raw: &[u8]) {
        self.delivered += 1;
        let name = format!("{}.M{}P{}.fdtest", 1_700_000_000 + self.delivered, self.delivered, std::process::id());
        let tmp = self.dir.path().join("Maildir/tmp").join(&name);
        std::fs::write(&tmp, raw).unwrap();
        if unsafe { libc::geteuid() } == 0 {
            run(Command::new("chown").arg("nobody").arg(&tmp));
        }
        std::fs::rename(&tmp, self.dir.path().join("Maildir/new").join(&name)).unwrap();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SAFETY: signalling our own child (the Dovecot master), which stops its services.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Deadline::secs(10, "Dovecot stopping");
        while self.child.try_wait().ok().flatten().is_none() && !deadline.passed() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message(i: usize, extra: &str) -> Vec<u8> {
    format!(
        "From: Customer {i} <customer{i}@example.com>\r\nTo: {USER}\r\nSubject: Question {i}\r\nMessage-ID: <imap.{i}@example.com>\r\n{extra}\
         Content-Type: text/plain; charset=utf-8\r\n\r\nQuestion number {i}.\r\n"
    )
    .into_bytes()
}

async fn tickets(app: &TestApp) -> i64 {
    app.count("tickets").await
}

async fn wait_for_tickets(app: &TestApp, n: i64, secs: u64) {
    let deadline = Deadline::secs(secs, format!("{n} tickets"));
    while tickets(app).await < n {
        deadline.check();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_mail_delivered_to_dovecot_becomes_a_ticket_through_idle_over_imaps() {
    let mut dv = Dovecot::start();
    let (url, cert) = (dv.url(true), dv.cert());
    let app = spawn_app_with(move |c| {
        c.imap_url = Some(url);
        c.imap_ca_file = Some(cert);
    })
    .await;
    // The fetcher is connected and idling once the mailbox has been read (cursor written
    // only when a message came; so wait for the login in Dovecot's log instead).
    let log = dv.dir.path().join("dovecot.log");
    let deadline = Deadline::secs(20, "the fetcher logs in");
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("Login: user=<support@shop.example>") {
        deadline.check();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    dv.deliver(&message(1, ""));
    wait_for_tickets(&app, 1, 15).await;
    let took = started.elapsed();
    eprintln!("IDLE: delivered → ticket in {} ms", took.as_millis());

    let t = app.db.read(|c| Ok(frontdesk::tickets::store::by_number(c, 1001)?.unwrap())).await.unwrap();
    assert_eq!((t.subject.as_str(), t.source.as_str()), ("Question 1", "email"));
    // A reply by Message-ID, delivered while idling, threads into the same ticket.
    dv.deliver(&message(2, "In-Reply-To: <imap.1@example.com>\r\n"));
    let deadline = Deadline::secs(15, "the reply is threaded");
    while app.count("ticket_messages").await < 2 {
        deadline.check();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tickets(&app).await, 1);
}

#[actix_web::test]
async fn check_connection_names_the_step_that_failed() {
    let dv = Dovecot::start();
    let cert = dv.cert();
    assert_eq!(imap::check(&dv.url(true), Some(&cert)).await, Ok(0), "imaps with the test CA");
    assert_eq!(imap::check(&dv.url(false), None).await, Ok(0), "plain imap on loopback");
    let e = imap::check(&dv.url(true), None).await.unwrap_err();
    assert_eq!(e.code(), "tls", "{e}");
    assert!(e.to_string().contains("not signed by a trusted authority"), "{e}");
    let mut wrong = dv.url(true);
    wrong.password = "wrong".into();
    let e = imap::check(&wrong, Some(&cert)).await.unwrap_err();
    assert_eq!(e.code(), "auth", "{e}");
    let mut missing = dv.url(true);
    missing.mailbox = "Nope".into();
    let e = imap::check(&missing, Some(&cert)).await.unwrap_err();
    assert_eq!(e.code(), "mailbox", "{e}");
    // imaps:// against the plain port: TLS, in words.
    let mut plain_port = dv.url(true);
    plain_port.port = dv.imap_port;
    let e = imap::check(&plain_port, Some(&cert)).await.unwrap_err();
    assert_eq!(e.code(), "tls", "{e}");

    // The endpoint says the same to an admin.
    let app = spawn_app().await;
    let admin = app.add_agent("admin@shop.example", frontdesk::auth::Role::Admin).await;
    let plain = format!("imap://support%40shop.example:wrong@127.0.0.1:{}/INBOX", dv.imap_port);
    let v: Value = app
        .plain()
        .post(app.url("/api/v1/settings/imap/check"))
        .header("cookie", app.cookie_header(&app.session_for(admin).await))
        .header("origin", &app.address)
        .json(&serde_json::json!({ "url": plain }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((v["ok"].as_bool(), v["error"]["code"].as_str()), (Some(false), Some("auth")), "{v}");
}

#[actix_web::test]
async fn a_fetcher_restart_mid_import_loses_and_duplicates_nothing() {
    let mut dv = Dovecot::start();
    let cert = dv.cert();
    let app = spawn_app_with(move |c| {
        c.imap_ca_file = Some(cert);
        c.mail_max_bytes = 64 * 1024;
    })
    .await;
    let url = dv.url(true);
    const M: usize = 12;
    for i in 1..=M {
        dv.deliver(&message(i, ""));
        if i == 4 {
            // Refused messages are passed over, never stopping the import.
            dv.deliver(b"this is not a mail at all");
            dv.deliver(&message(900, &format!("X-Padding: {}\r\n", "x".repeat(70 * 1024))));
        }
    }
    // Stop after 5 of the 14 (the cursor commits with each message)…
    assert_eq!(imap::run_once(&app.state, &url, Some(5)).await, Ok(5));
    assert_eq!(tickets(&app).await, 4, "4 mails and the refused one");
    // …and start again: the rest, once.
    assert_eq!(imap::run_once(&app.state, &url, None).await, Ok(M + 2 - 5));
    assert_eq!(tickets(&app).await, M as i64);
    assert_eq!(imap::run_once(&app.state, &url, None).await, Ok(0), "nothing left");

    // The supervised task, stopped and started while mail keeps coming.
    for i in M + 1..=M + 8 {
        dv.deliver(&message(i, ""));
    }
    let fetcher = imap::spawn(app.state.clone(), url.clone());
    wait_for_tickets(&app, M as i64 + 1, 15).await;
    fetcher.stop().await;
    let at_stop = tickets(&app).await;
    for i in M + 9..=M + 10 {
        dv.deliver(&message(i, ""));
    }
    let fetcher = imap::spawn(app.state.clone(), url.clone());
    wait_for_tickets(&app, M as i64 + 10, 15).await;
    fetcher.stop().await;
    eprintln!("restart: stopped at {at_stop} of {} tickets", M + 10);

    // A lost cursor (or a new UIDVALIDITY) reads everything again: Message-IDs keep it from
    // importing anything twice.
    let key = url.cursor_key();
    app.db.write(move |c| Ok(c.execute("DELETE FROM imap_cursor WHERE mailbox = ?1", [key])?)).await.unwrap();
    imap::run_once(&app.state, &url, None).await.unwrap();
    assert_eq!(tickets(&app).await, M as i64 + 10);
    let dupes: i64 = app
        .db
        .read(|c| Ok(c.query_row("SELECT count(*) FROM (SELECT message_id FROM ticket_messages WHERE message_id IS NOT NULL GROUP BY message_id HAVING count(*) > 1)", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(dupes, 0);
    let refused: i64 = app.count("inbound_mail").await;
    assert_eq!(refused, M as i64 + 10, "one intake row per imported mail; refused ones leave none");
}

#[actix_web::test]
async fn imap_url_set_in_the_console_is_fetched_without_a_restart_and_its_password_never_shown() {
    let mut dv = Dovecot::start();
    let cert = dv.cert();
    let app = spawn_app_with(move |c| c.imap_ca_file = Some(cert)).await;
    let token = app.api_token(frontdesk::auth::Scope::Admin).await;
    let admin = {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        reqwest::Client::builder().default_headers(h).build().unwrap()
    };
    let call = |method: reqwest::Method, path: &'static str, body: Value| {
        let rb = admin.request(method, app.url(path)).json(&body);
        async move {
            let r = rb.send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let get = || call(reqwest::Method::GET, "/api/v1/settings/mail", Value::Null);
    let patch = |b: Value| call(reqwest::Method::PATCH, "/api/v1/settings/mail", b);
    let (_, s) = get().await;
    assert_eq!((s["imap_url"]["value"].clone(), s["imap_url"]["editable"].as_bool()), (Value::Null, Some(true)), "{s}");

    // Bad values are refused and change nothing.
    let masked_first = dv.url(true).masked();
    for bad in [json!("not a url"), json!("ftp://a:b@127.0.0.1/INBOX"), json!("imaps://127.0.0.1/INBOX"), json!(masked_first), json!(5)] {
        let (st, b) = patch(json!({ "imap_url": bad })).await;
        assert_eq!(st, reqwest::StatusCode::BAD_REQUEST, "{bad}: {b}");
        assert!(b["error"]["message"].is_string(), "{b}");
    }
    assert_eq!(get().await.1["imap_url"]["value"], Value::Null);
    assert!(app.state.imap.current().await.is_none());

    // Set: fetched from now on, no restart; shown without the password.
    let (st, s) = patch(json!({ "imap_url": dv.url(true).to_url_string() })).await;
    assert_eq!(st, reqwest::StatusCode::OK, "{s}");
    let shown = s["imap_url"]["value"].as_str().unwrap().to_string();
    assert!(shown.contains("********") && !shown.contains("s3cret"), "{shown}");
    assert_eq!(s["imap_url"]["source"], "console");
    assert_eq!(app.state.imap.current().await, Some(dv.url(true)));
    dv.deliver(&message(1, ""));
    wait_for_tickets(&app, 1, 15).await;

    // The shown (masked) value sent back keeps the stored password and the running fetcher.
    let (st, _) = patch(json!({ "imap_url": shown })).await;
    assert_eq!(st, reqwest::StatusCode::OK);
    assert_eq!(app.state.imap.current().await, Some(dv.url(true)));
    // "Check connection" with the form's masked value uses the stored password.
    let check = |b: Value| call(reqwest::Method::POST, "/api/v1/settings/imap/check", b);
    let (_, v) = check(json!({ "url": shown })).await;
    assert_eq!(v["ok"], true, "{v}");
    let (_, v) = check(json!({})).await;
    assert_eq!(v["ok"], true, "the URL in force: {v}");

    // A wrong password: the check says so in words, and the fetcher follows the new URL.
    let mut wrong = dv.url(true);
    wrong.password = "wrong".into();
    let (_, v) = check(json!({ "url": wrong.to_url_string() })).await;
    assert_eq!((v["ok"].as_bool(), v["error"]["code"].as_str()), (Some(false), Some("auth")), "{v}");
    patch(json!({ "imap_url": wrong.to_url_string() })).await;
    assert_eq!(app.state.imap.current().await.map(|u| u.password), Some("wrong".to_string()));
    // Cleared: the fetcher stops.
    let (st, s) = patch(json!({ "imap_url": null })).await;
    assert_eq!((st, s["imap_url"]["value"].clone()), (reqwest::StatusCode::OK, Value::Null));
    assert!(app.state.imap.current().await.is_none());
    let (st, _) = check(json!({})).await;
    assert_eq!(st, reqwest::StatusCode::BAD_REQUEST, "nothing to check");

    // Set by config: read-only here.
    let url = dv.url(false);
    let app2 = spawn_app_with(move |c| c.imap_url = Some(url)).await;
    let token = app2.api_token(frontdesk::auth::Scope::Admin).await;
    let r = reqwest::Client::new()
        .patch(app2.url("/api/v1/settings/mail"))
        .bearer_auth(&token)
        .json(&json!({ "imap_url": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CONFLICT);
    let s: Value =
        reqwest::Client::new().get(app2.url("/api/v1/settings/mail")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!((s["imap_url"]["source"].as_str(), s["imap_url"]["editable"].as_bool()), (Some("config"), Some(false)), "{s}");
    assert!(!s["imap_url"]["value"].as_str().unwrap().contains("s3cret"));
}

/// A server of our own on `data` (so the test can stop it and start another on the same files).
struct Running {
    address: String,
    db: frontdesk::db::Db,
    state: actix_web::web::Data<frontdesk::state::AppState>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(config: frontdesk::Config) -> Running {
        let app = frontdesk::Application::build_with_clock(config, std::sync::Arc::new(crate::helpers::test_clock())).await.unwrap();
        let (address, db, state, handle) = (format!("http://127.0.0.1:{}", app.port()), app.db(), app.state(), app.handle());
        let task = actix_web::rt::spawn(app.run_until_stopped());
        Running { address, db, state, handle, task }
    }

    /// Stop like SIGTERM does: the server, then the IMAP fetcher, then the database.
    async fn stop(self) {
        self.handle.stop(true).await;
        self.task.await.unwrap().unwrap();
    }

    async fn tickets(&self) -> i64 {
        self.db.read(|c| frontdesk::db::count(c, "SELECT count(*) FROM tickets", [])).await.unwrap()
    }

    async fn wait_for_tickets(&self, n: i64, secs: u64) {
        let deadline = Deadline::secs(secs, format!("{n} tickets"));
        while self.tickets().await < n {
            deadline.check();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Done-when 1 of the email issue in one run: customer mail delivered into Dovecot becomes a
/// ticket through IDLE; the agent's reply reaches aiosmtpd with our Message-ID, In-Reply-To,
/// References and the signed reply address; the customer's answer to that address, delivered
/// into Dovecot, threads into the same ticket; a restart in the middle of an import loses and
/// duplicates nothing.
#[actix_web::test]
async fn customer_mail_to_ticket_reply_by_smtp_answer_threads_and_a_restart_mid_import_loses_nothing() {
    use crate::mail_out::{Sink, decoded, header};
    let mut dv = Dovecot::start();
    let mut sink = Sink::on_free_port();
    sink.start();
    let data = tempfile::tempdir().unwrap();
    let (imap_url, cert, smtp) = (dv.url(true), dv.cert(), sink.url());
    let config = move || {
        let mut c = frontdesk::Config::for_data_dir(data.path());
        c.imap_url = Some(imap_url.clone());
        c.imap_ca_file = Some(cert.clone());
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse(&smtp).unwrap());
        c.mail_from = Some("Shop support <support@shop.example>".into());
        c.mail_max_bytes = 1 << 20;
        c
    };
    let app = Running::start(config()).await;
    let log = dv.dir.path().join("dovecot.log");
    let deadline = Deadline::secs(20, "the fetcher logs in");
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("Login: user=<support@shop.example>") {
        deadline.check();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // 1. The customer writes; IDLE brings it in.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    dv.deliver(
        b"From: Ola Nowak <ola@example.pl>\r\nTo: support@shop.example\r\nSubject: Where is order 77?\r\nMessage-ID: <q1@example.pl>\r\n\
          Content-Type: text/plain; charset=utf-8\r\n\r\nIt has not arrived.\r\n",
    );
    app.wait_for_tickets(1, 15).await;
    eprintln!("IDLE: delivered -> ticket in {} ms", started.elapsed().as_millis());
    let number: i64 = app.db.read(|c| frontdesk::db::count(c, "SELECT number FROM tickets", [])).await.unwrap();

    // 2. An agent answers; the mail reaches the SMTP server threaded and signed.
    let hash = frontdesk::auth::PasswordHasher::hash_blocking(crate::helpers::PASSWORD).unwrap();
    let new = frontdesk::agents::NewAgent {
        email: "ann@shop.example".into(),
        name: "Ann".into(),
        role: frontdesk::auth::Role::Agent,
        password: crate::helpers::PASSWORD.into(),
        chat_limit: None,
        department_ids: vec![],
        locale: None,
    };
    let now = app.state.now();
    let ann = app.db.write(move |c| frontdesk::agents::create(c, &new, &hash, &frontdesk::audit::Actor::cli(), now)).await.unwrap().id;
    let token = frontdesk::auth::new_secret_token();
    let th = frontdesk::auth::token_hash(&token);
    app.db.write(move |c| frontdesk::auth::store::create_session(c, ann, &th, now, now + 86_400_000, "", "")).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/tickets/{number}/reply", app.address))
        .header("cookie", format!("frontdesk_session={token}"))
        .header("origin", &app.address)
        .json(&json!({"body": "It left our warehouse today."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let mail = sink.wait_for(1).await.remove(0);
    let reply_mid: String =
        app.db.read(|c| Ok(c.query_row("SELECT message_id FROM ticket_messages WHERE kind = 'reply'", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(header(&mail, "Message-ID").as_deref(), Some(reply_mid.as_str()));
    assert_eq!(header(&mail, "In-Reply-To").as_deref(), Some("<q1@example.pl>"));
    assert!(header(&mail, "References").unwrap().contains("<q1@example.pl>"), "{mail}");
    let reply_to = header(&mail, "Reply-To").unwrap();
    let key = app.state.mail.key().to_vec();
    let token_addr = frontdesk::mail::reply_address("support@shop.example", &frontdesk::mail::reply_token(&key, number));
    assert!(reply_to.contains(&token_addr), "{reply_to} vs {token_addr}");
    assert!(decoded(&mail).contains("It left our warehouse today."));

    // 3. The customer answers to the reply address; their client keeps no thread headers and
    // drops the [#N] from the subject: the signed token alone threads it.
    dv.deliver(
        format!(
            "From: Ola Nowak <ola@example.pl>\r\nTo: {token_addr}\r\nSubject: thanks\r\nMessage-ID: <q2@example.pl>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nGot it, thanks!\r\n"
        )
        .as_bytes(),
    );
    let deadline = Deadline::secs(15, "the answer is threaded");
    let customer_messages = || async {
        app.db.read(|c| frontdesk::db::count(c, "SELECT count(*) FROM ticket_messages WHERE kind = 'customer'", [])).await.unwrap()
    };
    while customer_messages().await < 2 {
        deadline.check();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.tickets().await, 1, "threaded into the same ticket");

    // 4. A restart in the middle of an import: 60 mails arrive, the server stops after the
    // first few were imported, starts again; each is imported exactly once.
    const M: usize = 60;
    for i in 1..=M {
        dv.deliver(&message(100 + i, &format!("X-Padding: {}\r\n", "x".repeat(20 * 1024))));
    }
    app.wait_for_tickets(2, 15).await;
    app.stop().await;
    let app = Running::start(config()).await;
    let at_restart = app.tickets().await - 1;
    eprintln!("restart after {at_restart} of {M} mails");
    assert!(at_restart >= 1 && (at_restart as usize) < M, "the stop came mid-import: {at_restart}");
    app.wait_for_tickets(1 + M as i64, 30).await;
    let (dupes, intake): (i64, i64) = app
        .db
        .read(|c| {
            Ok((
                c.query_row(
                    "SELECT count(*) FROM (SELECT message_id FROM ticket_messages WHERE message_id IS NOT NULL GROUP BY message_id HAVING count(*) > 1)",
                    [],
                    |r| r.get(0),
                )?,
                frontdesk::db::count(c, "SELECT count(*) FROM inbound_mail", [])?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((dupes, intake), (0, 2 + M as i64), "no duplicate, one intake row per mail");
    assert_eq!(app.tickets().await, 1 + M as i64);
    assert_eq!(sink.mails().len(), 1, "no automatic mail went to anyone");
    app.stop().await;
}
