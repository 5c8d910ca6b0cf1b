//! A small company for object-level access tests: two departments A and B, agents ag1 (A) and
//! ag2 (B), a supervisor and an admin (in no department), API tokens of every scope, a visitor
//! chatting with ag1, and tickets, contacts, files, snippets and saved views belonging to each.

use frontdesk::agents::{self, NewAgent};
use frontdesk::audit::Actor;
use frontdesk::auth::{PasswordHasher, Role, Scope};
use frontdesk::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws;

/// Who makes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Anonymous,
    /// The widget's visitor token (`X-Visitor-Token`).
    Visitor,
    Ag1,
    Ag2,
    Sup,
    Admin,
    AdminToken,
    MetricsToken,
    InboundToken,
}

impl Who {
    pub const ALL: [Who; 9] =
        [Who::Anonymous, Who::Visitor, Who::Ag1, Who::Ag2, Who::Sup, Who::Admin, Who::AdminToken, Who::MetricsToken, Who::InboundToken];
}

pub const SECRET_SUBJECT: &str = "Secret dept A matter";
pub const OLA: &str = "ola@customer-a.test";
pub const KIM: &str = "kim@customer-ab.test";

pub struct World {
    pub app: TestApp,
    hash: String,
    pub admin_token: String,
    pub metrics_token: String,
    pub inbound_token: String,
    pub ag1_id: i64,
    pub ag2_id: i64,
    pub sup_id: i64,
    pub admin_id: i64,
    pub ag1: String,
    pub ag2: String,
    pub sup: String,
    pub admin: String,
    pub dept_a: i64,
    pub dept_b: i64,
    pub visitor_token: String,
    pub visitor_id: i64,
    /// The visitor's socket, kept open.
    pub visitor: Option<ws::Ws>,
    /// ag1's active chat with the visitor; its first message carries `chat_file`.
    pub conv: i64,
    pub chat_file: String,
    /// In department A, customer Ola (whose only tickets are in A), with `ticket_file` attached.
    pub ticket_a: i64,
    pub ticket_file: String,
    pub contact_a: i64,
    /// Kim has a ticket in each department: `kim_a` (secret) and `kim_b` (ag2's own).
    pub kim_a: i64,
    pub kim_b: i64,
    pub contact_kim: i64,
    /// ag1's personal snippet and saved view.
    pub canned_ag1: i64,
    pub view_ag1: i64,
    /// Department A's team room (internal chat): ag1 and admins use it.
    pub room_a: i64,
}

impl World {
    pub async fn new() -> World {
        // Manual routing: ag1 accepts the visitor's chat by hand below. Webhooks may reach the
        // loopback address (the matrix's webhooks point at a closed local port).
        let app = spawn_app_with(|c| c.webhook_allow_private = true).await;
        app.set_routing(|s| s.mode = frontdesk::routing::Mode::Manual).await;
        let hash = PasswordHasher::hash_blocking(PASSWORD).unwrap();
        let admin_token = app.api_token(Scope::Admin).await;
        let metrics_token = app.api_token(Scope::Metrics).await;
        let inbound_token = app.api_token(Scope::Inbound).await;
        let mut w = World {
            app,
            hash,
            admin_token,
            metrics_token,
            inbound_token,
            ag1_id: 0,
            ag2_id: 0,
            sup_id: 0,
            admin_id: 0,
            ag1: String::new(),
            ag2: String::new(),
            sup: String::new(),
            admin: String::new(),
            dept_a: 0,
            dept_b: 0,
            visitor_token: String::new(),
            visitor_id: 0,
            visitor: None,
            conv: 0,
            chat_file: String::new(),
            ticket_a: 0,
            ticket_file: String::new(),
            contact_a: 0,
            kim_a: 0,
            kim_b: 0,
            contact_kim: 0,
            canned_ag1: 0,
            view_ag1: 0,
            room_a: 0,
        };
        w.dept_a = w.department("Dept A").await;
        w.dept_b = w.department("Dept B").await;
        w.ag1_id = w.agent("ag1@shop.example", Role::Agent, vec![w.dept_a]).await;
        w.ag2_id = w.agent("ag2@shop.example", Role::Agent, vec![w.dept_b]).await;
        w.sup_id = w.agent("sup@shop.example", Role::Supervisor, vec![]).await;
        w.admin_id = w.agent("admin@shop.example", Role::Admin, vec![]).await;
        // Chats only start while someone is accepting (SPEC W6).
        w.app.set_status(w.ag1_id, frontdesk::routing::AgentStatus::Accepting).await;
        w.ag1 = w.app.cookie_header(&w.app.session_for(w.ag1_id).await);
        w.ag2 = w.app.cookie_header(&w.app.session_for(w.ag2_id).await);
        w.sup = w.app.cookie_header(&w.app.session_for(w.sup_id).await);
        w.admin = w.app.cookie_header(&w.app.session_for(w.admin_id).await);

        // ag1's chat, whose first visitor message carries a file.
        let (mut v, welcome) = ws::visitor(&w.app.address, None, None).await;
        w.visitor_token = welcome["token"].as_str().unwrap().to_string();
        let up = w
            .app
            .plain()
            .post(w.app.url("/api/v1/widget/uploads"))
            .header("origin", &w.app.address)
            .header("x-visitor-token", &w.visitor_token)
            .header("x-file-name", "chat-photo.png")
            .header("content-type", "image/png")
            .body(b"\x89PNG chat photo".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(up.status(), StatusCode::CREATED);
        w.chat_file = up.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
        v.send(json!({"type": "message", "client_id": "v1", "body": "My order 77 is late", "attachment": w.chat_file})).await;
        w.conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
        let (mut a1, _) = ws::agent(&w.app.address, &w.ag1).await;
        a1.send(json!({"type": "accept", "conversation": w.conv})).await;
        a1.recv_type("accepted").await;
        let (s, c) = w.call(Who::Admin, "GET", &format!("/api/v1/conversations/{}", w.conv), None).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        w.visitor_id = c["visitor"]["id"].as_i64().unwrap();
        w.visitor = Some(v);

        // Tickets: Ola's (A only, with ag1's file), Kim's in A and in B.
        let file = w.upload(Who::Ag1, "invoice-a.pdf").await;
        w.ticket_file = file.clone();
        let t = w.ticket(Who::Ag1, SECRET_SUBJECT, OLA, w.dept_a, &[file]).await;
        w.ticket_a = t["number"].as_i64().unwrap();
        w.contact_a = t["contact"]["id"].as_i64().unwrap();
        let (s, t) =
            w.call(Who::AdminToken, "PATCH", &format!("/api/v1/tickets/{}", w.ticket_a), Some(json!({"tags": ["secret-a"]}))).await;
        assert_eq!(s, StatusCode::OK, "{t}");
        let t = w.ticket(Who::AdminToken, &format!("{SECRET_SUBJECT} for Kim"), KIM, w.dept_a, &[]).await;
        w.kim_a = t["number"].as_i64().unwrap();
        let t = w.ticket(Who::Ag2, "Kim's parcel", KIM, w.dept_b, &[]).await;
        w.kim_b = t["number"].as_i64().unwrap();
        w.contact_kim = t["contact"]["id"].as_i64().unwrap();

        let (s, c) = w
            .call(Who::Ag1, "POST", "/api/v1/canned", Some(json!({"shortcut": "hi1", "title": "Hi", "body": "Hello", "personal": true})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        w.canned_ag1 = c["id"].as_i64().unwrap();
        let (s, c) = w.call(Who::Ag1, "POST", "/api/v1/views", Some(json!({"name": "Mine", "filters": {"agent": "me"}}))).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        w.view_ag1 = c["id"].as_i64().unwrap();
        let (s, rooms) = w.call(Who::Ag1, "GET", "/api/v1/team/rooms", None).await;
        assert_eq!(s, StatusCode::OK, "{rooms}");
        w.room_a =
            rooms["items"].as_array().unwrap().iter().find(|r| r["department_id"] == w.dept_a).expect("room of A")["id"].as_i64().unwrap();
        w
    }

    /// An agent created directly (one password hash for all of them).
    pub async fn agent(&self, email: &str, role: Role, department_ids: Vec<i64>) -> i64 {
        let new = NewAgent {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            role,
            password: PASSWORD.into(),
            chat_limit: None,
            department_ids,
            locale: None,
        };
        let (hash, now) = (self.hash.clone(), self.app.clock.now_ms());
        self.app.db.write(move |c| agents::create(c, &new, &hash, &Actor::cli(), now)).await.expect("agent created").id
    }

    pub async fn department(&self, name: &str) -> i64 {
        let (s, d) = self.call(Who::AdminToken, "POST", "/api/v1/departments", Some(json!({"name": name}))).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        d["id"].as_i64().unwrap()
    }

    /// A ticket opened by `who` for `email`, in `dept`.
    pub async fn ticket(&self, who: Who, subject: &str, email: &str, dept: i64, files: &[String]) -> Value {
        let body = json!({"subject": subject, "body": format!("About: {subject}"), "customer": {"email": email, "name": "Customer"},
                          "department_id": dept, "attachments": files});
        let (s, t) = self.call(who, "POST", "/api/v1/tickets", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        t
    }

    /// An agent's upload; returns its token.
    pub async fn upload(&self, who: Who, name: &str) -> String {
        let r = self.request(who, "POST", "/api/v1/uploads").header("x-file-name", name).body(format!("%PDF {name}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }

    pub fn cookie(&self, who: Who) -> &str {
        match who {
            Who::Ag1 => &self.ag1,
            Who::Ag2 => &self.ag2,
            Who::Sup => &self.sup,
            Who::Admin => &self.admin,
            _ => panic!("{who:?} has no session"),
        }
    }

    pub fn request(&self, who: Who, method: &str, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .app
            .plain()
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), self.app.url(path))
            .header("origin", &self.app.address);
        match who {
            Who::Anonymous => rb,
            Who::Visitor => rb.header("x-visitor-token", &self.visitor_token),
            Who::Ag1 | Who::Ag2 | Who::Sup | Who::Admin => rb.header("cookie", self.cookie(who)),
            Who::AdminToken => rb.bearer_auth(&self.admin_token),
            Who::MetricsToken => rb.bearer_auth(&self.metrics_token),
            Who::InboundToken => rb.bearer_auth(&self.inbound_token),
        }
    }

    /// Status and body (JSON, or the text as a JSON string, or null when empty).
    pub async fn call(&self, who: Who, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self.request(who, method, path);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let v = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, v)
    }

    pub async fn set_colleagues_chats(&self, on: bool) {
        let (s, v) = self.call(Who::AdminToken, "PATCH", "/api/v1/settings/chat", Some(json!({"agents_see_colleagues": on}))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    /// The rows of these tables, to prove a refused request changed nothing.
    /// (Every row as text, sorted: some tables have no rowid.)
    pub async fn dump(&self, tables: &[&'static str]) -> Vec<Vec<String>> {
        let tables: Vec<&'static str> = tables.to_vec();
        self.app
            .db
            .read(move |c| {
                let mut out = Vec::new();
                for t in tables {
                    let mut st = c.prepare(&format!("SELECT * FROM {t}"))?;
                    let n = st.column_count();
                    let mut rows = st
                        .query_map([], |r| (0..n).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect())?
                        .collect::<rusqlite::Result<Vec<Vec<String>>>>()?
                        .into_iter()
                        .map(|r| format!("{t}: {}", r.join("|")))
                        .collect::<Vec<_>>();
                    rows.sort();
                    out.push(rows);
                }
                Ok(out)
            })
            .await
            .unwrap()
    }
}
