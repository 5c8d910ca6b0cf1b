//! The role × route matrix extended to objects (SPEC S4, A1; issue 17): for every route whose
//! path names an object and every agent socket frame that names one, the caller from the wrong
//! department or the wrong owner is refused (404/403, or an `error` frame) and nothing stored
//! changes, while the rightful callers succeed. A route or frame type without an entry here fails
//! `every_object_route_and_frame_has_an_entry`.
//!
//! Department A holds ag1's objects; ag2 is in department B. The admin switch "agents see
//! colleagues' chats" is off while chats are tried (with it on, colleagues read chats read-only by
//! design, SPEC C3; `read_only_followers_cannot_write` covers that case).

use std::collections::BTreeSet;

use frontdesk::clock::Clock;
use frontdesk::http::routes::api_routes;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::Deadline;
use crate::world::*;
use crate::ws;

/// What a route's `{…}` names, created afresh for each call that may change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Obj {
    /// A ticket in department A (with its first message id), with a second one in A to merge into.
    TicketA,
    /// A ticket in department A assigned to ag1.
    TicketOfAg1,
    /// ag1's active chat (reads do not change it; turning it into a ticket adds a ticket).
    ChatOfAg1,
    /// The visitor of ag1's chat.
    VisitorOfAg1,
    /// A contact whose only ticket is in department A.
    ContactA,
    /// ag1's saved view.
    ViewOfAg1,
    /// ag1's personal snippet.
    CannedOfAg1,
    /// ag1 itself (the agent directory).
    Ag1,
    /// A new agent (admin routes change or lock it).
    NewAgent,
    /// A new agent that signs in with a second factor (an admin resets it).
    NewAgentWith2fa,
    NewDepartment,
    NewToken,
    /// The file attached to ag1's ticket in A: `{token}/{name}`.
    FileOfTicketA,
    /// A new webhook (to a closed local port: a test delivery fails fast and is logged).
    NewWebhook,
    /// An agent invited by email who has not chosen a password yet.
    InvitedAgent,
    /// The outgoing mail of a reply on a ticket in department A (an outbox row).
    MailOfTicketA,
    /// A ban of an address range, made by an admin.
    NewBan,
    /// Department A's team room (internal chat), with one message of ag1's.
    RoomA,
    /// A new automatic invitation rule (admins change or delete it).
    NewInvitationRule,
}

/// A made object: the path parameter(s) and what a body may need.
struct Made {
    key: String,
    /// TicketA: its first message; CannedOfAg1: a unique number for the shortcut.
    n: i64,
    /// TicketA: a second ticket in A.
    other: i64,
}

struct Entry {
    method: &'static str,
    path: &'static str,
    obj: Obj,
    body: fn(&World, &Made) -> Option<Value>,
    /// Everyone else must be refused.
    allowed: &'static [Who],
    /// Tables a refused call must leave as they were.
    tables: &'static [&'static str],
}

const A_DESK: &[Who] = &[Who::Ag1, Who::Sup, Who::Admin, Who::AdminToken];
const ADMINS: &[Who] = &[Who::Admin, Who::AdminToken];
const STAFF: &[Who] = &[Who::Ag1, Who::Ag2, Who::Sup, Who::Admin, Who::AdminToken];
const ONLY_AG1: &[Who] = &[Who::Ag1];
const SUPERVISORS: &[Who] = &[Who::Sup, Who::Admin, Who::AdminToken];
const ANYONE: &[Who] = &Who::ALL;
const TICKETS: &[&str] = &["tickets", "ticket_messages", "ticket_tags", "ticket_message_attachments", "outbox", "contacts", "audit_log"];
const CHATS: &[&str] = &["conversations", "messages", "visitors", "tickets", "ticket_messages"];
const WEBHOOKS: &[&str] = &["webhooks", "webhook_deliveries", "audit_log"];
const CHAT_TAGS: &[&str] = &["conversations", "conversation_tags", "messages", "visitors"];
/// Internal chat: a department's room is its members' and the admins' (people, not tokens).
const ROOM_A: &[Who] = &[Who::Ag1, Who::Admin];
const TEAM: &[&str] = &["team_rooms", "team_messages", "team_reads"];

fn none(_: &World, _: &Made) -> Option<Value> {
    None
}

const ENTRIES: &[Entry] = &[
    Entry { method: "GET", path: "/api/v1/agents/{id}", obj: Obj::Ag1, body: none, allowed: STAFF, tables: &["agents"] },
    // Routing (SPEC C2): an agent's status history is for supervisors, not for colleagues.
    Entry {
        method: "GET",
        path: "/api/v1/agents/{id}/status-history",
        obj: Obj::Ag1,
        body: none,
        allowed: SUPERVISORS,
        tables: &["agents", "agent_status_history"],
    },
    Entry {
        method: "PATCH",
        path: "/api/v1/agents/{id}",
        obj: Obj::NewAgent,
        body: |_, _| Some(json!({"name": "Renamed"})),
        allowed: ADMINS,
        tables: &["agents", "department_members", "sessions", "audit_log"],
    },
    Entry {
        method: "POST",
        path: "/api/v1/agents/{id}/password",
        obj: Obj::NewAgent,
        body: |_, _| Some(json!({"password": "another long passphrase"})),
        allowed: ADMINS,
        tables: &["agents", "sessions", "audit_log"],
    },
    Entry {
        method: "DELETE",
        path: "/api/v1/agents/{id}/totp",
        obj: Obj::NewAgentWith2fa,
        body: none,
        allowed: ADMINS,
        tables: &["agents", "recovery_codes", "audit_log"],
    },
    Entry {
        method: "PATCH",
        path: "/api/v1/departments/{id}",
        obj: Obj::NewDepartment,
        body: |_, m| Some(json!({"name": format!("Renamed department {}", m.n)})),
        allowed: ADMINS,
        tables: &["departments", "audit_log"],
    },
    Entry {
        method: "PUT",
        path: "/api/v1/departments/{id}/members",
        obj: Obj::NewDepartment,
        body: |_, _| Some(json!({"agent_ids": []})),
        allowed: ADMINS,
        tables: &["department_members", "audit_log"],
    },
    Entry {
        method: "DELETE",
        path: "/api/v1/departments/{id}",
        obj: Obj::NewDepartment,
        body: none,
        allowed: ADMINS,
        tables: &["departments", "department_members", "audit_log"],
    },
    Entry {
        method: "DELETE",
        path: "/api/v1/tokens/{id}",
        obj: Obj::NewToken,
        body: none,
        allowed: ADMINS,
        tables: &["api_tokens", "audit_log"],
    },
    Entry { method: "GET", path: "/api/v1/conversations/{id}", obj: Obj::ChatOfAg1, body: none, allowed: A_DESK, tables: CHATS },
    Entry { method: "GET", path: "/api/v1/conversations/{id}/messages", obj: Obj::ChatOfAg1, body: none, allowed: A_DESK, tables: CHATS },
    Entry {
        method: "POST",
        path: "/api/v1/conversations/{id}/ticket",
        obj: Obj::ChatOfAg1,
        body: |_, _| Some(json!({})),
        allowed: A_DESK,
        tables: CHATS,
    },
    Entry { method: "GET", path: "/api/v1/visitors/{id}", obj: Obj::VisitorOfAg1, body: none, allowed: A_DESK, tables: CHATS },
    // Tags on a chat (SPEC C9): its agent and supervisors; a colleague from B does not see it.
    Entry {
        method: "PUT",
        path: "/api/v1/conversations/{id}/tags",
        obj: Obj::ChatOfAg1,
        body: |_, m| Some(json!({"tags": [format!("matrix-{}", m.n)]})),
        allowed: A_DESK,
        tables: CHAT_TAGS,
    },
    // Lifting a ban (SPEC C11): supervisors and admins only.
    Entry {
        method: "DELETE",
        path: "/api/v1/bans/{id}",
        obj: Obj::NewBan,
        body: none,
        allowed: SUPERVISORS,
        tables: &["bans", "audit_log"],
    },
    Entry {
        method: "POST",
        path: "/api/v1/conversations/{id}/transcript",
        obj: Obj::ChatOfAg1,
        body: |_, _| Some(json!({"email": "ola@customer-a.test"})),
        allowed: A_DESK,
        tables: &["conversations", "messages", "visitors", "outbox"],
    },
    Entry {
        method: "POST",
        path: "/api/v1/mail/outbox/{id}/retry",
        obj: Obj::MailOfTicketA,
        body: none,
        allowed: A_DESK,
        tables: &["outbox", "audit_log"],
    },
    Entry {
        method: "POST",
        path: "/api/v1/agents/{id}/invite",
        obj: Obj::InvitedAgent,
        body: none,
        allowed: ADMINS,
        tables: &["agents", "auth_links", "outbox", "audit_log"],
    },
    // A 256-bit capability: whoever holds the token downloads; that the wrong callers never get
    // the token is `no_answer_leaks_what_the_caller_may_not_see`.
    Entry { method: "GET", path: "/files/{token}/{name}", obj: Obj::FileOfTicketA, body: none, allowed: ANYONE, tables: &["attachments"] },
    Entry { method: "GET", path: "/api/v1/tickets/{number}", obj: Obj::TicketA, body: none, allowed: A_DESK, tables: TICKETS },
    Entry {
        method: "PATCH",
        path: "/api/v1/tickets/{number}",
        obj: Obj::TicketA,
        body: |_, m| Some(json!({"status": "solved", "subject": "Renamed", "customer_email": format!("moved{}@customer-a.test", m.n)})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    Entry {
        method: "POST",
        path: "/api/v1/tickets/{number}/reply",
        obj: Obj::TicketA,
        body: |_, _| Some(json!({"body": "An answer"})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    Entry {
        method: "POST",
        path: "/api/v1/tickets/{number}/notes",
        obj: Obj::TicketA,
        body: |_, _| Some(json!({"body": "A note"})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    Entry {
        method: "POST",
        path: "/api/v1/tickets/{number}/customer-messages",
        obj: Obj::TicketA,
        body: |_, _| Some(json!({"body": "The customer called"})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    Entry { method: "POST", path: "/api/v1/tickets/{number}/release", obj: Obj::TicketOfAg1, body: none, allowed: A_DESK, tables: TICKETS },
    Entry {
        method: "POST",
        path: "/api/v1/tickets/{number}/transfer",
        obj: Obj::TicketA,
        body: |w, _| Some(json!({"department_id": w.dept_a, "agent_id": w.ag1_id, "note": "yours"})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    Entry {
        method: "POST",
        path: "/api/v1/tickets/{number}/merge",
        obj: Obj::TicketA,
        body: |_, m| Some(json!({"into": m.other})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    Entry {
        method: "POST",
        path: "/api/v1/tickets/{number}/split",
        obj: Obj::TicketA,
        body: |_, m| Some(json!({"message_id": m.n})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    Entry { method: "DELETE", path: "/api/v1/views/{id}", obj: Obj::ViewOfAg1, body: none, allowed: ONLY_AG1, tables: &["saved_views"] },
    Entry {
        method: "PATCH",
        path: "/api/v1/canned/{id}",
        obj: Obj::CannedOfAg1,
        body: |_, m| Some(json!({"shortcut": format!("c{}", m.n), "title": "Renamed", "body": "Changed", "personal": true})),
        allowed: ONLY_AG1,
        tables: &["canned_responses"],
    },
    Entry {
        method: "DELETE",
        path: "/api/v1/canned/{id}",
        obj: Obj::CannedOfAg1,
        body: none,
        allowed: ONLY_AG1,
        tables: &["canned_responses"],
    },
    Entry { method: "GET", path: "/api/v1/contacts/{id}", obj: Obj::ContactA, body: none, allowed: A_DESK, tables: TICKETS },
    Entry { method: "GET", path: "/api/v1/team/rooms/{id}/messages", obj: Obj::RoomA, body: none, allowed: ROOM_A, tables: TEAM },
    Entry {
        method: "PATCH",
        path: "/api/v1/contacts/{id}",
        obj: Obj::ContactA,
        body: |_, m| Some(json!({"email": format!("moved{}@customer-a.test", m.n), "name": "Mallory"})),
        allowed: A_DESK,
        tables: TICKETS,
    },
    // GDPR (SPEC A5): export and erase of a customer are for admins only.
    Entry { method: "GET", path: "/api/v1/contacts/{id}/export", obj: Obj::ContactA, body: none, allowed: ADMINS, tables: TICKETS },
    Entry {
        method: "POST",
        path: "/api/v1/contacts/{id}/erase",
        obj: Obj::ContactA,
        body: |_, _| Some(json!({"confirm": true})),
        allowed: ADMINS,
        tables: TICKETS,
    },
    Entry { method: "GET", path: "/api/v1/webhooks/{id}", obj: Obj::NewWebhook, body: none, allowed: ADMINS, tables: WEBHOOKS },
    Entry {
        method: "PATCH",
        path: "/api/v1/webhooks/{id}",
        obj: Obj::NewWebhook,
        body: |_, _| Some(json!({"enabled": false})),
        allowed: ADMINS,
        tables: WEBHOOKS,
    },
    Entry { method: "DELETE", path: "/api/v1/webhooks/{id}", obj: Obj::NewWebhook, body: none, allowed: ADMINS, tables: WEBHOOKS },
    Entry { method: "POST", path: "/api/v1/webhooks/{id}/secret", obj: Obj::NewWebhook, body: none, allowed: ADMINS, tables: WEBHOOKS },
    Entry { method: "POST", path: "/api/v1/webhooks/{id}/test", obj: Obj::NewWebhook, body: none, allowed: ADMINS, tables: WEBHOOKS },
    Entry { method: "GET", path: "/api/v1/webhooks/{id}/deliveries", obj: Obj::NewWebhook, body: none, allowed: ADMINS, tables: WEBHOOKS },
    // Notes on a contact (the visitor panel, C5): whoever may see the contact.
    Entry {
        method: "POST",
        path: "/api/v1/contacts/{id}/notes",
        obj: Obj::ContactA,
        body: |_, _| Some(json!({"body": "Prefers email"})),
        allowed: A_DESK,
        tables: &["contact_notes"],
    },
    Entry {
        method: "PATCH",
        path: "/api/v1/invitation-rules/{id}",
        obj: Obj::NewInvitationRule,
        body: |_, _| Some(json!({"enabled": false})),
        allowed: ADMINS,
        tables: &["invitation_rules", "audit_log"],
    },
    Entry {
        method: "DELETE",
        path: "/api/v1/invitation-rules/{id}",
        obj: Obj::NewInvitationRule,
        body: none,
        allowed: ADMINS,
        tables: &["invitation_rules", "audit_log"],
    },
];

/// Agent socket frames: what each one names, as ag2 sends it against ag1's objects.
struct FrameEntry {
    ty: &'static str,
    /// None: the frame names no object (nothing to refuse).
    frame: Option<fn(&World) -> Value>,
}

const FRAMES: &[FrameEntry] = &[
    FrameEntry { ty: "hello", frame: None },
    FrameEntry { ty: "ping", frame: None },
    FrameEntry { ty: "monitor", frame: None },
    FrameEntry { ty: "accept", frame: Some(|w| json!({"type": "accept", "conversation": w.conv})) },
    FrameEntry { ty: "open", frame: Some(|w| json!({"type": "open", "conversation": w.conv, "last_seq": 0})) },
    FrameEntry { ty: "close", frame: Some(|w| json!({"type": "close", "conversation": w.conv})) },
    FrameEntry { ty: "message", frame: Some(|w| json!({"type": "message", "conversation": w.conv, "client_id": "x1", "body": "hijack"})) },
    FrameEntry { ty: "typing", frame: Some(|w| json!({"type": "typing", "conversation": w.conv, "typing": true})) },
    FrameEntry { ty: "delivered", frame: Some(|w| json!({"type": "delivered", "conversation": w.conv, "seq": 1})) },
    FrameEntry { ty: "read", frame: Some(|w| json!({"type": "read", "conversation": w.conv, "seq": 1})) },
    FrameEntry { ty: "end", frame: Some(|w| json!({"type": "end", "conversation": w.conv})) },
    FrameEntry { ty: "viewing", frame: Some(|w| json!({"type": "viewing", "ticket": w.ticket_a, "state": "replying"})) },
    FrameEntry {
        ty: "transfer",
        frame: Some(|w| json!({"type": "transfer", "conversation": w.conv, "agent_id": w.ag2_id, "note": "mine now", "force": true})),
    },
    FrameEntry { ty: "whisper", frame: Some(|w| json!({"type": "whisper", "conversation": w.conv, "client_id": "w1", "body": "psst"})) },
    FrameEntry { ty: "take_over", frame: Some(|w| json!({"type": "take_over", "conversation": w.conv})) },
    FrameEntry {
        ty: "team_message",
        frame: Some(|w| json!({"type": "team_message", "room": w.room_a, "client_id": "t1", "body": "psst"})),
    },
    FrameEntry { ty: "team_typing", frame: Some(|w| json!({"type": "team_typing", "room": w.room_a, "typing": true})) },
    FrameEntry { ty: "team_read", frame: Some(|w| json!({"type": "team_read", "room": w.room_a, "seq": 1})) },
    // The live visitors list and invitations are every agent's (SPEC C13, W9): a visitor on
    // the site belongs to no department or owner. Inviting one who is chatting is a conflict
    // for everybody (tests/api/visitors.rs).
    FrameEntry { ty: "visitors", frame: None },
    FrameEntry { ty: "invite", frame: None },
];

/// The agent frame types the server knows, read from the parser itself (serde lists the
/// variants of `AgentFrame` when it meets an unknown one).
fn agent_frame_types() -> BTreeSet<String> {
    let e = frontdesk::realtime::protocol::parse_agent(r#"{"type":"?"}"#).unwrap_err();
    assert_eq!(e.code, "unknown_type");
    let list = e.message.split("expected one of").nth(1).unwrap_or_else(|| panic!("a variant list in {:?}", e.message));
    list.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn every_object_route_and_frame_has_an_entry() {
    let mut served: Vec<(String, &str)> =
        api_routes().iter().filter(|r| r.path.contains('{')).map(|r| (r.method.to_string(), r.path)).collect();
    let mut listed: Vec<(String, &str)> = ENTRIES.iter().map(|e| (e.method.to_string(), e.path)).collect();
    served.sort();
    listed.sort();
    let missing: Vec<_> = served.iter().filter(|r| !listed.contains(r)).collect();
    let stale: Vec<_> = listed.iter().filter(|r| !served.contains(r)).collect();
    assert!(missing.is_empty(), "routes naming an object without an object-matrix entry: {missing:?}");
    assert!(stale.is_empty(), "object-matrix entries for routes that no longer exist: {stale:?}");

    let known = agent_frame_types();
    assert!(known.contains("accept") && known.contains("viewing") && known.len() >= 10, "{known:?}");
    let listed: BTreeSet<String> = FRAMES.iter().map(|f| f.ty.to_string()).collect();
    assert_eq!(known, listed, "every agent frame type needs an entry in FRAMES (None when it names no object)");
}

struct Maker {
    n: i64,
}

impl Maker {
    async fn make(&mut self, w: &World, obj: Obj) -> Made {
        self.n += 1;
        let n = self.n;
        let made = |key: String| Made { key, n, other: 0 };
        match obj {
            Obj::TicketA | Obj::TicketOfAg1 => {
                let subject = format!("Matrix ticket {n}");
                let mut body = json!({"subject": subject, "body": "First words", "customer": {"email": OLA}, "department_id": w.dept_a});
                if obj == Obj::TicketOfAg1 {
                    body["agent_id"] = w.ag1_id.into();
                }
                let (s, t) = w.call(Who::AdminToken, "POST", "/api/v1/tickets", Some(body)).await;
                assert_eq!(s, StatusCode::CREATED, "{t}");
                let (s, t2) = w
                    .call(
                        Who::AdminToken,
                        "POST",
                        "/api/v1/tickets",
                        Some(json!({"subject": format!("Sink {n}"), "body": "x", "department_id": w.dept_a})),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{t2}");
                Made { key: t["number"].to_string(), n: t["messages"][0]["id"].as_i64().unwrap(), other: t2["number"].as_i64().unwrap() }
            }
            Obj::ChatOfAg1 => made(w.conv.to_string()),
            Obj::VisitorOfAg1 => made(w.visitor_id.to_string()),
            Obj::ContactA => {
                let t = w.ticket(Who::AdminToken, &format!("Contact {n}"), &format!("c{n}@customer-a.test"), w.dept_a, &[]).await;
                made(t["contact"]["id"].to_string())
            }
            Obj::ViewOfAg1 => {
                let (s, v) = w.call(Who::Ag1, "POST", "/api/v1/views", Some(json!({"name": format!("View {n}"), "filters": {}}))).await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                made(v["id"].to_string())
            }
            Obj::CannedOfAg1 => {
                let body = json!({"shortcut": format!("c{n}"), "title": "Mine", "body": "Hello", "personal": true});
                let (s, v) = w.call(Who::Ag1, "POST", "/api/v1/canned", Some(body)).await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                made(v["id"].to_string())
            }
            Obj::Ag1 => made(w.ag1_id.to_string()),
            Obj::NewAgent => made(w.agent(&format!("new{n}@shop.example"), frontdesk::auth::Role::Agent, vec![w.dept_a]).await.to_string()),
            Obj::NewAgentWith2fa => {
                let id = w.agent(&format!("new{n}@shop.example"), frontdesk::auth::Role::Agent, vec![w.dept_a]).await;
                let cookie = w.app.cookie_header(&w.app.session_for(id).await);
                let own = |path: &str| w.app.plain().post(w.app.url(path)).header("origin", &w.app.address).header("cookie", &cookie);
                let e: Value = own("/api/v1/me/totp").json(&json!({})).send().await.unwrap().json().await.unwrap();
                let code = frontdesk::auth::totp::code_at(e["secret"].as_str().unwrap(), w.app.clock.now_ms()).unwrap();
                let r = own("/api/v1/me/totp/confirm").json(&json!({"code": code})).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                made(id.to_string())
            }
            Obj::NewDepartment => made(w.department(&format!("Department {n}")).await.to_string()),
            Obj::NewToken => {
                let (s, t) =
                    w.call(Who::AdminToken, "POST", "/api/v1/tokens", Some(json!({"name": format!("t{n}"), "scope": "inbound"}))).await;
                assert_eq!(s, StatusCode::CREATED, "{t}");
                made(t["id"].to_string())
            }
            Obj::FileOfTicketA => made(format!("{}/invoice-a.pdf", w.ticket_file)),
            Obj::NewWebhook => {
                let body = json!({"url": format!("http://127.0.0.1:9/hook{n}"), "events": ["ticket.created"]});
                let (s, v) = w.call(Who::AdminToken, "POST", "/api/v1/webhooks", Some(body)).await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                made(v["id"].to_string())
            }
            Obj::NewInvitationRule => {
                let body = json!({"name": format!("Rule {n}"), "body": "Can we help?"});
                let (s, r) = w.call(Who::AdminToken, "POST", "/api/v1/invitation-rules", Some(body)).await;
                assert_eq!(s, StatusCode::CREATED, "{r}");
                made(r["id"].to_string())
            }
            Obj::InvitedAgent => {
                let body = json!({"email": format!("invited{n}@shop.example"), "name": format!("Invited {n}"), "role": "agent"});
                let (s, a) = w.call(Who::AdminToken, "POST", "/api/v1/invitations", Some(body)).await;
                assert_eq!(s, StatusCode::CREATED, "{a}");
                made(a["id"].to_string())
            }
            Obj::NewBan => {
                let (s, b) = w.call(Who::AdminToken, "POST", "/api/v1/bans", Some(json!({"ip": format!("198.51.100.{}", n % 250)}))).await;
                assert_eq!(s, StatusCode::CREATED, "{b}");
                made(b["id"].to_string())
            }
            Obj::RoomA => {
                // One message in the room, so a read has something to show.
                let (mut s, _) = ws::agent(&w.app.address, &w.ag1).await;
                s.send(json!({"type": "team_message", "room": w.room_a, "client_id": format!("m{n}"), "body": "hello team"})).await;
                s.recv_type("team_ack").await;
                made(w.room_a.to_string())
            }
            Obj::MailOfTicketA => {
                let t = w.ticket(Who::AdminToken, &format!("Mail {n}"), OLA, w.dept_a, &[]).await;
                let number = t["number"].as_i64().unwrap();
                let path = format!("/api/v1/tickets/{number}/reply");
                let (s, r) = w.call(Who::AdminToken, "POST", &path, Some(json!({"body": "Our answer"}))).await;
                assert!(s.is_success(), "{r}");
                let (s, page) = w.call(Who::AdminToken, "GET", "/api/v1/mail/outbox", None).await;
                assert_eq!(s, StatusCode::OK, "{page}");
                let row = page["items"].as_array().unwrap().iter().find(|r| r["ticket"] == number).unwrap_or_else(|| panic!("{page}"));
                made(row["id"].to_string())
            }
        }
    }
}

fn fill(path: &str, key: &str) -> String {
    let start = path.find('{').unwrap();
    let rest = &path[start..];
    // `{token}/{name}` takes both segments from the key.
    let end = if rest.starts_with("{token}/{name}") { start + "{token}/{name}".len() } else { start + rest.find('}').unwrap() + 1 };
    format!("{}{key}{}", &path[..start], &path[end..])
}

/// Whether `status` refuses `who`: 401 for callers without a staff credential, 403/404 for the
/// others; a token without an agent may also get 400 on routes that need a person.
fn refused(who: Who, status: StatusCode) -> bool {
    match status.as_u16() {
        401 | 403 | 404 => true,
        400 => matches!(who, Who::AdminToken | Who::MetricsToken | Who::InboundToken),
        _ => false,
    }
}

#[actix_web::test]
async fn wrong_department_and_wrong_owner_are_refused_and_change_nothing() {
    let w = World::new().await;
    w.set_colleagues_chats(false).await;
    // A token's first use stamps `last_used_at` (then once a minute, and the clock stands still):
    // stamp them now, so refused calls that only authenticate leave `api_tokens` as it was.
    for who in [Who::AdminToken, Who::MetricsToken, Who::InboundToken] {
        w.call(who, "GET", "/api/v1/me", None).await;
    }
    crate::helpers::wait_until(|| async { w.app.count("api_tokens WHERE last_used_at IS NULL").await == 0 }).await;
    let mut maker = Maker { n: 0 };
    let mut refusals = 0;
    for e in ENTRIES {
        // Refused callers, one shared object, nothing may change.
        let m = maker.make(&w, e.obj).await;
        let path = fill(e.path, &m.key);
        let before = w.dump(e.tables).await;
        for who in Who::ALL.into_iter().filter(|who| !e.allowed.contains(who)) {
            let (s, body) = w.call(who, e.method, &path, (e.body)(&w, &m)).await;
            assert!(refused(who, s), "{} {} as {who:?}: expected a refusal, got {s} {body}", e.method, e.path);
            assert!(body["error"]["code"].is_string(), "{} {} as {who:?}: an error body, got {body}", e.method, e.path);
            assert_eq!(w.dump(e.tables).await, before, "{} {} as {who:?} changed stored data", e.method, e.path);
            refusals += 1;
        }
        // Rightful callers, each on a fresh object (the call may use it up).
        for &who in e.allowed {
            let m = maker.make(&w, e.obj).await;
            let path = fill(e.path, &m.key);
            let (s, body) = w.call(who, e.method, &path, (e.body)(&w, &m)).await;
            assert!(s.is_success(), "{} {path} as {who:?}: expected success, got {s} {body}", e.method);
        }
    }
    assert!(refusals >= 100, "{refusals} refusals tried");
}

/// Lists, counters, search, saved-view counts and embedded lists as ag2 sees them: nothing of
/// department A's tickets (subject, tag, customer, files) nor of ag1's chat (visitor, file).
#[actix_web::test]
async fn no_answer_leaks_what_the_caller_may_not_see() {
    let w = World::new().await;
    w.set_colleagues_chats(false).await;
    let (s, v) = w.call(Who::Ag2, "POST", "/api/v1/views", Some(json!({"name": "All open", "filters": {"status": "open"}}))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mut seen = String::new();
    for path in [
        "/api/v1/tickets".to_string(),
        "/api/v1/tickets?with_count=true&status=open".into(),
        "/api/v1/tickets?q=secret".into(),
        "/api/v1/tickets?customer=ola".into(),
        format!("/api/v1/tickets?contact_id={}", w.contact_a),
        "/api/v1/tickets/counts".into(),
        "/api/v1/tickets/tags".into(),
        "/api/v1/views".into(),
        "/api/v1/contacts".into(),
        "/api/v1/contacts?q=ola".into(),
        format!("/api/v1/contacts/{}", w.contact_kim),
        format!("/api/v1/tickets/{}", w.kim_b),
        "/api/v1/conversations?status=queued".into(),
        "/api/v1/conversations?status=active".into(),
        "/api/v1/conversations?status=ended".into(),
        "/api/v1/conversations?status=ended&q=order".into(),
    ] {
        let (s, body) = w.call(Who::Ag2, "GET", &path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        seen.push_str(&format!("{path} → {body}\n"));
    }
    for secret in [SECRET_SUBJECT, "secret-a", OLA, &w.ticket_file, &w.chat_file, "My order 77", "127.0.0.1"] {
        assert!(!seen.contains(secret), "ag2 was shown {secret:?}:\n{seen}");
    }
    // The numbers agree with what ag2 may see: Kim's ticket in B only.
    let (_, counts) = w.call(Who::Ag2, "GET", "/api/v1/tickets/counts", None).await;
    assert_eq!(counts["open"], 1, "{counts}");
    let (_, views) = w.call(Who::Ag2, "GET", "/api/v1/views", None).await;
    assert_eq!(views["items"][0]["count"], 1, "{views}");
    let (_, list) = w.call(Who::Ag2, "GET", "/api/v1/tickets?with_count=true&status=open", None).await;
    assert_eq!((list["total"].as_i64(), list["items"][0]["number"].as_i64()), (Some(1), Some(w.kim_b)));
    // A supervisor sees them all, with the same wire format.
    let (_, counts) = w.call(Who::Sup, "GET", "/api/v1/tickets/counts", None).await;
    assert_eq!(counts["open"], 3, "{counts}");
    let (_, tags) = w.call(Who::Sup, "GET", "/api/v1/tickets/tags", None).await;
    assert_eq!(tags["items"], json!([{"tag": "secret-a", "count": 1}]));
    let (_, contacts) = w.call(Who::Sup, "GET", "/api/v1/contacts?q=ola", None).await;
    assert_eq!(contacts["items"][0]["email"], OLA);
    // ag1 finds its own customer, tag and chat.
    let (_, contacts) = w.call(Who::Ag1, "GET", "/api/v1/contacts?q=ola", None).await;
    assert_eq!(contacts["items"][0]["email"], OLA);
    let (_, tags) = w.call(Who::Ag1, "GET", "/api/v1/tickets/tags", None).await;
    assert_eq!(tags["items"], json!([{"tag": "secret-a", "count": 1}]));
    let (_, page) = w.call(Who::Ag1, "GET", &format!("/api/v1/contacts/{}", w.contact_kim), None).await;
    assert_eq!(page["tickets"].as_array().unwrap().len(), 1, "Kim's ticket in A only: {page}");
}

/// Every agent frame naming an object, sent by ag2 over a real socket against ag1's chat and
/// ticket: an `error` frame with not_found/forbidden, nothing stored changes, the visitor and
/// ag1 see nothing of it. Then ag1 sends the same frames and they work.
#[actix_web::test]
async fn socket_frames_against_someone_elses_objects_are_refused() {
    let w = World::new().await;
    w.set_colleagues_chats(false).await;
    let mut w = w;
    let mut visitor = w.visitor.take().unwrap();
    let w = w;
    let (mut ag1, _) = ws::agent(&w.app.address, &w.ag1).await;
    ag1.until_pong().await;
    let (mut ag2, _) = ws::agent(&w.app.address, &w.ag2).await;
    let tables = ["conversations", "messages", "tickets", "ticket_messages", "team_rooms", "team_messages", "team_reads"];
    let before = w.dump(&tables).await;
    for f in FRAMES {
        let Some(frame) = f.frame else { continue };
        ag2.send(frame(&w)).await;
        let answers = ag2.until_pong().await;
        let errors: Vec<&Value> = answers.iter().filter(|a| a["type"] == "error").collect();
        assert_eq!(errors.len(), 1, "{}: one error frame, got {answers:?}", f.ty);
        assert!(["not_found", "forbidden"].contains(&errors[0]["code"].as_str().unwrap()), "{}: {:?}", f.ty, errors[0]);
        assert!(answers.iter().all(|a| a["type"] == "error"), "{}: nothing but the error: {answers:?}", f.ty);
    }
    assert_eq!(w.dump(&tables).await, before, "ag2's frames changed stored data");
    // Nothing of it reached the visitor or ag1.
    ag1.send(json!({"type": "typing", "conversation": w.conv, "typing": true})).await;
    let first = visitor.recv_type("typing").await;
    assert_eq!(first["name"], "ag1", "the visitor saw someone else typing first: {first}");
    let seen_by_ag1 = ag1.until_pong().await;
    assert!(!seen_by_ag1.iter().any(|f| f["type"] == "presence" || f["type"] == "error"), "{seen_by_ag1:?}");

    // The rightful agent: each frame works.
    for f in FRAMES {
        let Some(frame) = f.frame else { continue };
        if matches!(f.ty, "accept" | "end" | "transfer" | "whisper" | "take_over") {
            continue; // below: on a chat of their own, or by a supervisor
        }
        if f.ty == "close" {
            ag1.send(json!({"type": "open", "conversation": w.conv, "last_seq": 0})).await;
            ag1.recv_type("opened").await;
        }
        ag1.send(frame(&w)).await;
        let answers = ag1.until_pong().await;
        assert!(!answers.iter().any(|a| a["type"] == "error"), "{} as ag1: {answers:?}", f.ty);
        match f.ty {
            "open" => assert!(answers.iter().any(|a| a["type"] == "opened"), "{answers:?}"),
            "message" => assert!(answers.iter().any(|a| a["type"] == "ack"), "{answers:?}"),
            "team_message" => assert!(answers.iter().any(|a| a["type"] == "team_ack"), "{answers:?}"),
            // team_typing and team_read come back through the hub, possibly after the pong
            // (tests/api/teamchat.rs waits for them).
            "viewing" => assert!(answers.iter().any(|a| a["type"] == "presence" && a["ticket"] == w.ticket_a), "{answers:?}"),
            _ => {}
        }
    }
    assert!(visitor.recv_type("receipt").await["read_seq"].as_i64().is_some());
    // accept and end on a new chat.
    let (mut v2, _) = ws::visitor(&w.app.address, None, None).await;
    v2.send(json!({"type": "message", "client_id": "m1", "body": "hello again"})).await;
    let conv2 = v2.recv_type("ack").await["conversation"].as_i64().unwrap();
    let before = w.dump(&tables).await;
    for frame in [json!({"type": "end", "conversation": conv2})] {
        ag2.send(frame).await;
        let errors = ag2.until_pong().await;
        assert_eq!(errors.iter().filter(|e| e["code"] == "forbidden").count(), 1, "a queued chat is ended by supervisors only: {errors:?}");
    }
    assert_eq!(w.dump(&tables).await, before);
    ag1.send(json!({"type": "accept", "conversation": conv2})).await;
    ag1.recv_type("accepted").await;
    ag1.send(json!({"type": "end", "conversation": conv2})).await;
    let mut statuses = Vec::new();
    let deadline = Deadline::secs(10, "the chat to end");
    while statuses.last().is_none_or(|s| s != "ended") {
        deadline.check();
        statuses.push(v2.recv_type("status").await["status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["queued", "active", "ended"]);

    // Whisper and take over are a supervisor's; an agent is refused even on their own chat.
    let before = w.dump(&tables).await;
    for ty in ["whisper", "take_over"] {
        ag1.send((FRAMES.iter().find(|f| f.ty == ty).unwrap().frame.unwrap())(&w)).await;
        let codes: Vec<String> = ag1.until_pong().await.iter().filter(|a| a["type"] == "error").map(|a| a["code"].to_string()).collect();
        assert_eq!(codes, [r#""forbidden""#], "{ty} by the chat's own agent");
    }
    assert_eq!(w.dump(&tables).await, before, "refused supervisor frames changed stored data");
    // The supervisor whispers (acked), takes the chat over (assigned), and transfers it back to
    // ag1 (every console hears `transferred`).
    let (mut sup, _) = ws::agent(&w.app.address, &w.sup).await;
    sup.send(json!({"type": "whisper", "conversation": w.conv, "client_id": "w1", "body": "psst"})).await;
    assert_eq!(sup.recv_type("ack").await["conversation"], w.conv);
    sup.send(json!({"type": "take_over", "conversation": w.conv})).await;
    assert_eq!(sup.recv_type("assigned").await["conversation"]["agent_id"], w.sup_id);
    sup.send(json!({"type": "transfer", "conversation": w.conv, "agent_id": w.ag1_id, "note": "back to you"})).await;
    let t = ag1.recv_type("transferred").await;
    assert_eq!((t["conversation"].as_i64(), t["to_agent"].as_i64()), (Some(w.conv), Some(w.ag1_id)), "{t}");
}

/// With colleagues' chats on, ag2 follows ag1's chat read-only: it may open it, and every write
/// frame is still refused and changes nothing.
#[actix_web::test]
async fn read_only_followers_cannot_write() {
    let w = World::new().await;
    let (mut ag2, _) = ws::agent(&w.app.address, &w.ag2).await;
    ag2.send(json!({"type": "open", "conversation": w.conv, "last_seq": 0})).await;
    ag2.recv_type("opened").await;
    ag2.until_pong().await;
    let before = w.dump(&["conversations", "messages"]).await;
    for ty in ["accept", "message", "typing", "delivered", "read", "end", "transfer", "whisper", "take_over"] {
        let frame = (FRAMES.iter().find(|f| f.ty == ty).unwrap().frame.unwrap())(&w);
        ag2.send(frame).await;
        let answers = ag2.until_pong().await;
        let codes: Vec<&str> = answers.iter().filter(|a| a["type"] == "error").filter_map(|a| a["code"].as_str()).collect();
        let want = if ty == "accept" { "conflict" } else { "forbidden" };
        assert_eq!(codes, [want], "{ty}: {answers:?}");
    }
    assert_eq!(w.dump(&["conversations", "messages"]).await, before);
}
