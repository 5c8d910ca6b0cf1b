//! Mail header injection (issue 17, finding 13): every way a subject, a name or an address gets
//! into the system — the widget's offline form, ticket creation over the API, chat-to-ticket,
//! contact edits, a reply's own subject — ends up as one clean line, so the outbox never holds
//! a Subject or To with CR, LF, VT, NUL or a Unicode line separator in it.

use frontdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws;

const NASTY: &str = "\u{b}\r\nBcc: everyone@victim.test\u{0}\u{c}\u{2028}\u{2029}\u{85}x";

fn dirty(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// Every header-bound text column, with the rows that still hold a control character.
async fn dirty_rows(app: &TestApp) -> Vec<String> {
    app.db
        .read(|c| {
            let mut out = vec![];
            for (table, cols) in [
                ("outbox", "subject, to_addrs, coalesce(cc_addrs, '')"),
                ("tickets", "subject, ''"),
                ("ticket_messages", "coalesce(subject, ''), ''"),
                ("contacts", "coalesce(name, ''), coalesce(email, '')"),
                ("visitors", "coalesce(name, ''), coalesce(email, '')"),
            ] {
                let mut st = c.prepare(&format!("SELECT {cols} FROM {table}"))?;
                let rows = st.query_map([], |r| {
                    let n = r.as_ref().column_count();
                    (0..n).map(|i| r.get::<_, String>(i)).collect::<rusqlite::Result<Vec<String>>>()
                })?;
                for row in rows {
                    for v in row? {
                        if dirty(&v) {
                            out.push(format!("{table}: {v:?}"));
                        }
                    }
                }
            }
            Ok(out)
        })
        .await
        .unwrap()
}

async fn outbox_subjects(app: &TestApp) -> Vec<String> {
    app.db
        .read(|c| {
            let mut st = c.prepare("SELECT subject FROM outbox ORDER BY id")?;
            Ok(st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?)
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn header_fields_are_one_clean_line_at_every_entry_point() {
    let app = spawn_app().await;
    let admin_id = app.add_agent("root@shop.example", Role::Admin).await;
    // Chats only start while someone is accepting (SPEC W6).
    app.set_status(admin_id, frontdesk::routing::AgentStatus::Accepting).await;
    let cookie = app.cookie_header(&app.session_for(admin_id).await);
    let token = app.api_token(frontdesk::auth::Scope::Admin).await;
    let api = |method: reqwest::Method, path: String, body: Value| {
        app.plain().request(method, app.url(&path)).bearer_auth(&token).json(&body).send()
    };
    let reply = |n: i64| api(reqwest::Method::POST, format!("/api/v1/tickets/{n}/reply"), json!({"body": "Answer"}));

    // 1. The widget's offline form: subject (the message's first line), name.
    let (mut v, w) = ws::visitor(&app.address, None, None).await;
    let vtoken = w["token"].as_str().unwrap().to_string();
    let r = app
        .plain()
        .post(app.url("/api/v1/widget/offline"))
        .header("origin", &app.address)
        .header("x-visitor-token", &vtoken)
        .json(&json!({"name": format!("Eve{NASTY}"), "email": "eve@shop.example", "message": format!("Help{NASTY}\nsecond line")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let n: i64 = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    assert_eq!(reply(n).await.unwrap().status(), StatusCode::OK);

    // 2. A ticket over the API: subject and customer name.
    let r = api(
        reqwest::Method::POST,
        "/api/v1/tickets".into(),
        json!({"subject": format!("Order{NASTY}"), "body": "b", "customer": {"email": "ola@shop.example", "name": format!("Ola{NASTY}")}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let n2 = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    assert_eq!(reply(n2).await.unwrap().status(), StatusCode::OK);
    // A reply with its own subject.
    let r = api(reqwest::Method::POST, format!("/api/v1/tickets/{n2}/reply"), json!({"body": "b", "subject": format!("Re{NASTY}")}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // 3. Chat to ticket: the subject is made of the visitor's first words.
    v.send(json!({"type": "message", "client_id": "m1", "body": format!("Hello{NASTY}\nmore")})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let r = api(reqwest::Method::POST, format!("/api/v1/conversations/{conv}/ticket"), json!({})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let n3 = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    assert_eq!(reply(n3).await.unwrap().status(), StatusCode::OK);

    // 4. A contact's name edited in the console.
    let contact: i64 =
        app.db.read(|c| Ok(c.query_row("SELECT id FROM contacts WHERE email_norm = 'ola@shop.example'", [], |r| r.get(0))?)).await.unwrap();
    let r = app
        .plain()
        .patch(app.url(&format!("/api/v1/contacts/{contact}")))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .json(&json!({"name": "Ola\u{2028}Bcc: x@y.z"}))
        .send()
        .await
        .unwrap();
    assert!(r.status() == StatusCode::OK || r.status() == StatusCode::BAD_REQUEST, "{}", r.status());
    assert_eq!(reply(n2).await.unwrap().status(), StatusCode::OK);

    let subjects = outbox_subjects(&app).await;
    assert_eq!(subjects.len(), 5, "{subjects:?}");
    assert_eq!(dirty_rows(&app).await, Vec::<String>::new());
    // Cleaned, not emptied: the words stay, on one line, with single spaces.
    assert_eq!(subjects[0], format!("Re: Help [#{n}]"), "the offline form's subject is its first line");
    assert_eq!(subjects[1], format!("Re: Order Bcc: everyone@victim.test x [#{n2}]"));
    assert!(subjects.iter().all(|s| !s.contains("  ")), "{subjects:?}");
    let name: String = app
        .db
        .read(|c| Ok(c.query_row("SELECT name FROM contacts WHERE email_norm = 'eve@shop.example'", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(name, "Eve Bcc: everyone@victim.test x");
}
