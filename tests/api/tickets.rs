//! The ticket desk over HTTP: creation, replies and the outbox, statuses, Next, merge/split,
//! visibility by department, bad input.

use std::collections::HashSet;

use frontdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

struct Desk {
    app: TestApp,
    /// The admin's session cookie (for uploads, which belong to a person).
    admin: String,
    /// An admin API token: unlike a session it survives the tests moving the clock by days.
    token: String,
}

impl Desk {
    async fn new() -> Desk {
        let app = spawn_app().await;
        let id = app.add_agent("root@shop.example", Role::Admin).await;
        let admin = app.cookie_header(&app.session_for(id).await);
        let token = app.api_token(frontdesk::auth::Scope::Admin).await;
        Desk { app, admin, token }
    }

    fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.app.plain().request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), self.app.url(path))
    }

    async fn send(rb: reqwest::RequestBuilder, body: Option<Value>) -> (StatusCode, Value) {
        let rb = match body {
            Some(b) => rb.json(&b),
            None => rb,
        };
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    /// As a console user (session cookie, with the browser's Origin).
    async fn call(&self, cookie: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        Self::send(self.request(method, path).header("cookie", cookie).header("origin", &self.app.address), body).await
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        Self::send(self.request(method, path).bearer_auth(&self.token), body).await
    }

    async fn create(&self, subject: &str, email: Option<&str>, dept: Option<i64>) -> i64 {
        let mut body = json!({"subject": subject, "body": format!("About: {subject}")});
        if let Some(e) = email {
            body["customer"] = json!({"email": e, "name": "Ola Kowalska"});
        }
        if let Some(d) = dept {
            body["department_id"] = d.into();
        }
        let (s, t) = self.admin("POST", "/api/v1/tickets", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        t["number"].as_i64().unwrap()
    }

    async fn customer(&self, n: i64) -> (StatusCode, Value) {
        self.admin("POST", &format!("/api/v1/tickets/{n}/customer-messages"), Some(json!({"body": "Any news?"}))).await
    }

    async fn status(&self, number: i64) -> String {
        self.admin("GET", &format!("/api/v1/tickets/{number}"), None).await.1["status"].as_str().unwrap().to_string()
    }

    async fn department(&self, name: &str) -> i64 {
        let (s, d) = self.admin("POST", "/api/v1/departments", Some(json!({"name": name}))).await;
        assert_eq!(s, StatusCode::CREATED);
        d["id"].as_i64().unwrap()
    }
}

#[actix_web::test]
async fn manual_ticket_with_attachment_reply_note_and_outbox() {
    let d = Desk::new().await;
    let up = d
        .app
        .plain()
        .post(d.app.url("/api/v1/uploads"))
        .header("cookie", &d.admin)
        .header("origin", &d.app.address)
        .header("x-file-name", "receipt.pdf")
        .body(b"%PDF-1.4 receipt".to_vec())
        .send()
        .await
        .unwrap();
    let att: Value = up.json().await.unwrap();
    let (s, t) = d
        .admin(
            "POST",
            "/api/v1/tickets",
            Some(json!({"subject": "Broken zipper", "body": "The zipper broke on day 2.", "customer": {"email": "ola@example.pl", "name": "Ola"}, "attachments": [att["token"]], "tags": ["Returns"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let number = t["number"].as_i64().unwrap();
    assert!(number >= 1001);
    assert_eq!((t["status"].as_str(), t["source"].as_str()), (Some("open"), Some("api")));
    assert_eq!(t["messages"][0]["kind"], "customer");
    assert_eq!(t["messages"][0]["attachments"][0]["name"], "receipt.pdf");
    assert_eq!(t["tags"], json!(["returns"]));
    let (_, tags) = d.admin("GET", "/api/v1/tickets/tags", None).await;
    assert_eq!(tags["items"], json!([{"tag": "returns", "count": 1}]));
    assert_eq!(t["contact"]["email"], "ola@example.pl");
    assert_eq!(d.app.count("outbox").await, 0, "creating a ticket sends nothing");

    let (s, t) = d.admin("POST", &format!("/api/v1/tickets/{number}/reply"), Some(json!({"body": "We will send a new one."}))).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["status"], "pending", "a reply waits on the customer by default");
    let outbox_id = t["outbox_id"].as_i64().expect("mail queued");
    let reply = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "reply").unwrap().clone();
    let (to, subject, mid): (String, String, String) = d
        .app
        .db
        .read(move |c| {
            Ok(c.query_row("SELECT to_addrs, subject, message_id FROM outbox WHERE id = ?1", [outbox_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?)
        })
        .await
        .unwrap();
    assert_eq!(to, r#"["ola@example.pl"]"#);
    assert_eq!(subject, format!("Re: Broken zipper [#{number}]"));
    assert_eq!(reply["message_id"].as_str(), Some(mid.as_str()), "the outbox keeps the thread's stable Message-ID");
    assert!(mid.starts_with(&format!("<fd.{number}.")) && mid.ends_with("@127.0.0.1>"));

    let (s, t) = d.admin("POST", &format!("/api/v1/tickets/{number}/notes"), Some(json!({"body": "Customer is a VIP"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(t["messages"].as_array().unwrap().last().unwrap()["kind"], "note");
    assert_eq!(d.app.count("outbox").await, 1, "notes are never mailed");

    // Send & solve, send & keep open.
    let (_, t) = d.admin("POST", &format!("/api/v1/tickets/{number}/reply"), Some(json!({"body": "Shipped.", "after": "solved"}))).await;
    assert_eq!(t["status"], "solved");
    let (_, t) = d
        .admin(
            "POST",
            &format!("/api/v1/tickets/{number}/reply"),
            Some(json!({"body": "One more thing", "after": "open", "cc": ["boss@example.pl"]})),
        )
        .await;
    assert_eq!(t["status"], "open");
    assert_eq!(d.app.count("outbox").await, 3);

    // No requester address yet: the reply is stored, no mail; once an address is set, mail goes.
    let bare = d.create("Phone call", None, None).await;
    let (_, t) = d.admin("POST", &format!("/api/v1/tickets/{bare}/reply"), Some(json!({"body": "Noted."}))).await;
    assert!(t["outbox_id"].is_null());
    let (s, _) = d.admin("PATCH", &format!("/api/v1/tickets/{bare}"), Some(json!({"customer_email": "Ola@Example.pl"}))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, t) = d.admin("GET", &format!("/api/v1/tickets/{bare}"), None).await;
    assert_eq!(t["contact"]["email"], "ola@example.pl", "merged into the existing contact by address");
    let (_, t) = d.admin("POST", &format!("/api/v1/tickets/{bare}/reply"), Some(json!({"body": "Confirming by mail."}))).await;
    assert!(t["outbox_id"].is_i64());
    let (_, contact) = d.admin("GET", &format!("/api/v1/contacts/{}", t["contact"]["id"]), None).await;
    assert_eq!(contact["tickets"].as_array().unwrap().len(), 2, "the contact's history has both tickets");
}

#[actix_web::test]
async fn every_status_transition() {
    let d = Desk::new().await;
    let n = d.create("Where is my order 12345?", Some("ola@example.pl"), None).await;

    // Pending → Open when the customer writes.
    d.admin("POST", &format!("/api/v1/tickets/{n}/reply"), Some(json!({"body": "Checking."}))).await;
    assert_eq!(d.status(n).await, "pending");
    let (s, t) = d.customer(n).await;
    assert_eq!((s, t["number"].as_i64()), (StatusCode::CREATED, Some(n)));
    assert_eq!(d.status(n).await, "open");

    // Solved → reopened by a reply within 7 days…
    d.admin("PATCH", &format!("/api/v1/tickets/{n}"), Some(json!({"status": "solved"}))).await;
    d.app.clock.advance(3 * 86_400_000);
    d.customer(n).await;
    assert_eq!(d.status(n).await, "open");
    // …but after that, the reply starts a new ticket.
    d.admin("PATCH", &format!("/api/v1/tickets/{n}"), Some(json!({"status": "solved"}))).await;
    d.app.clock.advance(8 * 86_400_000);
    let (_, t) = d.customer(n).await;
    let follow_up = t["number"].as_i64().unwrap();
    assert_ne!(follow_up, n);
    assert_eq!(d.status(n).await, "solved");
    assert_eq!(d.status(follow_up).await, "open");

    // Snooze: pending until the time, hidden from the pending list, then back to Open.
    let now = frontdesk::clock::Clock::now_ms(d.app.clock.as_ref());
    let (s, t) = d.admin("PATCH", &format!("/api/v1/tickets/{follow_up}"), Some(json!({"snoozed_until": now + 3_600_000}))).await;
    assert_eq!((s, t["status"].as_str()), (StatusCode::OK, Some("pending")));
    let (_, list) = d.admin("GET", "/api/v1/tickets?status=pending", None).await;
    assert!(list["items"].as_array().unwrap().iter().all(|t| t["number"] != follow_up), "snoozed tickets wait out of sight");
    let (_, only) = d.admin("GET", "/api/v1/tickets?snoozed=true", None).await;
    assert_eq!(only["items"][0]["number"], follow_up, "the Snoozed view shows it");
    let (_, counts) = d.admin("GET", "/api/v1/tickets/counts", None).await;
    assert_eq!(counts["snoozed"], 1);
    assert_eq!(counts["pending"].as_i64().unwrap(), list["items"].as_array().unwrap().len() as i64, "Pending counts what its list shows");
    let woken = d.app.db.write(move |c| frontdesk::jobs::wake_snoozed(c, now + 1_000)).await.unwrap();
    assert!(woken.is_empty(), "not yet");
    d.app.clock.advance(3_600_001);
    let later = now + 3_600_001;
    let woken = d.app.db.write(move |c| frontdesk::jobs::wake_snoozed(c, later)).await.unwrap();
    assert_eq!(woken, vec![follow_up]);
    assert_eq!(d.status(follow_up).await, "open");
    let (s, _) = d.admin("PATCH", &format!("/api/v1/tickets/{follow_up}"), Some(json!({"snoozed_until": now - 1}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "snoozing into the past");

    // Spam: no replies go out, customer mail keeps it spam.
    d.admin("PATCH", &format!("/api/v1/tickets/{follow_up}"), Some(json!({"status": "spam"}))).await;
    let (s, _) = d.admin("POST", &format!("/api/v1/tickets/{follow_up}/reply"), Some(json!({"body": "hello"}))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    d.customer(follow_up).await;
    assert_eq!(d.status(follow_up).await, "spam");
    // And back: Spam → Open by hand.
    d.admin("PATCH", &format!("/api/v1/tickets/{follow_up}"), Some(json!({"status": "open"}))).await;
    assert_eq!(d.status(follow_up).await, "open");
    let (_, counts) = d.admin("GET", "/api/v1/tickets/counts", None).await;
    assert_eq!((counts["open"].as_i64(), counts["solved"].as_i64()), (Some(1), Some(1)));
    // The thread records who changed what.
    let (_, t) = d.admin("GET", &format!("/api/v1/tickets/{n}"), None).await;
    assert!(t["messages"].as_array().unwrap().iter().any(|m| m["kind"] == "system" && m["body"].as_str().unwrap().contains("Reopened")));
}

#[actix_web::test]
async fn next_hands_each_ticket_to_exactly_one_agent() {
    let d = Desk::new().await;
    let dept = d.department("Support").await;
    let other = d.department("Wholesale").await;
    let mut numbers = Vec::new();
    for i in 0..30 {
        numbers.push(d.create(&format!("Question {i}"), None, Some(dept)).await);
        d.app.clock.advance(1);
    }
    d.create("Not for them", None, Some(other)).await;
    let mut cookies = Vec::new();
    for i in 0..10 {
        let id = d.app.add_agent(&format!("agent{i}@shop.example"), Role::Agent).await;
        d.admin("PATCH", &format!("/api/v1/agents/{id}"), Some(json!({"department_ids": [dept]}))).await;
        cookies.push((id, d.app.cookie_header(&d.app.session_for(id).await)));
    }
    let mut handles = Vec::new();
    for round in 0..2 {
        for (id, cookie) in &cookies {
            let (url, origin, cookie, id) = (d.app.url("/api/v1/tickets/next"), d.app.address.clone(), cookie.clone(), *id);
            handles.push(tokio::spawn(async move {
                let r = reqwest::Client::new().post(url).header("cookie", cookie).header("origin", origin).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK, "round {round}");
                let t: Value = r.json().await.unwrap();
                assert_eq!(t["agent_id"].as_i64(), Some(id));
                t["number"].as_i64().unwrap()
            }));
        }
    }
    let mut got = Vec::new();
    for h in handles {
        got.push(h.await.unwrap());
    }
    let unique: HashSet<i64> = got.iter().copied().collect();
    assert_eq!(unique.len(), 20, "20 requests, 20 different tickets: {got:?}");
    // The oldest went first.
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, numbers[..20].to_vec());
    let assigned: i64 =
        d.app.db.read(|c| frontdesk::db::count(c, "SELECT count(*) FROM tickets WHERE agent_id IS NOT NULL", [])).await.unwrap();
    assert_eq!(assigned, 20);

    // Release puts one back; "Next only" stops agents from grabbing unassigned tickets directly.
    let (me, cookie) = &cookies[0];
    let (_, t) = d.call(cookie, "GET", "/api/v1/tickets?agent=me", None).await;
    let first = t["items"][0]["number"].as_i64().unwrap();
    let (s, t) = d.call(cookie, "POST", &format!("/api/v1/tickets/{first}/release"), None).await;
    assert_eq!((s, t["agent_id"].is_null()), (StatusCode::OK, true));
    let (s, _) = d.admin("PATCH", &format!("/api/v1/departments/{dept}"), Some(json!({"next_only": true}))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = d.call(cookie, "PATCH", &format!("/api/v1/tickets/{first}"), Some(json!({"agent_id": me}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = d.admin("PATCH", &format!("/api/v1/tickets/{first}"), Some(json!({"agent_id": me}))).await;
    assert_eq!(s, StatusCode::OK, "supervisors and admins are exempt");
}

#[actix_web::test]
async fn merge_and_split_keep_every_message_exactly_once() {
    let d = Desk::new().await;
    let a = d.create("Order 1", Some("ola@example.pl"), None).await;
    let b = d.create("Order 1 again", Some("ola@example.pl"), None).await;
    for (n, body) in [(a, "a2"), (a, "a3"), (b, "b2")] {
        d.admin("POST", &format!("/api/v1/tickets/{n}/customer-messages"), Some(json!({"body": body}))).await;
    }
    let ids = |t: &Value| -> Vec<i64> {
        t["messages"].as_array().unwrap().iter().filter(|m| m["kind"] != "system").map(|m| m["id"].as_i64().unwrap()).collect()
    };
    let before: HashSet<i64> = ids(&d.admin("GET", &format!("/api/v1/tickets/{a}"), None).await.1)
        .into_iter()
        .chain(ids(&d.admin("GET", &format!("/api/v1/tickets/{b}"), None).await.1))
        .collect();
    assert_eq!(before.len(), 5);
    let (_, other) = d.admin("GET", &format!("/api/v1/tickets/{b}"), None).await;
    assert_eq!(other["other_tickets"][0]["number"], a, "the customer's other open ticket is shown");

    let (s, merged) = d.admin("POST", &format!("/api/v1/tickets/{a}/merge"), Some(json!({"into": b}))).await;
    assert_eq!(s, StatusCode::OK, "{merged}");
    let after: Vec<i64> = ids(&merged);
    assert_eq!(after.len(), 5);
    assert_eq!(after.iter().copied().collect::<HashSet<_>>(), before);
    let (_, old) = d.admin("GET", &format!("/api/v1/tickets/{a}"), None).await;
    assert_eq!((old["status"].as_str(), old["merged_into"].as_i64()), (Some("solved"), Some(b)));
    assert!(ids(&old).is_empty());
    let (_, list) = d.admin("GET", "/api/v1/tickets", None).await;
    assert!(list["items"].as_array().unwrap().iter().all(|t| t["number"] != a), "merged tickets leave the lists");
    let (s, _) = d.admin("POST", &format!("/api/v1/tickets/{a}/merge"), Some(json!({"into": b}))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = d.admin("POST", &format!("/api/v1/tickets/{b}/merge"), Some(json!({"into": b}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let moved = after[2];
    let (s, new) = d.admin("POST", &format!("/api/v1/tickets/{b}/split"), Some(json!({"message_id": moved}))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(ids(&new), vec![moved]);
    let (_, rest) = d.admin("GET", &format!("/api/v1/tickets/{b}"), None).await;
    let remaining: HashSet<i64> = ids(&rest).into_iter().collect();
    assert_eq!(remaining.len(), 4);
    assert!(!remaining.contains(&moved));
    let total: i64 =
        d.app.db.read(|c| frontdesk::db::count(c, "SELECT count(*) FROM ticket_messages WHERE kind != 'system'", [])).await.unwrap();
    assert_eq!(total, 5, "nothing duplicated, nothing lost");
    let (s, _) = d.admin("POST", &format!("/api/v1/tickets/{b}/split"), Some(json!({"message_id": moved}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a message of another ticket");
}

#[actix_web::test]
async fn agents_see_only_their_departments_tickets() {
    let d = Desk::new().await;
    let sales = d.department("Sales").await;
    let legal = d.department("Legal").await;
    let in_sales = d.create("Price list", None, Some(sales)).await;
    let in_legal = d.create("Contract", None, Some(legal)).await;
    let unfiled = d.create("Hello", None, None).await;
    let agent = d.app.add_agent("sam@shop.example", Role::Agent).await;
    d.admin("PATCH", &format!("/api/v1/agents/{agent}"), Some(json!({"department_ids": [sales]}))).await;
    let sam = d.app.cookie_header(&d.app.session_for(agent).await);
    let sup = d.app.add_agent("sue@shop.example", Role::Supervisor).await;
    let sue = d.app.cookie_header(&d.app.session_for(sup).await);

    let visible = |v: &Value| -> HashSet<i64> { v["items"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect() };
    let (_, l) = d.call(&sam, "GET", "/api/v1/tickets", None).await;
    assert_eq!(visible(&l), HashSet::from([in_sales, unfiled]));
    let (_, l) = d.call(&sue, "GET", "/api/v1/tickets", None).await;
    assert_eq!(visible(&l), HashSet::from([in_sales, in_legal, unfiled]));
    for (method, path, body) in [
        ("GET", format!("/api/v1/tickets/{in_legal}"), None),
        ("PATCH", format!("/api/v1/tickets/{in_legal}"), Some(json!({"status": "solved"}))),
        ("POST", format!("/api/v1/tickets/{in_legal}/reply"), Some(json!({"body": "x"}))),
        ("POST", format!("/api/v1/tickets/{in_legal}/notes"), Some(json!({"body": "x"}))),
        ("POST", format!("/api/v1/tickets/{in_legal}/merge"), Some(json!({"into": in_sales}))),
        ("POST", format!("/api/v1/tickets/{in_sales}/merge"), Some(json!({"into": in_legal}))),
    ] {
        let (s, _) = d.call(&sam, method, &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
    }
    assert_eq!(d.status(in_legal).await, "open");
    let (_, counts) = d.call(&sam, "GET", "/api/v1/tickets/counts", None).await;
    assert_eq!(counts["open"], 2);
    // Once assigned to Sam, a Legal ticket is his to see.
    d.admin("PATCH", &format!("/api/v1/tickets/{in_legal}"), Some(json!({"agent_id": agent}))).await;
    let (s, _) = d.call(&sam, "GET", &format!("/api/v1/tickets/{in_legal}"), None).await;
    assert_eq!(s, StatusCode::OK);
}

#[actix_web::test]
async fn bad_ticket_input_is_refused_and_changes_nothing() {
    let d = Desk::new().await;
    let dept = d.department("Orders").await;
    let (s, v) = d.admin("PATCH", &format!("/api/v1/departments/{dept}"), Some(json!({"subject_rule": "(unclosed"}))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")));
    let (s, v) = d
        .admin(
            "PATCH",
            &format!("/api/v1/departments/{dept}"),
            Some(json!({"subject_rule": r"(?i)order \d{5}", "reply_template": "Hello {customer.name},\n\nre #{ticket.number}: "})),
        )
        .await;
    assert_eq!((s, v["subject_rule"].as_str()), (StatusCode::OK, Some(r"(?i)order \d{5}")));
    let n = d.create("Order 12345 missing", Some("ola@example.pl"), Some(dept)).await;
    let (_, t) = d.admin("GET", &format!("/api/v1/tickets/{n}"), None).await;
    assert_eq!(t["reply_draft"], format!("Hello Ola Kowalska,\n\nre #{n}: "), "the department's template, filled in");
    let before = (d.app.dump("tickets").await, d.app.dump("ticket_messages").await);
    let cases: Vec<(&str, String, Value, &str)> = vec![
        ("POST", "/api/v1/tickets".into(), json!({"subject": "My order", "body": "x", "department_id": dept}), "invalid_input"),
        ("POST", "/api/v1/tickets".into(), json!({"subject": "", "body": "x"}), "invalid_input"),
        ("POST", "/api/v1/tickets".into(), json!({"subject": "x", "body": "   "}), "invalid_input"),
        ("POST", "/api/v1/tickets".into(), json!({"subject": "x", "body": "y", "customer": {"email": "nope"}}), "invalid_input"),
        ("POST", "/api/v1/tickets".into(), json!({"subject": "x", "body": "y", "priority": "high"}), "unknown_field"),
        ("POST", "/api/v1/tickets".into(), json!({"subject": "x", "body": "y", "department_id": 999}), "invalid_input"),
        ("POST", "/api/v1/tickets".into(), json!({"subject": "x", "body": "y", "attachments": ["nope"]}), "invalid_input"),
        ("PATCH", format!("/api/v1/tickets/{n}"), json!({"status": "closed"}), "invalid_input"),
        ("PATCH", format!("/api/v1/tickets/{n}"), json!({"agent_id": 999}), "invalid_input"),
        ("PATCH", format!("/api/v1/tickets/{n}"), json!({"tags": [""]}), "invalid_input"),
        ("POST", format!("/api/v1/tickets/{n}/reply"), json!({"body": "x", "cc": ["not-an-address"]}), "invalid_input"),
        ("POST", format!("/api/v1/tickets/{n}/reply"), json!({"body": "x", "after": "later"}), "invalid_input"),
        ("POST", format!("/api/v1/tickets/{n}/reply"), json!({"body": "x", "subject": "Re: something else"}), "invalid_input"),
        ("POST", format!("/api/v1/tickets/{n}/transfer"), json!({"note": "x"}), "invalid_input"),
        ("POST", format!("/api/v1/tickets/{n}/split"), json!({"message_id": 99999}), "not_found"),
    ];
    for (method, path, body, code) in cases {
        let (s, v) = d.admin(method, &path, Some(body.clone())).await;
        assert_eq!(v["error"]["code"].as_str(), Some(code), "{method} {path} {body}: {s} {v}");
    }
    for q in ["status=closed", "agent=someone", "sort=sideways", "limit=0", "limit=9999", "nonsense=1"] {
        let (s, v) = d.admin("GET", &format!("/api/v1/tickets?{q}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
    }
    let (s, _) = d.admin("GET", "/api/v1/tickets/99999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!((d.app.dump("tickets").await, d.app.dump("ticket_messages").await), before, "nothing changed");
    // Full-text search finds words of the thread; operators typed by users are just words.
    let (_, found) = d.admin("GET", "/api/v1/tickets?q=missing", None).await;
    assert_eq!(found["items"][0]["number"], n);
    let (s, _) = d.admin("GET", "/api/v1/tickets?q=%22unbalanced%20NEAR(", None).await;
    assert_eq!(s, StatusCode::OK);
}

#[actix_web::test]
async fn chats_and_offline_messages_become_tickets_and_answers_reach_the_widget() {
    use crate::ws;
    let d = Desk::new().await;
    // An offline message: no agent online.
    let (mut v, welcome) = ws::visitor(&d.app.address, None, None).await;
    assert_eq!(welcome["agents_online"], 0);
    let token = welcome["token"].as_str().unwrap().to_string();
    let offline = |body: Value| {
        d.app
            .plain()
            .post(d.app.url("/api/v1/widget/offline"))
            .header("origin", &d.app.address)
            .header("x-visitor-token", &token)
            .json(&body)
            .send()
    };
    let r = offline(json!({"name": "Ola", "email": "ola@example.pl", "message": "Do you ship to Norway?\nThanks"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let (_, t) = d.admin("GET", &format!("/api/v1/tickets/{number}"), None).await;
    assert_eq!(
        (t["source"].as_str(), t["subject"].as_str(), t["contact"]["email"].as_str()),
        (Some("offline"), Some("Do you ship to Norway?"), Some("ola@example.pl"))
    );
    for bad in [json!({"message": "  "}), json!({"message": "x", "email": "nope"}), json!({"message": "x", "extra": 1})] {
        assert_eq!(offline(bad).await.unwrap().status(), StatusCode::BAD_REQUEST);
    }
    let r = d
        .app
        .plain()
        .post(d.app.url("/api/v1/widget/offline"))
        .header("origin", &d.app.address)
        .json(&json!({"message": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no visitor token");

    // The agent answers (mailed too, since the visitor left an address) and adds a note.
    let (_, t) = d.admin("POST", &format!("/api/v1/tickets/{number}/reply"), Some(json!({"body": "Yes, in 5 days."}))).await;
    assert!(t["outbox_id"].is_i64());
    d.admin("POST", &format!("/api/v1/tickets/{number}/notes"), Some(json!({"body": "internal: check Norway rates"}))).await;
    let mine: Value = d
        .app
        .plain()
        .get(d.app.url("/api/v1/widget/tickets"))
        .header("x-visitor-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let msgs = mine["items"][0]["messages"].as_array().unwrap();
    assert_eq!(msgs.iter().map(|m| m["kind"].as_str().unwrap()).collect::<Vec<_>>(), ["customer", "reply"], "notes never reach visitors");
    assert_eq!(msgs[1]["body"], "Yes, in 5 days.");

    // A chat turned into a ticket keeps its transcript (chats start while someone accepts).
    let ann = d.app.add_agent("ann@shop.example", frontdesk::auth::Role::Agent).await;
    d.app.set_status(ann, frontdesk::routing::AgentStatus::Accepting).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "My parcel is damaged"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let (s, t) = d.admin("POST", &format!("/api/v1/conversations/{conv}/ticket"), Some(json!({}))).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["source"], "chat");
    assert_eq!(t["conversation_id"], conv);
    let transcript = t["messages"][0]["body"].as_str().unwrap();
    assert_eq!(t["messages"][0]["kind"], "transcript");
    assert!(transcript.contains("Ola: My parcel is damaged"), "{transcript}");
    // Named in the customer's language (their browser said pl; replies quote the subject), the
    // times on their clock (Europe/Warsaw), the day and the zone on the first line.
    assert_eq!(t["subject"], "Czat: My parcel is damaged");
    assert!(transcript.lines().next().unwrap().ends_with("(Europe/Warsaw)") && !transcript.contains(" UTC]"), "{transcript}");
    let (s, _) = d.admin("POST", "/api/v1/conversations/999999/ticket", Some(json!({}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn canned_responses_personal_and_shared() {
    let d = Desk::new().await;
    let sales = d.department("Sales").await;
    let agent = d.app.add_agent("sam@shop.example", Role::Agent).await;
    d.admin("PATCH", &format!("/api/v1/agents/{agent}"), Some(json!({"department_ids": [sales]}))).await;
    let sam = d.app.cookie_header(&d.app.session_for(agent).await);
    let sup = d.app.add_agent("sue@shop.example", Role::Supervisor).await;
    d.admin("PATCH", &format!("/api/v1/agents/{sup}"), Some(json!({"department_ids": [sales]}))).await;
    let sue = d.app.cookie_header(&d.app.session_for(sup).await);
    let other = d.app.add_agent("max@shop.example", Role::Agent).await;
    let max = d.app.cookie_header(&d.app.session_for(other).await);

    let (s, mine) = d
        .call(
            &sam,
            "POST",
            "/api/v1/canned",
            Some(json!({"shortcut": "#hi", "title": "Greeting", "body": "Hello {visitor.name}, {agent.name} here.", "personal": true})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mine}");
    assert_eq!(mine["shortcut"], "hi");
    let (s, _) = d
        .call(
            &sam,
            "POST",
            "/api/v1/canned",
            Some(json!({"shortcut": "ship", "title": "Shipping", "body": "2 days", "department_id": sales})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "agents do not manage shared snippets");
    let (s, shared) = d.call(&sue, "POST", "/api/v1/canned", Some(json!({"shortcut": "ship", "title": "Shipping", "body": "2 days", "body_long": "Orders ship within 2 working days.", "department_id": sales, "category": "Delivery", "hotkey": "Alt+1"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{shared}");
    let (s, _) = d.call(&sue, "POST", "/api/v1/canned", Some(json!({"shortcut": "all", "title": "Everyone", "body": "x"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "global shared snippets are admin-only");

    let shortcuts =
        |v: &Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(|c| c["shortcut"].as_str().unwrap().to_string()).collect() };
    let (_, l) = d.call(&sam, "GET", "/api/v1/canned", None).await;
    assert_eq!(shortcuts(&l), ["hi", "ship"], "own and department snippets, by category");
    let (_, l) = d.call(&max, "GET", "/api/v1/canned", None).await;
    assert!(shortcuts(&l).is_empty(), "other departments' and others' personal snippets stay hidden");
    let id = mine["id"].as_i64().unwrap();
    let (s, _) = d.call(&max, "DELETE", &format!("/api/v1/canned/{id}"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = d
        .call(
            &sam,
            "PATCH",
            &format!("/api/v1/canned/{id}"),
            Some(json!({"shortcut": "hello", "title": "Greeting", "body": "Hi!", "personal": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) =
        d.call(&sam, "POST", "/api/v1/canned", Some(json!({"shortcut": "bad key", "title": "x", "body": "y", "personal": true}))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")));
    // Scope changes need the right to both scopes.
    let (s, _) = d
        .call(
            &sam,
            "PATCH",
            &format!("/api/v1/canned/{id}"),
            Some(json!({"shortcut": "hello", "title": "Greeting", "body": "Hi!", "department_id": sales})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an agent cannot turn a personal snippet into a shared one");
    let sid = shared["id"].as_i64().unwrap();
    let (s, moved) = d
        .call(
            &sue,
            "PATCH",
            &format!("/api/v1/canned/{sid}"),
            Some(json!({"shortcut": "ship", "title": "Shipping", "body": "2 days", "personal": true})),
        )
        .await;
    assert_eq!((s, moved["owner_id"].as_i64()), (StatusCode::OK, Some(sup)));
    let (s, _) = d.call(&sam, "DELETE", &format!("/api/v1/canned/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn a_customer_message_keeps_the_source_it_came_from() {
    let d = Desk::new().await;
    let day = 86_400_000;
    let n = d.create("Old question", Some("ola@example.pl"), None).await;
    d.admin("PATCH", &format!("/api/v1/tickets/{n}"), Some(json!({"status": "solved"}))).await;
    d.app.clock.advance(8 * day);
    // Through the API (Bearer token): the follow-up ticket is an API ticket, not an email one.
    let (s, t) = d.customer(n).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let follow_up = t["number"].as_i64().unwrap();
    assert_ne!(follow_up, n);
    assert_eq!(t["source"], "api");

    // Noted down in the console (a phone call): a manual ticket.
    d.admin("PATCH", &format!("/api/v1/tickets/{follow_up}"), Some(json!({"status": "solved"}))).await;
    d.app.clock.advance(8 * day);
    let id = d.app.add_agent("sue@shop.example", Role::Supervisor).await;
    let sue = d.app.cookie_header(&d.app.session_for(id).await);
    let (s, t) =
        d.call(&sue, "POST", &format!("/api/v1/tickets/{follow_up}/customer-messages"), Some(json!({"body": "Calling again"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_ne!(t["number"], follow_up);
    assert_eq!(t["source"], "manual");
}

#[actix_web::test]
async fn a_broken_saved_view_is_an_error_never_every_ticket() {
    let d = Desk::new().await;
    let solved = d.create("Done", None, None).await;
    d.admin("PATCH", &format!("/api/v1/tickets/{solved}"), Some(json!({"status": "solved"}))).await;
    d.create("Still open", None, None).await;
    let (s, v) = d.call(&d.admin, "POST", "/api/v1/views", Some(json!({"name": "Solved ones", "filters": {"status": "solved"}}))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (_, views) = d.call(&d.admin, "GET", "/api/v1/views", None).await;
    assert_eq!(views["items"][0]["count"], 1);
    let (_, list) = d.call(&d.admin, "GET", &format!("/api/v1/tickets?view={id}"), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Filters this version cannot read (an old format, a hand edit): an error naming the view.
    d.app.db.write(move |c| Ok(c.execute("UPDATE saved_views SET filters = '{\"state\":\"closed\"}' WHERE id = ?1", [id])?)).await.unwrap();
    let (s, v) = d.call(&d.admin, "GET", &format!("/api/v1/tickets?view={id}"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("Solved ones"), "{v}");
    let (s, v) = d.call(&d.admin, "GET", "/api/v1/views", None).await;
    assert_eq!(s, StatusCode::CONFLICT, "not a count of every ticket: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("Solved ones"), "{v}");
    // It can still be deleted, and then the views work again.
    let (s, _) = d.call(&d.admin, "DELETE", &format!("/api/v1/views/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = d.call(&d.admin, "GET", "/api/v1/views", None).await;
    assert_eq!((s, v["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let (s, _) = d.call(&d.admin, "GET", &format!("/api/v1/tickets?view={id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a deleted view is not found");

    // A database failure is a server error, not "no such view".
    d.app.db.write(|c| Ok(c.execute_batch("DROP TABLE saved_views")?)).await.unwrap();
    let (s, v) = d.call(&d.admin, "GET", &format!("/api/v1/tickets?view={id}"), None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("internal")), "{v}");
    let (s, _) = d.call(&d.admin, "GET", "/api/v1/views", None).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
}

#[actix_web::test]
async fn ticket_operations_serve_callers_other_than_http() {
    use frontdesk::tickets::{AfterReply, Source, ops, store};
    let d = Desk::new().await;
    let now = frontdesk::clock::Clock::now_ms(d.app.clock.as_ref());
    // Mail intake (not a person, sees every ticket) opens a ticket with the same function as the API.
    let opened = d
        .app
        .db
        .write(move |c| {
            let intake = ops::Caller::system("mail intake", Source::Email);
            let new = ops::NewTicket {
                subject: "Parcel lost".into(),
                body: "It never came.".into(),
                customer: Some(ops::Customer { email: Some("ola@example.pl".into()), name: None }),
                department_id: None,
                agent_id: None,
                attachments: vec![],
                tags: vec!["Lost".into()],
            };
            ops::create(c, &intake, &new, now)
        })
        .await
        .unwrap();
    let n = opened.number;
    let (s, t) = d.admin("GET", &format!("/api/v1/tickets/{n}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((t["source"].as_str(), t["status"].as_str(), t["tags"].clone()), (Some("email"), Some("open"), json!(["lost"])));
    assert_eq!(t["messages"][0]["body"], "It never came.");

    // A script (the CLI) replies: the thread message and its mail commit together.
    let replied = d
        .app
        .db
        .write(move |c| {
            let cli = ops::Caller::system("cli", Source::Manual);
            let reply = ops::Reply {
                body: "We are looking.".into(),
                to: None,
                cc: vec![],
                subject: None,
                after: AfterReply::Pending,
                attachments: vec![],
            };
            ops::reply(c, &cli, n, &reply, "support.example.com", now)
        })
        .await
        .unwrap();
    assert!(replied.outbox_id.is_some(), "the requester has an address: mail queued");
    let (_, t) = d.admin("GET", &format!("/api/v1/tickets/{n}"), None).await;
    assert_eq!(t["status"], "pending");
    let reply = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "reply").unwrap().clone();
    assert_eq!(reply["id"].as_i64(), Some(replied.message_id));
    assert_eq!(reply["subject"], format!("Re: Parcel lost [#{n}]"));
    assert!(reply["message_id"].as_str().unwrap().ends_with("@support.example.com>"));

    // The customer's mailed answer goes through the same T3 rules: Pending → Open.
    let landed = d
        .app
        .db
        .write(move |c| {
            let t = store::by_number(c, n)?.unwrap();
            let m = ops::Incoming { body: "Thanks!", body_html: None, message_id: Some("<a1@example.pl>"), source: Source::Email };
            ops::add_customer_message(c, &t, &m, now + 1)
        })
        .await
        .unwrap();
    assert_eq!(landed, n);
    let (_, list) = d.admin("GET", "/api/v1/tickets?status=open", None).await;
    assert_eq!(list["items"][0]["number"], n);
    let (_, t) = d.admin("GET", &format!("/api/v1/tickets/{n}"), None).await;
    assert_eq!(t["messages"].as_array().unwrap().last().unwrap()["message_id"], "<a1@example.pl>");
}

/// A transfer that takes the ticket out of the agent's sight happened: the answer says so
/// (`visible: false`) rather than 404, which the console showed as a failed transfer.
#[actix_web::test]
async fn a_transfer_out_of_sight_answers_that_it_happened() {
    let d = Desk::new().await;
    let sales = d.department("Sales").await;
    let legal = d.department("Legal").await;
    let n = d.create("Contract question", None, Some(sales)).await;
    let agent = d.app.add_agent("sam@shop.example", Role::Agent).await;
    d.admin("PATCH", &format!("/api/v1/agents/{agent}"), Some(json!({"department_ids": [sales]}))).await;
    let sam = d.app.cookie_header(&d.app.session_for(agent).await);

    let (s, v) = d.call(&sam, "POST", &format!("/api/v1/tickets/{n}/transfer"), Some(json!({"department_id": legal}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"number": n, "visible": false}));
    let (_, t) = d.admin("GET", &format!("/api/v1/tickets/{n}"), None).await;
    assert_eq!(t["department_id"], legal, "the transfer happened");
    // The same through PATCH.
    let n2 = d.create("Another", None, Some(sales)).await;
    let (s, v) = d.call(&sam, "PATCH", &format!("/api/v1/tickets/{n2}"), Some(json!({"department_id": legal}))).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"number": n2, "visible": false})));
}
