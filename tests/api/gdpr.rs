//! GDPR (SPEC A5): the export of a contact holds every record and file of theirs and nothing
//! of anyone else's; after the erase no row or byte of theirs is left in any table (the
//! tables are enumerated from sqlite_master, so a new table cannot be forgotten), and other
//! people's rows are exactly as they were.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Command, Stdio};

use frontdesk::auth::Scope;
use frontdesk::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

struct Person {
    contact: i64,
    email: String,
    ticket: i64,
    shared_blob: i64,
}

/// Every row of every table (virtual-table shadow tables included) as lower-cased text,
/// keyed by table name. BLOBs are read as lossy UTF-8 so stored file bytes are searched too.
async fn every_row(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    app.db
        .read(|c| {
            let tables: Vec<String> = {
                let mut st = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
                st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            let mut out = BTreeMap::new();
            for t in tables {
                let mut st = c.prepare(&format!("SELECT * FROM \"{t}\""))?;
                let n = st.column_count();
                let rows = st
                    .query_map([], |r| {
                        let mut s = String::new();
                        for i in 0..n {
                            match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => s.push_str("null"),
                                rusqlite::types::ValueRef::Integer(x) => s.push_str(&x.to_string()),
                                rusqlite::types::ValueRef::Real(x) => s.push_str(&x.to_string()),
                                rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                                    s.push_str(&String::from_utf8_lossy(b))
                                }
                            }
                            s.push('|');
                        }
                        Ok(s.to_lowercase())
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                out.insert(t, rows);
            }
            Ok(out)
        })
        .await
        .unwrap()
}

fn rows_with(all: &BTreeMap<String, Vec<String>>, marker: &str) -> BTreeMap<String, Vec<String>> {
    all.iter()
        .map(|(t, rows)| (t.clone(), rows.iter().filter(|r| r.contains(marker)).cloned().collect::<Vec<_>>()))
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

async fn seed(app: &TestApp, token: &str, marker: &str, shared_blob: Option<i64>) -> Person {
    let email = format!("{marker}@gdpr.example");
    let now = app.clock.now_ms();
    let (m, e) = (marker.to_string(), email.clone());
    let (contact, shared_blob) = app
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO contacts (email, email_norm, name, phone, created_at, updated_at) VALUES (?1, ?1, ?2, ?3, ?4, ?4)",
                rusqlite::params![e, format!("Name {m}"), format!("+48 {m}"), now],
            )?;
            let contact = c.last_insert_rowid();
            c.execute(
                "INSERT INTO visitors (token_hash, name, email, first_seen_at, last_seen_at, ip, user_agent, contact_id, current_url)
                 VALUES (randomblob(32), ?1, ?2, ?3, ?3, '203.0.113.7', ?4, ?5, ?6)",
                rusqlite::params![format!("Name {m}"), e, now, format!("agent {m}"), contact, format!("https://shop.example/{m}")],
            )?;
            let visitor = c.last_insert_rowid();
            for p in 1..=2 {
                c.execute(
                    "INSERT INTO page_views (visitor_id, url, title, at) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![visitor, format!("https://shop.example/{m}/page{p}"), format!("Page {m}"), now],
                )?;
            }
            // An own file, and one whose bytes are shared with the other person (one blob).
            let own = format!("{m} invoice bytes").into_bytes();
            c.execute("INSERT INTO blobs (sha256, size, created_at) VALUES (randomblob(32), ?1, ?2)", rusqlite::params![own.len() as i64, now])?;
            let own_blob = c.last_insert_rowid();
            c.execute("INSERT INTO blob_chunks (blob_id, idx, data) VALUES (?1, 0, ?2)", rusqlite::params![own_blob, own])?;
            let shared = match shared_blob {
                Some(b) => b,
                None => {
                    let bytes = b"sharedzq picture bytes".to_vec();
                    c.execute("INSERT INTO blobs (sha256, size, created_at) VALUES (randomblob(32), ?1, ?2)", rusqlite::params![bytes.len() as i64, now])?;
                    let b = c.last_insert_rowid();
                    c.execute("INSERT INTO blob_chunks (blob_id, idx, data) VALUES (?1, 0, ?2)", rusqlite::params![b, bytes])?;
                    b
                }
            };
            let mut attachments = Vec::new();
            for (blob, name, size) in [(own_blob, format!("{m}-invoice.txt"), own.len() as i64), (shared, format!("shared-{m}.png"), 22)] {
                c.execute(
                    "INSERT INTO attachments (token, blob_id, file_name, content_type, size, visitor_id, created_at) VALUES (?1, ?2, ?3, 'text/plain', ?4, ?5, ?6)",
                    rusqlite::params![format!("tok-{m}-{blob}"), blob, name, size, visitor, now],
                )?;
                attachments.push(c.last_insert_rowid());
            }
            c.execute("INSERT INTO conversations (visitor_id, status, created_at, ended_at, last_seq) VALUES (?1, 'ended', ?2, ?2, 3)", rusqlite::params![visitor, now])?;
            let conv = c.last_insert_rowid();
            for (seq, body, att) in [(1, format!("Hi, {m} here"), Some(attachments[0])), (2, format!("{m} sends a picture"), Some(attachments[1])), (3, format!("bye from {m}"), None)] {
                c.execute(
                    "INSERT INTO messages (conversation_id, seq, author_kind, body, attachment_id, created_at) VALUES (?1, ?2, 'visitor', ?3, ?4, ?5)",
                    rusqlite::params![conv, seq, body, att, now],
                )?;
            }
            // What agents and the visitor added later: a rating, a chat tag, a note on the contact.
            c.execute(
                "INSERT INTO chat_ratings (conversation_id, rating, comment, rated_at) VALUES (?1, 'good', ?2, ?3)",
                rusqlite::params![conv, format!("{m} liked it"), now],
            )?;
            c.execute("INSERT INTO conversation_tags (conversation_id, tag) VALUES (?1, ?2)", rusqlite::params![conv, format!("{m}chattag")])?;
            c.execute(
                "INSERT INTO contact_notes (contact_id, body, created_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![contact, format!("{m} prefers email"), now],
            )?;
            Ok((contact, shared))
        })
        .await
        .unwrap();
    let c = app.plain();
    let r = c
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({"subject": format!("{marker} order"), "body": format!("{marker} asks about the order"), "customer": {"email": email}, "tags": [format!("{marker}tag")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let ticket = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let r = c
        .post(app.url(&format!("/api/v1/tickets/{ticket}/reply")))
        .bearer_auth(token)
        .json(&json!({"body": format!("Dear {marker}, it ships today.")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // Their answer by mail, threaded onto the ticket by the subject (mail intake keeps an
    // intake row with their address), and the ledger of automatic replies sent to them.
    let inbound = app.api_token(Scope::Inbound).await;
    let raw = format!(
        "From: Name {marker} <{email}>\r\nTo: support@shop.example\r\nSubject: Re: [#{ticket}] {marker} order\r\n\
         Message-ID: <{marker}-1@mail.example>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n{marker} writes back by mail\r\n"
    );
    let r = c
        .post(app.url("/api/v1/inbound/mime"))
        .bearer_auth(&inbound)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["ticket"].as_i64(), body["threaded"].as_bool()), (Some(ticket), Some(true)), "{body}");
    let e = email.clone();
    app.db
        .write(move |c| Ok(c.execute("INSERT INTO auto_reply_log (sender, sent_at) VALUES (?1, ?2)", rusqlite::params![e, now])?))
        .await
        .unwrap();
    Person { contact, email, ticket, shared_blob }
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().unwrap().to_string(), data);
    }
    out
}

/// Ids of `table` rows whose text contains `marker`.
async fn ids_with(app: &TestApp, table: &'static str, cols: &'static str, marker: &str) -> BTreeSet<i64> {
    let m = format!("%{marker}%");
    app.db
        .read(move |c| {
            let mut st = c.prepare(&format!("SELECT id FROM {table} WHERE lower({cols}) LIKE ?1"))?;
            Ok(st.query_map([m], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap()
}

fn ids_in(v: &Value) -> BTreeSet<i64> {
    v.as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()
}

#[actix_web::test]
async fn export_holds_everything_of_theirs_and_erase_leaves_nothing() {
    let app = spawn_app().await;
    let token = app.api_token(Scope::Admin).await;
    let alice = seed(&app, &token, "alicezq", None).await;
    let bob = seed(&app, &token, "bobzq", Some(alice.shared_blob)).await;
    let c = app.plain();

    // ---- export
    let r = c.get(app.url(&format!("/api/v1/contacts/{}/export", alice.contact))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let files = unzip(&r.bytes().await.unwrap());
    for (name, data) in &files {
        assert!(!String::from_utf8_lossy(data).to_lowercase().contains("bobzq"), "{name} holds someone else's data");
        assert!(!name.contains("bobzq"));
    }
    let doc: Value = serde_json::from_slice(&files["export.json"]).unwrap();
    assert_eq!(doc["contact"]["email"], alice.email.as_str());
    assert_eq!(doc["contact"]["phone"], "+48 alicezq");
    let visitors = doc["visitors"].as_array().unwrap();
    assert_eq!(visitors.len(), 1);
    assert_eq!(ids_in(&visitors[0]["page_views"]), ids_with(&app, "page_views", "url", "alicezq").await);
    let convs = doc["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 1);
    assert_eq!(ids_in(&convs[0]["messages"]), ids_with(&app, "messages", "body", "alicezq").await);
    assert_eq!(convs[0]["rating"]["comment"], "alicezq liked it");
    assert_eq!(convs[0]["tags"], json!(["alicezqchattag"]));
    assert_eq!(ids_in(&doc["notes"]), ids_with(&app, "contact_notes", "body", "alicezq").await);
    let tickets = doc["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["number"], alice.ticket);
    assert_eq!(tickets[0]["tags"], json!(["alicezqtag"]));
    assert_eq!(ids_in(&tickets[0]["messages"]), ids_with(&app, "ticket_messages", "body", "alicezq").await);
    assert_eq!(ids_in(&doc["mail"]), ids_with(&app, "outbox", "to_addrs", "alicezq").await);
    let incoming = doc["incoming_mail"].as_array().unwrap();
    assert_eq!(ids_in(&doc["incoming_mail"]), ids_with(&app, "inbound_mail", "sender", "alicezq").await);
    assert_eq!((incoming.len(), incoming[0]["outcome"].as_str()), (1, Some("threaded")));
    assert_eq!(doc["auto_replies"].as_array().unwrap().len(), 1);
    assert_eq!(doc["auto_replies"][0]["sender"], alice.email.as_str());
    assert_eq!(ids_in(&doc["attachments"]), ids_with(&app, "attachments", "file_name", "alicezq").await);
    // Every file of theirs, byte for byte, including the one whose bytes Bob shares.
    let listed = doc["attachments"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for a in listed {
        let data = &files[a["path"].as_str().unwrap()];
        let expected: &[u8] =
            if a["file_name"].as_str().unwrap().starts_with("shared") { b"sharedzq picture bytes" } else { b"alicezq invoice bytes" };
        assert_eq!(data.as_slice(), expected);
    }
    assert_eq!(files.len(), 3, "export.json and two files: {:?}", files.keys());

    // ---- erase
    let before = every_row(&app).await;
    assert!(!rows_with(&before, "alicezq").is_empty());
    // Search-index segments are rewritten by the erase (that is what removes Alice's words
    // from them); Bob's side of the index is checked by searching below.
    let not_index = |m: BTreeMap<String, Vec<String>>| m.into_iter().filter(|(t, _)| !t.contains("_fts")).collect::<BTreeMap<_, _>>();
    let bob_before = not_index(rows_with(&before, "bobzq"));
    assert!(bob_before.len() >= 8, "Bob is in many tables: {:?}", bob_before.keys());
    let r = c
        .post(app.url(&format!("/api/v1/contacts/{}/erase", alice.contact)))
        .bearer_auth(&token)
        .json(&json!({"confirm": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let erased: Value = r.json().await.unwrap();
    assert_eq!(erased["erased"]["conversations"], 1);
    assert_eq!(erased["erased"]["messages"], 3);
    assert_eq!(erased["erased"]["tickets"], 1);
    assert_eq!(erased["erased"]["incoming_mails"], 1);
    assert_eq!(erased["erased"]["auto_replies"], 1);
    assert_eq!(erased["erased"]["attachments"], 2);
    assert_eq!(erased["erased"]["blobs"], 1, "the shared bytes stay for Bob");

    let after = every_row(&app).await;
    let left = rows_with(&after, "alicezq");
    assert!(left.is_empty(), "rows of the erased contact remain: {left:#?}");
    assert!(rows_with(&after, &alice.email).is_empty());
    assert_eq!(not_index(rows_with(&after, "bobzq")), bob_before, "Bob's rows are untouched");
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    // The shared blob is still there, whole.
    let shared = alice.shared_blob;
    let n = app.db.read(move |c| frontdesk::db::count(c, "SELECT count(*) FROM blob_chunks WHERE blob_id = ?1", [shared])).await.unwrap();
    assert_eq!(n, 1);
    // The search indexes no longer find their words; Bob's still are.
    for (table, q, want) in
        [("messages_fts", "alicezq", 0), ("ticket_fts", "alicezq", 0), ("messages_fts", "bobzq", 3), ("ticket_fts", "bobzq", 3)]
    {
        let n = app
            .db
            .read(move |c| frontdesk::db::count(c, &format!("SELECT count(*) FROM {table} WHERE {table} MATCH ?1"), [q]))
            .await
            .unwrap();
        assert_eq!(n, want, "{table} MATCH {q}");
    }
    // The act is audited, without the erased data (the scan above covered audit_log too).
    let audit: Value = c.get(app.url("/api/v1/audit")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let entry = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "contact.erase").expect("audited").clone();
    assert_eq!(entry["target"], format!("contact:{}", alice.contact));
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "contact.export"));
    // Gone: a second erase or export finds nothing.
    let r = c.get(app.url(&format!("/api/v1/contacts/{}/export", alice.contact))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let _ = bob;
}

#[actix_web::test]
async fn malformed_gdpr_requests_change_nothing() {
    let app = spawn_app().await;
    let token = app.api_token(Scope::Admin).await;
    let p = seed(&app, &token, "carolzq", None).await;
    let before = every_row(&app).await;
    let c = app.plain();
    for (body, code) in [
        (json!({}), "invalid_input"),
        (json!({"confirm": false}), "invalid_input"),
        (json!({"confirm": "yes"}), "invalid_input"),
        (json!({"confirm": true, "also": 1}), "unknown_field"),
    ] {
        let r = c.post(app.url(&format!("/api/v1/contacts/{}/erase", p.contact))).bearer_auth(&token).json(&body).send().await.unwrap();
        let (status, got) = error_code(r).await;
        assert_eq!((status, got.as_str()), (StatusCode::BAD_REQUEST, code), "{body}");
    }
    let r = c.post(app.url("/api/v1/contacts/999999/erase")).bearer_auth(&token).json(&json!({"confirm": true})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c.get(app.url("/api/v1/contacts/abc/export")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(every_row(&app).await, before);
}

#[actix_web::test]
async fn cli_exports_and_erases_by_email_with_confirmation() {
    let app = spawn_app().await;
    let token = app.api_token(Scope::Admin).await;
    let p = seed(&app, &token, "davezq", None).await;
    let bin = env!("CARGO_BIN_EXE_frontdesk");
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(app.data_dir.path())
            .args(args)
            .env_remove("FRONTDESK_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out_dir = tempfile::tempdir().unwrap();
    let zip_path = out_dir.path().join("dave.zip");
    let o = run(&["contact", "export", "DaveZQ@gdpr.example", "--out", zip_path.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = unzip(&std::fs::read(&zip_path).unwrap());
    let doc: Value = serde_json::from_slice(&files["export.json"]).unwrap();
    assert_eq!(doc["contact"]["id"], p.contact);
    // Refuses to overwrite; unknown email is a clear error.
    assert_eq!(run(&["contact", "export", &p.email, "--out", zip_path.to_str().unwrap()], "").status.code(), Some(2));
    let o = run(&["contact", "erase", "nobody@gdpr.example", "--yes"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nobody@gdpr.example"));
    // Without --yes it asks; anything but "yes" erases nothing.
    let o = run(&["contact", "erase", &p.email], "no\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be undone"));
    assert!(!rows_with(&every_row(&app).await, "davezq").is_empty());
    let o = run(&["contact", "erase", &p.email], "yes\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("erased contact"));
    let left = rows_with(&every_row(&app).await, "davezq");
    assert!(left.is_empty(), "{left:#?}");
}
