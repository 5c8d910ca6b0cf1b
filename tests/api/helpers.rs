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

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::for_data_dir(data_dir.path());
    // Tests send far faster than a person types.
    config.visitor_message_rate = frontdesk::config::Rate::parse("100000/1s").unwrap();
    tweak(&mut config);
    let clock = Arc::new(ManualClock::new());
    let app = Application::build_with_clock(config, clock.clone()).await.expect("app builds");
    let port = app.port();
    let db = app.db();
    let setup_link = app.setup_link().map(str::to_string);
    let state = app.state();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp { address: format!("http://127.0.0.1:{port}"), db, clock, setup_link, data_dir, state }
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

/// Poll a condition (up to 5 s) for effects that happen in the background after a response.
pub async fn wait_until<F, Fut>(mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if cond().await {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("condition not met within 5 s");
}
