//! The object-level policy on the findings of the outside probe (issue 17, findings 1–4): lists
//! embedded in answers, contact edits, where replies go, and the visitor panel.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::world::*;

fn numbers(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect()
}

/// Finding 1: ag2 opens its own customer's ticket; the view's `other_tickets` must not list that
/// customer's ticket in department A (nor leak its subject), while a supervisor sees both.
#[actix_web::test]
async fn other_tickets_lists_only_tickets_the_caller_may_see() {
    let w = World::new().await;
    let (s, t) = w.call(Who::Ag2, "GET", &format!("/api/v1/tickets/{}", w.kim_b), None).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(numbers(&t["other_tickets"]), Vec::<i64>::new());
    assert!(!t.to_string().contains(SECRET_SUBJECT), "the subject of a ticket in A leaked to ag2: {t}");
    let (_, t) = w.call(Who::Sup, "GET", &format!("/api/v1/tickets/{}", w.kim_b), None).await;
    assert_eq!(numbers(&t["other_tickets"]), [w.kim_a]);
    assert_eq!(t["other_tickets"][0]["subject"], format!("{SECRET_SUBJECT} for Kim"));
    // The other way round: ag1 does not see Kim's ticket in B.
    let (_, t) = w.call(Who::Ag1, "GET", &format!("/api/v1/tickets/{}", w.kim_a), None).await;
    assert_eq!(numbers(&t["other_tickets"]), Vec::<i64>::new());
}

/// Findings 2 and 3: ag2 cannot re-point the requester of a contact whose tickets are all in A
/// (refused like any object it cannot see, nothing changes), so ag1's reply still goes to the
/// customer. A permitted change is audited and shown in the ticket thread.
#[actix_web::test]
async fn a_requester_address_is_changed_only_by_who_sees_all_of_the_contact() {
    let w = World::new().await;
    let tables = ["contacts", "tickets", "ticket_messages", "audit_log", "visitors"];
    let before = w.dump(&tables).await;
    let path = format!("/api/v1/contacts/{}", w.contact_a);
    let (s, body) = w.call(Who::Ag2, "PATCH", &path, Some(json!({"email": "attacker@evil.test"}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let (s, _) = w.call(Who::Ag2, "GET", &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a contact ag2 has no ticket or chat of is not ag2's to read either");
    // Kim has a ticket in B that ag2 sees, but also one in A: visible, not editable.
    let kim = format!("/api/v1/contacts/{}", w.contact_kim);
    let (s, _) = w.call(Who::Ag2, "GET", &kim, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = w.call(Who::Ag2, "PATCH", &kim, Some(json!({"email": "attacker@evil.test"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    // Nor through the ticket it does see.
    let (s, body) =
        w.call(Who::Ag2, "PATCH", &format!("/api/v1/tickets/{}", w.kim_b), Some(json!({"customer_email": "attacker@evil.test"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(w.dump(&tables).await, before, "refused edits change nothing");

    // Finding 3: ag1's reply goes to the customer.
    let (s, r) = w.call(Who::Ag1, "POST", &format!("/api/v1/tickets/{}/reply", w.ticket_a), Some(json!({"body": "Here you go."}))).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let outbox = r["outbox_id"].as_i64().unwrap();
    let to: String =
        w.app.db.read(move |c| Ok(c.query_row("SELECT to_addrs FROM outbox WHERE id = ?1", [outbox], |r| r.get(0))?)).await.unwrap();
    assert!(to.contains(OLA) && !to.contains("evil"), "reply queued to {to}");

    // ag1 sees all of Ola's tickets: the change is allowed, audited and in the thread.
    let (s, c) = w.call(Who::Ag1, "PATCH", &path, Some(json!({"email": "ola.new@customer-a.test"}))).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["email"], "ola.new@customer-a.test");
    let audit: Vec<(String, String, String)> = w
        .app
        .db
        .read(|c| {
            let mut st =
                c.prepare("SELECT action, coalesce(target, ''), coalesce(details, '') FROM audit_log WHERE action LIKE 'contact.%'")?;
            Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "contact.email");
    assert!(audit[0].2.contains(OLA) && audit[0].2.contains("ola.new@customer-a.test"), "{audit:?}");
    let (_, t) = w.call(Who::Ag1, "GET", &format!("/api/v1/tickets/{}", w.ticket_a), None).await;
    let line = t["messages"].as_array().unwrap().iter().rev().find(|m| m["kind"] == "system").expect("a system line").clone();
    assert_eq!(line["event"], json!({"code": "requester_changed", "name": "ag1", "from": OLA, "to": "ola.new@customer-a.test"}));
    assert_eq!(line["body"], format!("Requester address changed from {OLA} to ola.new@customer-a.test by ag1"));
    // The next reply goes to the new address.
    let (_, r) = w.call(Who::Ag1, "POST", &format!("/api/v1/tickets/{}/reply", w.ticket_a), Some(json!({"body": "Noted."}))).await;
    let outbox = r["outbox_id"].as_i64().unwrap();
    let to: String =
        w.app.db.read(move |c| Ok(c.query_row("SELECT to_addrs FROM outbox WHERE id = ?1", [outbox], |r| r.get(0))?)).await.unwrap();
    assert!(to.contains("ola.new@customer-a.test"), "{to}");

    // A supervisor may change Kim's address (tickets in both departments): also audited.
    let (s, _) = w
        .call(Who::Sup, "PATCH", &format!("/api/v1/tickets/{}", w.kim_b), Some(json!({"customer_email": "kim.new@customer-ab.test"})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, t) = w.call(Who::Sup, "GET", &format!("/api/v1/tickets/{}", w.kim_a), None).await;
    let line = t["messages"].as_array().unwrap().iter().rev().find(|m| m["kind"] == "system").unwrap().clone();
    assert_eq!(line["event"]["code"], "requester_changed", "every ticket of the contact shows the change");
    assert_eq!(w.app.count("audit_log WHERE action = 'contact.email'").await, 2);
}

/// Finding 4: the visitor panel (IP, page trail) only through a chat the caller may see.
#[actix_web::test]
async fn the_visitor_panel_is_shown_only_through_a_chat_the_caller_may_see() {
    let w = World::new().await;
    let path = format!("/api/v1/visitors/{}", w.visitor_id);
    w.set_colleagues_chats(false).await;
    let (s, body) = w.call(Who::Ag2, "GET", &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(!body.to_string().contains("127.0.0.1"));
    for who in [Who::Ag1, Who::Sup, Who::Admin, Who::AdminToken] {
        let (s, v) = w.call(who, "GET", &path, None).await;
        assert_eq!(s, StatusCode::OK, "{who:?}");
        assert_eq!(v["ip"], "127.0.0.1", "{who:?}");
        assert_eq!(v["conversations"][0]["id"], w.conv, "{who:?}");
    }
    for who in Who::ALL {
        let (s, _) = w.call(who, "GET", &path, None).await;
        let allowed = matches!(who, Who::Ag1 | Who::Sup | Who::Admin | Who::AdminToken);
        assert_eq!(s.is_success(), allowed, "{who:?}: {s}");
    }
    // With colleagues' chats on, ag2 may read ag1's chat, and so its visitor.
    w.set_colleagues_chats(true).await;
    let (s, _) = w.call(Who::Ag2, "GET", &path, None).await;
    assert_eq!(s, StatusCode::OK);
    // A visitor id that does not exist is the same 404.
    let (s, _) = w.call(Who::Ag2, "GET", "/api/v1/visitors/999999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
