//! Start the real application on a random port with a real database file.

use std::sync::Arc;

use frontdesk::agents::{self, NewAgent};
use frontdesk::audit::Actor;
use frontdesk::auth::{self, PasswordHasher, Role};
use frontdesk::clock::{Clock, ManualClock};
use frontdesk::{Application, Config};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct TestApp {
    pub address: String,
    pub db: frontdesk::db::Db,
    pub clock: Arc<ManualClock>,
    pub setup_link: Option<String>,
    pub data_dir: tempfile::TempDir,
    pub state: actix_web::web::Data<frontdesk::state::AppState>,
}

/// Where a test's manual clock starts: today (the real date, so stored values look plausible)
/// at 09:02:17.345 UTC, always. Starting at the real time made tests depend on the hour they
/// ran at: after 18:00 UTC the scheduler's rounds queued the day's summary mails (the default
/// summary time) in every test with agents, and counts of mails and ledger rows came out wrong.
/// Not on a round minute: a frozen clock exactly on a 5-minute boundary makes "waiting until
/// 09:10:00.000" and "a point from 09:10:00.000" meet, which no real clock does.
pub fn test_clock_start() -> i64 {
    const DAY: i64 = 86_400_000;
    let now = frontdesk::clock::SystemClock.now_ms();
    now - now.rem_euclid(DAY) + 9 * 3_600_000 + 137_345
}

pub fn test_clock() -> ManualClock {
    ManualClock::at(test_clock_start())
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::for_data_dir(data_dir.path());
    // Tests send far faster than a person types.
    // The scheduler's first round would otherwise make a daily backup in every test.
    config.backup_time = None;
    let unlimited = frontdesk::config::Rate::parse("100000/1s").unwrap();
    config.visitor_message_rate = unlimited;
    config.visitor_message_rate_ip = unlimited;
    config.visitor_page_rate = unlimited;
    config.visitor_page_rate_ip = unlimited;
    config.visitor_typing_rate = unlimited;
    config.visitor_typing_rate_ip = unlimited;
    config.visitor_hello_rate = unlimited;
    config.visitor_hello_rate_ip = unlimited;
    tweak(&mut config);
    let clock = Arc::new(test_clock());
    let app = Application::build_with_clock(config, clock.clone()).await.expect("app builds");
    let port = app.port();
    let db = app.db();
    let setup_link = app.setup_link().map(str::to_string);
    let state = app.state();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp { address: format!("http://127.0.0.1:{port}"), db, clock, setup_link, data_dir, state }
}

/// An app whose chats wait in the Queue until an agent accepts one (manual routing): for tests
/// of the accept-by-hand flow.
pub async fn spawn_manual_app() -> TestApp {
    let app = spawn_app().await;
    app.set_routing(|s| s.mode = frontdesk::routing::Mode::Manual).await;
    app
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A client that keeps cookies and sends this server's Origin (as a browser would).
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.address.parse().unwrap());
        reqwest::Client::builder().cookie_store(true).default_headers(headers).build().unwrap()
    }

    /// A client with no cookies and no Origin (a script).
    pub fn plain(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    pub async fn add_agent(&self, email: &str, role: Role) -> i64 {
        let hash = PasswordHasher::hash_blocking(PASSWORD).unwrap();
        let new = NewAgent {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            role,
            password: PASSWORD.into(),
            chat_limit: None,
            department_ids: vec![],
            locale: None,
        };
        let now = self.clock.now_ms();
        self.db.write(move |c| agents::create(c, &new, &hash, &Actor::cli(), now)).await.expect("agent created").id
    }

    /// Session cookie value for an agent, minted directly (fast: no password hashing).
    pub async fn session_for(&self, agent_id: i64) -> String {
        let token = auth::new_secret_token();
        let hash = auth::token_hash(&token);
        let now = self.clock.now_ms();
        let exp = now + 7 * 86_400_000;
        self.db.write(move |c| auth::store::create_session(c, agent_id, &hash, now, exp, "", "")).await.unwrap();
        token
    }

    /// Set an agent's status as their console switch would (a `manual` history row), and let
    /// routing react. Chats only start while someone is accepting (SPEC W6).
    pub async fn set_status(&self, agent_id: i64, status: frontdesk::routing::AgentStatus) {
        frontdesk::routing::live::set_status(&self.state, agent_id, status, frontdesk::routing::StatusReason::Manual)
            .await
            .expect("status set");
    }

    /// An agent who is accepting but has no free slot (chat limit 0): new chats wait (SPEC W6).
    pub async fn accepting_without_slots(&self, agent_id: i64) {
        let now = self.clock.now_ms();
        let patch = frontdesk::agents::AgentPatch { chat_limit: Some(0), ..Default::default() };
        self.db.write(move |c| frontdesk::agents::update(c, agent_id, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
        self.set_status(agent_id, frontdesk::routing::AgentStatus::Accepting).await;
    }

    /// Change the routing settings (stored and in force, as the admin page does).
    pub async fn set_routing(&self, change: impl FnOnce(&mut frontdesk::routing::RoutingSettings)) {
        let mut s = self.state.routing.settings();
        change(&mut s);
        s.validate().expect("valid routing settings");
        let saved = s.clone();
        self.db.write(move |c| frontdesk::routing::store::save_settings(c, &saved)).await.unwrap();
        self.state.routing.set_settings(s);
    }

    pub async fn api_token(&self, scope: auth::Scope) -> String {
        let now = self.clock.now_ms();
        let (_, _, token) = self.db.write(move |c| auth::http::create_token_tx(c, "test", scope, &Actor::cli(), now)).await.unwrap();
        token
    }

    /// Log in through the API with a browser-like client; returns the client holding the cookie.
    pub async fn login(&self, email: &str) -> reqwest::Client {
        let client = self.browser();
        let r = self.post_login(&client, email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "login {email}: {:?}", r.text().await);
        client
    }

    pub async fn post_login(&self, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        client.post(self.url("/api/v1/auth/login")).json(&json!({"email": email, "password": password})).send().await.unwrap()
    }

    pub fn cookie_header(&self, token: &str) -> String {
        format!("frontdesk_session={token}")
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        self.db.read(move |c| frontdesk::db::count(c, &format!("SELECT count(*) FROM {table}"), [])).await.unwrap()
    }

    /// The whole row content of a table, to prove a bad request changed nothing.
    pub async fn dump(&self, table: &'static str) -> Vec<String> {
        self.db
            .read(move |c| {
                let mut st = c.prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))?;
                let n = st.column_count();
                let rows = st.query_map([], |r| {
                    let mut s = String::new();
                    for i in 0..n {
                        let v: rusqlite::types::Value = r.get(i)?;
                        s.push_str(&format!("{v:?}|"));
                    }
                    Ok(s)
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
            .unwrap()
    }
}

pub async fn error_code(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let body: Value = r.json().await.expect("JSON error body");
    let code = body["error"]["code"].as_str().expect("error.code").to_string();
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "error.message present");
    (status, code)
}

/// A time limit for a loop that waits on something: every waiting loop in these tests checks
/// one, so a server that stops answering fails the test with a message instead of hanging it.
pub struct Deadline {
    start: std::time::Instant,
    limit: std::time::Duration,
    what: String,
}

impl Deadline {
    /// `what` says what the loop is waiting for, in the panic message.
    pub fn after(limit: std::time::Duration, what: impl Into<String>) -> Deadline {
        Deadline { start: std::time::Instant::now(), limit, what: what.into() }
    }

    pub fn secs(secs: u64, what: impl Into<String>) -> Deadline {
        Self::after(std::time::Duration::from_secs(secs), what)
    }

    pub fn passed(&self) -> bool {
        self.start.elapsed() > self.limit
    }

    /// Panics once the limit has passed.
    #[track_caller]
    pub fn check(&self) {
        self.check_progress(String::new);
    }

    /// Like `check`, adding how far the loop got (computed only when it panics).
    #[track_caller]
    pub fn check_progress(&self, progress: impl FnOnce() -> String) {
        if self.passed() {
            let p = progress();
            let sep = if p.is_empty() { "" } else { "; " };
            panic!("deadline of {:?} passed waiting for {}{sep}{p}", self.limit, self.what);
        }
    }
}

/// Poll a condition (up to 5 s) for effects that happen in the background after a response.
pub async fn wait_until<F, Fut>(mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Deadline::secs(5, "a background effect (wait_until)");
    while !cond().await {
        deadline.check();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[test]
fn deadlines_panic_with_what_they_waited_for() {
    let d = Deadline::after(std::time::Duration::ZERO, "the moon");
    std::thread::sleep(std::time::Duration::from_millis(2));
    let err = std::panic::catch_unwind(|| d.check_progress(|| "3 of 4".into())).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("waiting for the moon; 3 of 4"), "{msg}");
    Deadline::secs(60, "later").check();
}
