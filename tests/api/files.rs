//! Files (security findings 8–10): orphan uploads are deleted after a grace time, visitor
//! uploads are limited per visitor and per IP, stored bytes have a ceiling, downloads stream
//! chunk by chunk with a cap per client IP, and spoofing file names are normalized.

use frontdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws;

/// `n` bytes that differ with `seed` (so uploads with different seeds are different blobs).
fn bytes(seed: u32, n: usize) -> Vec<u8> {
    (0..n as u32).map(|i| (i.wrapping_add(seed.wrapping_mul(7919)).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

async fn visitor_upload(app: &TestApp, visitor: &str, name: &str, body: Vec<u8>) -> reqwest::Response {
    app.plain()
        .post(app.url("/api/v1/widget/uploads"))
        .header("origin", &app.address)
        .header("x-visitor-token", visitor)
        .header("x-file-name", name)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn agent_upload(app: &TestApp, cookie: &str, name: &str, body: Vec<u8>) -> reqwest::Response {
    app.plain()
        .post(app.url("/api/v1/uploads"))
        .header("cookie", cookie)
        .header("origin", &app.address)
        .header("x-file-name", name)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn new_visitor(app: &TestApp) -> (ws::Ws, String) {
    let (v, welcome) = ws::visitor(&app.address, None, None).await;
    (v, welcome["token"].as_str().unwrap().to_string())
}

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (app.count("attachments").await, app.count("blobs").await, app.count("blob_chunks").await)
}

/// Finding 8: uploads never sent in a message stayed forever. The cleanup round deletes them
/// once `upload_grace` has passed; a blob shared by content stays while any sent attachment
/// (chat or ticket) points at it.
#[actix_web::test]
async fn uploads_never_sent_are_deleted_after_the_grace_time() {
    let app = spawn_app().await;
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let cookie = app.cookie_header(&app.session_for(admin).await);
    // Chats only start while someone is accepting (routing).
    app.set_status(admin, frontdesk::routing::AgentStatus::Accepting).await;
    let (mut v, visitor) = new_visitor(&app).await;
    let photo = bytes(1, 300 * 1024);
    let sent = created(visitor_upload(&app, &visitor, "sent.png", photo.clone()).await).await;
    let same_bytes = created(visitor_upload(&app, &visitor, "again.png", photo.clone()).await).await;
    let orphan = created(visitor_upload(&app, &visitor, "orphan.bin", bytes(2, 600 * 1024)).await).await;
    let receipt = created(agent_upload(&app, &cookie, "receipt.pdf", bytes(3, 10 * 1024)).await).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/tickets"))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .json(
            &json!({"subject": "Receipt", "body": "Attached.", "customer": {"email": "ola@example.pl"}, "attachments": [receipt["token"]]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    v.send(json!({"type": "message", "client_id": "m1", "attachment": sent["token"]})).await;
    v.recv_type("ack").await;
    // 4 attachments over 3 blobs: 2 + 3 + 1 chunks.
    assert_eq!(counts(&app).await, (4, 3, 6));

    // Within the grace time (1 h) nothing goes.
    app.clock.advance(59 * 60_000);
    let report = frontdesk::jobs::run_once(&app.state, 21).await;
    assert_eq!(counts(&app).await, (4, 3, 6), "{report:?}");

    app.clock.advance(2 * 60_000);
    let fresh = created(visitor_upload(&app, &visitor, "fresh.txt", bytes(4, 100)).await).await;
    let report = frontdesk::jobs::run_once(&app.state, 21).await;
    // Gone: the orphan (attachment and blob) and the unsent copy (its attachment only: the sent
    // one shares its blob). Kept: sent in chat, attached to a ticket, uploaded a minute ago.
    assert_eq!(counts(&app).await, (3, 3, 4), "{report:?}");
    assert_eq!(report.orphan_uploads, Some((2, 1)));
    for gone in [&orphan, &same_bytes] {
        let r = app.plain().get(app.url(gone["url"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{gone}");
    }
    for (kept, want) in [(&sent, photo.clone()), (&receipt, bytes(3, 10 * 1024)), (&fresh, bytes(4, 100))] {
        let r = app.plain().get(app.url(kept["url"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{kept}");
        assert_eq!(r.bytes().await.unwrap().to_vec(), want, "{kept}");
    }
    // Rounds that do not clean up leave the rest alone; a later cleanup round takes `fresh`.
    app.clock.advance(2 * 3_600_000);
    assert_eq!(frontdesk::jobs::run_once(&app.state, 22).await.orphan_uploads, None);
    assert_eq!(frontdesk::jobs::run_once(&app.state, 41).await.orphan_uploads, Some((1, 1)));
    assert_eq!(counts(&app).await, (2, 2, 3));
}

/// Finding 8: one visitor added 290 MiB in 4 s. Visitor uploads now count against a quota
/// per visitor and one per client IP (bytes per hour); refused uploads store nothing.
#[actix_web::test]
async fn visitor_uploads_are_limited_per_visitor_and_per_ip() {
    let app = spawn_app_with(|c| {
        c.upload_quota_visitor = 1 << 20;
        c.upload_quota_ip = 3 << 19;
    })
    .await;
    let (_v1, one) = new_visitor(&app).await;
    let (_v2, two) = new_visitor(&app).await;
    created(visitor_upload(&app, &one, "a.bin", bytes(1, 600 * 1024)).await).await;
    let before = counts(&app).await;
    let r = visitor_upload(&app, &one, "b.bin", bytes(2, 600 * 1024)).await;
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(error_code(r).await, (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded".into()));
    assert_eq!(counts(&app).await, before, "a refused upload stores nothing");
    // A declared length over the quota is refused before the body is read.
    let r = visitor_upload(&app, &one, "c.bin", bytes(5, 500 * 1024)).await;
    assert_eq!(error_code(r).await.1, "quota_exceeded");

    // Another visitor from the same IP: its own quota has room, the IP's runs out at 1.5 MiB.
    created(visitor_upload(&app, &two, "c.bin", bytes(3, 600 * 1024)).await).await;
    let r = visitor_upload(&app, &two, "d.bin", bytes(4, 400 * 1024)).await;
    assert_eq!(error_code(r).await, (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded".into()));
    created(visitor_upload(&app, &two, "e.bin", bytes(6, 200 * 1024)).await).await;

    // Agents are people of the business: the visitor quotas do not apply to them.
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let cookie = app.cookie_header(&app.session_for(admin).await);
    created(agent_upload(&app, &cookie, "big.bin", bytes(7, 900 * 1024)).await).await;

    // An hour later the quota is back.
    app.clock.advance(3_600_000 + 1000);
    created(visitor_upload(&app, &one, "b.bin", bytes(2, 600 * 1024)).await).await;
}

/// Finding 8: nothing capped the total. An upload that would take stored bytes past
/// `storage_max` gets 507 `storage_full` (from agents too) and stores nothing.
#[actix_web::test]
async fn stored_bytes_have_a_ceiling() {
    let app = spawn_app_with(|c| c.storage_max = 1 << 20).await;
    let (_v, visitor) = new_visitor(&app).await;
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let cookie = app.cookie_header(&app.session_for(admin).await);
    created(visitor_upload(&app, &visitor, "a.bin", bytes(1, 700 * 1024)).await).await;
    let before = counts(&app).await;
    let r = visitor_upload(&app, &visitor, "b.bin", bytes(2, 700 * 1024)).await;
    assert_eq!(error_code(r).await, (StatusCode::INSUFFICIENT_STORAGE, "storage_full".into()));
    let r = agent_upload(&app, &cookie, "b.bin", bytes(2, 700 * 1024)).await;
    assert_eq!(error_code(r).await, (StatusCode::INSUFFICIENT_STORAGE, "storage_full".into()));
    assert_eq!(counts(&app).await, before, "a refused upload stores nothing");
    // Parallel uploads cannot pass the ceiling together: whichever seals second is refused.
    let (r1, r2) = tokio::join!(
        visitor_upload(&app, &visitor, "c.bin", bytes(3, 200 * 1024)),
        visitor_upload(&app, &visitor, "d.bin", bytes(4, 200 * 1024))
    );
    let mut statuses = [r1.status(), r2.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::INSUFFICIENT_STORAGE]);
    // Once the unsent uploads are cleaned up, there is room again.
    app.clock.advance(2 * 3_600_000);
    frontdesk::jobs::run_once(&app.state, 21).await;
    created(visitor_upload(&app, &visitor, "b.bin", bytes(2, 700 * 1024)).await).await;
}

/// Finding 9: each download read the whole file into memory before sending a byte. Now the
/// response starts after the first chunk and later chunks are read as the client takes them:
/// chunks removed while the client has not read yet are never sent.
#[actix_web::test]
async fn downloads_read_the_file_chunk_by_chunk() {
    let app = spawn_app().await;
    let (_v, visitor) = new_visitor(&app).await;
    let data = bytes(9, 10 << 20);
    let info = created(visitor_upload(&app, &visitor, "big.bin", data.clone()).await).await;
    let url = app.url(info["url"].as_str().unwrap());
    let client = reqwest::Client::builder().no_gzip().build().unwrap();

    // Read in full: byte-identical, with its length, never compressed (even when asked).
    let r = client.get(&url).header("accept-encoding", "gzip, br").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], (10 << 20).to_string().as_str());
    assert!(r.headers().get("content-encoding").is_none_or(|e| e == "identity"), "{:?}", r.headers());
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), data);

    // Headers arrived, body not read: the server has sent at most what the socket buffers hold
    // (a few MiB). Remove the file's last 2 MiB now; the download cannot deliver them.
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = info["token"].as_str().unwrap().to_string();
    app.db
        .write(move |c| {
            c.execute(
                "DELETE FROM blob_chunks WHERE idx >= 32 AND blob_id = (SELECT blob_id FROM attachments WHERE token = ?1)",
                [&token],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let got = r.bytes().await;
    assert!(got.as_ref().is_err() || got.as_ref().unwrap().len() < 10 << 20, "the whole file had been read before sending");
}

/// Finding 9: 60 parallel downloads raised RSS by 843 MiB. Besides streaming, one client IP
/// may only run `download_concurrency_ip` downloads at once; more get 429 until one ends.
#[actix_web::test]
async fn parallel_downloads_per_ip_are_capped() {
    let app = spawn_app_with(|c| c.download_concurrency_ip = 2).await;
    let (_v, visitor) = new_visitor(&app).await;
    let data = bytes(8, 10 << 20);
    let info = created(visitor_upload(&app, &visitor, "big.bin", data.clone()).await).await;
    let url = app.url(info["url"].as_str().unwrap());
    // Two downloads in progress (headers read, body not yet: the server waits on the socket).
    let first = app.plain().get(&url).send().await.unwrap();
    let second = app.plain().get(&url).send().await.unwrap();
    assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
    let r = app.plain().get(&url).send().await.unwrap();
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(error_code(r).await, (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into()));
    // One ends (the client goes away): its place frees up.
    drop(first);
    let deadline = Deadline::secs(10, "a download slot to free up");
    let third = loop {
        let r = app.plain().get(&url).send().await.unwrap();
        if r.status() == StatusCode::OK {
            break r;
        }
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        deadline.check();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(third.bytes().await.unwrap().to_vec(), data);
    assert_eq!(second.bytes().await.unwrap().len(), 10 << 20);
    // Both finished: the full cap is available again.
    let a = app.plain().get(&url).send().await.unwrap();
    let b = app.plain().get(&url).send().await.unwrap();
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
}

/// Finding 10: `invoice\u{202e}gpj.exe` was stored and offered as-is (shown as
/// "invoiceexe.jpg"). Bidi controls and zero-width characters are removed before a name is
/// stored, and before it is offered (names stored earlier are also repaired by the first round).
#[actix_web::test]
async fn spoofing_file_names_are_normalized_when_stored_and_offered() {
    let app = spawn_app().await;
    let (_v, visitor) = new_visitor(&app).await;
    let cases = [
        ("invoice%E2%80%AEgpj.exe", "invoicegpj.exe"),
        ("pho%E2%80%8Bto%EF%BB%BF%E2%81%A6.png", "photo.png"),
        ("%E2%80%8F%E2%80%8E%D8%9C", "file"),
    ];
    for (i, (sent, want)) in cases.into_iter().enumerate() {
        let info = created(visitor_upload(&app, &visitor, sent, bytes(i as u32, 10)).await).await;
        assert_eq!(info["name"], want);
        let token = info["token"].as_str().unwrap().to_string();
        let stored: String = app
            .db
            .read(move |c| Ok(c.query_row("SELECT file_name FROM attachments WHERE token = ?1", [&token], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(stored, want);
        let r = app.plain().get(app.url(info["url"].as_str().unwrap())).send().await.unwrap();
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(cd.ends_with(&format!("filename*=UTF-8''{want}")), "{cd}");
    }

    // A name stored before this rule existed.
    let legacy = "legacy-token-0123456789abcdef";
    let now = frontdesk::clock::Clock::now_ms(&*app.clock);
    app.db
        .write(move |c| {
            let blob: i64 = c.query_row("SELECT id FROM blobs LIMIT 1", [], |r| r.get(0))?;
            c.execute(
                "INSERT INTO attachments (token, blob_id, file_name, content_type, size, created_at) VALUES (?1, ?2, ?3, 'application/octet-stream', 10, ?4)",
                rusqlite::params![legacy, blob, "old\u{202e}fdp.exe", now],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let r = app.plain().get(app.url(&format!("/files/{legacy}/x"))).send().await.unwrap();
    let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(cd.ends_with("filename*=UTF-8''oldfdp.exe"), "{cd}");
    frontdesk::jobs::run_once(&app.state, 1).await;
    let stored: String =
        app.db.read(move |c| Ok(c.query_row("SELECT file_name FROM attachments WHERE token = ?1", [legacy], |r| r.get(0))?)).await.unwrap();
    assert_eq!(stored, "oldfdp.exe");
}
