//! Data retention: with the manual clock, a run deletes exactly the expired rows, in many
//! small batches, while a visitor keeps chatting (messages acknowledged during the run).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use frontdesk::auth::Scope;
use frontdesk::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws;

const DAY: i64 = 86_400_000;

async fn ids(app: &TestApp, sql: &'static str) -> BTreeSet<i64> {
    app.db
        .read(move |c| {
            let mut st = c.prepare(sql)?;
            Ok(st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap()
}

/// What was seeded: the ids expected to go and to stay.
#[derive(Default)]
struct Seeded {
    chats_gone: BTreeSet<i64>,
    chats_kept: BTreeSet<i64>,
    tickets_gone: BTreeSet<i64>,
    tickets_kept: BTreeSet<i64>,
    views_gone: BTreeSet<i64>,
    views_kept: BTreeSet<i64>,
    files_gone: BTreeSet<i64>,
    files_kept: BTreeSet<i64>,
    /// Mail-intake rows (`inbound_mail`): of tickets and of ignored mail.
    intake_gone: BTreeSet<i64>,
    intake_kept: BTreeSet<i64>,
}

async fn seed(app: &TestApp) -> Seeded {
    let now = app.clock.now_ms();
    app.db
        .write(move |c| {
            let mut s = Seeded::default();
            c.execute("INSERT INTO visitors (token_hash, first_seen_at, last_seen_at) VALUES (randomblob(32), ?1, ?1)", [now - 200 * DAY])?;
            let v = c.last_insert_rowid();
            let file = |c: &rusqlite::Connection, created: i64| -> rusqlite::Result<i64> {
                c.execute("INSERT INTO blobs (sha256, size, created_at) VALUES (randomblob(32), 3, ?1)", [created])?;
                let b = c.last_insert_rowid();
                c.execute("INSERT INTO blob_chunks (blob_id, idx, data) VALUES (?1, 0, x'010203')", [b])?;
                c.execute(
                    "INSERT INTO attachments (token, blob_id, file_name, content_type, size, visitor_id, created_at)
                     VALUES (hex(randomblob(8)), ?1, 'a.bin', 'application/octet-stream', 3, ?2, ?3)",
                    rusqlite::params![b, v, created],
                )?;
                Ok(c.last_insert_rowid())
            };
            // Chats: 12 ended 31 days ago (expired; one file each, used only there), 5 ended 29
            // days ago, 2 still active although started long ago.
            for (n, ended, status) in [(12, Some(now - 31 * DAY), "ended"), (5, Some(now - 29 * DAY), "ended"), (2, None, "active")] {
                for _ in 0..n {
                    c.execute(
                        "INSERT INTO conversations (visitor_id, status, created_at, ended_at, last_seq) VALUES (?1, ?2, ?3, ?4, 3)",
                        rusqlite::params![v, status, now - 100 * DAY, ended],
                    )?;
                    let conv = c.last_insert_rowid();
                    let att = file(c, now - DAY)?;
                    for seq in 1..=3 {
                        c.execute(
                            "INSERT INTO messages (conversation_id, seq, author_kind, body, attachment_id, created_at) VALUES (?1, ?2, 'visitor', 'old words', ?3, ?4)",
                            rusqlite::params![conv, seq, (seq == 1).then_some(att), now - 100 * DAY],
                        )?;
                    }
                    if ended.is_some_and(|e| e < now - 30 * DAY) { s.chats_gone.insert(conv) } else { s.chats_kept.insert(conv) };
                }
            }
            // Tickets: solved 61 days ago and spam 70 days ago (expired); solved 59 days ago and
            // open since 100 days (kept).
            let mut number = 5000;
            for (n, status, updated) in [(8, "solved", now - 61 * DAY), (2, "spam", now - 70 * DAY), (3, "solved", now - 59 * DAY), (2, "open", now - 100 * DAY)] {
                for _ in 0..n {
                    number += 1;
                    c.execute(
                        "INSERT INTO tickets (number, subject, status, source, created_at, updated_at) VALUES (?1, 'old', ?2, 'manual', ?3, ?3)",
                        rusqlite::params![number, status, updated],
                    )?;
                    let t = c.last_insert_rowid();
                    c.execute("INSERT INTO ticket_messages (ticket_id, kind, body, created_at) VALUES (?1, 'customer', 'help', ?2)", rusqlite::params![t, updated])?;
                    let m = c.last_insert_rowid();
                    // It came in by mail: the intake row holds the sender's address.
                    c.execute(
                        "INSERT INTO inbound_mail (dedupe_key, ticket_id, ticket_message_id, sender, outcome, via, size, received_at)
                         VALUES (?1, ?2, ?3, 'someone@mail.example', 'new', 'test', 10, ?4)",
                        rusqlite::params![format!("<{number}@mail.example>"), t, m, now - 100 * DAY],
                    )?;
                    let intake = c.last_insert_rowid();
                    let expired = status != "open" && updated < now - 60 * DAY;
                    if expired { s.tickets_gone.insert(t) } else { s.tickets_kept.insert(t) };
                    if expired { s.intake_gone.insert(intake) } else { s.intake_kept.insert(intake) };
                }
            }
            // Ignored mail (no ticket) follows the tickets' period: 2 received 61 days ago, 1 59 days ago.
            for (i, at) in [now - 61 * DAY, now - 61 * DAY, now - 59 * DAY].into_iter().enumerate() {
                c.execute(
                    "INSERT INTO inbound_mail (dedupe_key, sender, outcome, reason, via, size, received_at)
                     VALUES (?1, 'bounce@mail.example', 'ignored', 'own', 'test', 10, ?2)",
                    rusqlite::params![format!("<ignored{i}@mail.example>"), at],
                )?;
                if at < now - 60 * DAY { s.intake_gone.insert(c.last_insert_rowid()) } else { s.intake_kept.insert(c.last_insert_rowid()) };
            }
            // Automatic-reply ledger: only the last day matters (one a day per sender).
            c.execute("INSERT INTO auto_reply_log (sender, sent_at) VALUES ('old@mail.example', ?1), ('new@mail.example', ?2)", [now - 2 * DAY, now - DAY / 2])?;
            // Page trail: 60 views 8 days old (expired), 10 six days old.
            for (n, at) in [(60, now - 8 * DAY), (10, now - 6 * DAY)] {
                for _ in 0..n {
                    c.execute("INSERT INTO page_views (visitor_id, url, at) VALUES (?1, 'https://shop.example/', ?2)", rusqlite::params![v, at])?;
                    if at < now - 7 * DAY { s.views_gone.insert(c.last_insert_rowid()) } else { s.views_kept.insert(c.last_insert_rowid()) };
                }
            }
            // Files: 7 uploaded 91 days ago (expired; in a kept chat's message, which keeps its
            // text), 3 uploaded 89 days ago.
            let kept_conv = *s.chats_kept.iter().next().unwrap();
            for (n, created) in [(7, now - 91 * DAY), (3, now - 89 * DAY)] {
                for i in 0..n {
                    let a = file(c, created)?;
                    c.execute(
                        "INSERT INTO messages (conversation_id, seq, author_kind, body, attachment_id, created_at) VALUES (?1, ?2, 'agent', 'a file', ?3, ?4)",
                        rusqlite::params![kept_conv, 100 + a, a, created],
                    )?;
                    let _ = i;
                    if created < now - 90 * DAY { s.files_gone.insert(a) } else { s.files_kept.insert(a) };
                }
            }
            Ok(s)
        })
        .await
        .unwrap()
}

/// The scheduler's first round (at start) runs retention once; wait for it so it cannot
/// overlap what the test drives by hand.
async fn startup_round_done(app: &TestApp) {
    wait_until(|| async { app.db.read(|c| frontdesk::settings::store::get(c, "retention.last_run_at")).await.unwrap().is_some() }).await;
}

#[actix_web::test]
async fn expired_rows_and_only_those_go_in_batches_while_a_chat_flows() {
    let app = spawn_app().await;
    startup_round_done(&app).await;
    let token = app.api_token(Scope::Admin).await;
    let c = app.plain();
    let seeded = seed(&app).await;
    let all_files_before = ids(&app, "SELECT id FROM attachments").await;

    // Keeping everything (the default), nothing would go.
    let v: Value = c.get(app.url("/api/v1/settings/retention")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["next_run"], json!({"chats": 0, "tickets": 0, "page_views": 0, "attachments": 0}));
    let r = c
        .patch(app.url("/api/v1/settings/retention"))
        .bearer_auth(&token)
        .json(&json!({"chats_days": 30, "tickets_days": 60, "page_views_days": 7, "attachments_days": 90}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    // The settings page's preview: exactly what is about to go.
    assert_eq!(v["next_run"], json!({"chats": 12, "tickets": 10, "page_views": 60, "attachments": 7}));

    // A visitor chats throughout the run (chats start only while an agent accepts; manual routing
    // leaves it waiting in the Queue, unassigned).
    app.set_routing(|s| s.mode = frontdesk::routing::Mode::Manual).await;
    let accepting = app.add_agent("accepting@shop.example", frontdesk::auth::Role::Agent).await;
    app.set_status(accepting, frontdesk::routing::AgentStatus::Accepting).await;
    let (mut visitor, _) = ws::visitor(&app.address, None, None).await;
    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let chat = {
        let (acked, stop) = (acked.clone(), stop.clone());
        actix_web::rt::spawn(async move {
            let mut conv = 0;
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                visitor.send(json!({"type": "message", "client_id": format!("c{i}"), "body": format!("message {i}")})).await;
                let ack = visitor.recv_type("ack").await;
                assert_eq!(ack["client_id"], format!("c{i}"));
                conv = ack["conversation"].as_i64().unwrap();
                acked.fetch_add(1, Ordering::Relaxed);
            }
            conv
        })
    };
    wait_until(|| async { acked.load(Ordering::Relaxed) >= 5 }).await;
    let acked_before = acked.load(Ordering::Relaxed);
    // One row per write job: the run is long enough (well over a hundred jobs) for the chat's
    // writes to interleave with it.
    let report = frontdesk::retention::run(&app.state, 1).await.unwrap();
    let acked_during = acked.load(Ordering::Relaxed) - acked_before;
    stop.store(true, Ordering::Relaxed);
    let flowing = chat.await.unwrap();
    assert!(acked_during > 0, "chat messages were acknowledged while the run was deleting (before {acked_before}, {report:?})");

    assert_eq!((report.chats, report.messages, report.tickets, report.page_views), (12, 36, 10, 60), "{report:?}");
    assert_eq!(report.attachments, 12 + 7, "the expired chats' own files and the old uploads: {report:?}");
    assert!(report.batches >= 36 + 10 + 60, "small batches, each its own write job: {report:?}");

    // Exactly the expired rows are gone.
    let convs = ids(&app, "SELECT id FROM conversations").await;
    let mut want: BTreeSet<i64> = seeded.chats_kept.clone();
    want.insert(flowing);
    assert_eq!(convs, want);
    assert!(seeded.chats_gone.iter().all(|id| !convs.contains(id)));
    assert_eq!(ids(&app, "SELECT id FROM tickets").await, seeded.tickets_kept);
    assert_eq!(ids(&app, "SELECT ticket_id FROM ticket_messages").await, seeded.tickets_kept);
    // Mail intake rows go with their tickets (no address lingers behind a deleted ticket), and
    // ignored mail after the tickets' period.
    assert_eq!(ids(&app, "SELECT id FROM inbound_mail").await, seeded.intake_kept);
    assert_eq!(report.incoming_mails, seeded.intake_gone.len(), "{report:?}");
    assert_eq!(app.count("auto_reply_log").await, 1);
    assert_eq!(report.auto_replies, 1, "{report:?}");
    let views = ids(&app, "SELECT id FROM page_views").await;
    assert!(seeded.views_kept.is_subset(&views) && seeded.views_gone.is_disjoint(&views));
    assert_eq!(views.len(), seeded.views_kept.len() + 1, "plus the flowing visitor's page");
    let files = ids(&app, "SELECT id FROM attachments").await;
    assert!(seeded.files_kept.is_subset(&files) && seeded.files_gone.is_disjoint(&files));
    assert_eq!(files.len(), all_files_before.len() - 19);
    assert_eq!(app.count("blobs").await, files.len() as i64, "no orphaned bytes");
    // The message that carried an expired file keeps its text.
    assert_eq!(ids(&app, "SELECT id FROM messages WHERE body = 'a file' AND attachment_id IS NULL").await.len(), 7);
    // Every acknowledged chat message is stored, once.
    let n = app
        .db
        .read(move |c| {
            frontdesk::db::count(c, "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND author_kind = 'visitor'", [flowing])
        })
        .await
        .unwrap();
    assert_eq!(n as usize, acked.load(Ordering::Relaxed));

    // A second run finds nothing; the next scheduled one is a day later.
    let again = frontdesk::retention::run(&app.state, 5).await.unwrap();
    assert_eq!((again.chats, again.messages, again.tickets, again.page_views, again.attachments), (0, 0, 0, 0, 0));
    assert!(frontdesk::retention::run_if_due(&app.state).await.unwrap().is_none());
    app.clock.advance(DAY);
    assert!(frontdesk::retention::run_if_due(&app.state).await.unwrap().is_some());
    let audit: Value = c.get(app.url("/api/v1/audit")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"settings.retention") && actions.contains(&"retention.run"), "{actions:?}");
}

#[actix_web::test]
async fn malformed_retention_settings_change_nothing() {
    let app = spawn_app().await;
    startup_round_done(&app).await;
    let token = app.api_token(Scope::Admin).await;
    let c = app.plain();
    c.patch(app.url("/api/v1/settings/retention")).bearer_auth(&token).json(&json!({"chats_days": 30})).send().await.unwrap();
    let before = app.dump("settings").await;
    for (body, code) in [
        (json!({"chats_days": -1}), "invalid_input"),
        (json!({"chats_days": 4000}), "invalid_input"),
        (json!({"chats_days": "thirty"}), "invalid_input"),
        (json!({"chats_days": 1.5}), "invalid_input"),
        (json!({"keep_forever": true}), "unknown_field"),
        (json!([1, 2]), "invalid_input"),
    ] {
        let r = c.patch(app.url("/api/v1/settings/retention")).bearer_auth(&token).json(&body).send().await.unwrap();
        let (status, got) = error_code(r).await;
        assert_eq!((status, got.as_str()), (StatusCode::BAD_REQUEST, code), "{body}");
    }
    assert_eq!(app.dump("settings").await, before);
    let v: Value = c.get(app.url("/api/v1/settings/retention")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["policy"], json!({"chats_days": 30, "tickets_days": 0, "page_views_days": 0, "attachments_days": 0}));
}
