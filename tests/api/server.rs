//! Health, metrics, web assets, SPA fallback and security headers.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[actix_web::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let r = app.plain().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let r = app.plain().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn metrics_only_for_direct_loopback_or_tokens() {
    let app = spawn_app().await;
    let text = app.plain().get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("# TYPE frontdesk_http_responses_total counter"));
    assert!(text.contains("frontdesk_process_resident_bytes"));
    assert!(text.contains("frontdesk_sockets 0"));
    // The commit-time histogram: cumulative buckets ending in +Inf, whose count is the number
    // of commits (the set-up wrote at least one).
    assert!(text.contains("# TYPE frontdesk_db_commit_seconds histogram"));
    let sample = |name: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} missing"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let buckets: Vec<f64> =
        ["0.005", "0.025", "0.1", "+Inf"].iter().map(|le| sample(&format!("frontdesk_db_commit_seconds_bucket{{le=\"{le}\"}}"))).collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "cumulative: {buckets:?}");
    assert!(buckets[3] >= 1.0);
    assert_eq!(buckets[3], sample("frontdesk_db_commit_seconds_count "));
    assert!(sample("frontdesk_db_commit_seconds_sum ") > 0.0);
    // Through a proxy on the same host, loopback proves nothing.
    let r = app.plain().get(app.url("/metrics")).header("x-forwarded-for", "203.0.113.9").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let token = app.api_token(frontdesk::auth::Scope::Metrics).await;
    let r = app.plain().get(app.url("/metrics")).header("x-forwarded-for", "203.0.113.9").bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn console_is_served_with_strict_headers_and_spa_fallback() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/setup", "/agents/3"] {
        let r = app.plain().get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers().clone();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("cache-control").unwrap(), "no-cache");
        let html = r.text().await.unwrap();
        assert!(html.contains("<div id=\"app\"") || html.contains("id=\"app\""), "{path}: console HTML");
        assert!(!html.contains("<script>") && !html.contains("<style"), "no inline script or style");
    }
    // Hashed assets are cacheable forever and answer conditional requests.
    let html = app.plain().get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let asset = html.split('"').find(|s| s.starts_with("/assets/") && s.ends_with(".js")).expect("script asset in index.html");
    let r = app.plain().get(app.url(asset)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    assert!(r.headers().get("content-type").unwrap().to_str().unwrap().contains("javascript"));
    let etag = r.headers().get("etag").unwrap().clone();
    let r = app.plain().get(app.url(asset)).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    // Missing files are 404, not the SPA page.
    assert_eq!(app.plain().get(app.url("/assets/nope-123.js")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // The fallback answers GET only, and never /api or /ws.
    assert_eq!(app.plain().post(app.url("/login")).send().await.unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
    for path in ["/api/v1/unknown", "/api", "/ws/unknown"] {
        let r = app.plain().get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.headers().get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    }
}

#[actix_web::test]
async fn responses_are_gzip_compressed_when_asked() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = client.get(app.url("/")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
}

/// One scheduler round, driven by hand: the same `jobs::run_once` the 30-second timer calls.
#[actix_web::test]
async fn one_scheduler_round_runs_the_due_jobs() {
    use frontdesk::clock::Clock;
    let app = spawn_app().await;
    let agent = app.add_agent("ann@shop.example", frontdesk::auth::Role::Agent).await;
    app.session_for(agent).await;
    let now = app.clock.now_ms();
    let blob = app.db.write(move |c| frontdesk::chat::files::store::new_blob(c, now)).await.unwrap();
    let (sessions, blobs) = (app.count("sessions").await, app.count("blobs").await);
    assert!(sessions >= 1 && blobs >= 1);

    // Not stale yet: a first round (which includes cleanup) keeps both.
    let report = frontdesk::jobs::run_once(&app.state, 1).await;
    assert_eq!(report.cleaned, Some((0, 0)));
    assert!(report.woken.is_empty() && report.idle_chats_ended.is_empty());

    // 13 hours later the half-finished upload (> 1 h) and the idle session (> 12 h) are stale,
    // but round 2 does not run cleanup; round 21 does.
    app.clock.advance(13 * 3_600_000);
    assert_eq!(frontdesk::jobs::run_once(&app.state, 2).await.cleaned, None);
    assert_eq!(app.count("blobs").await, blobs);
    let report = frontdesk::jobs::run_once(&app.state, 21).await;
    // (The app's own timer ran round 1 at start, before anything was stale, so these rows are
    // ours to remove.)
    assert_eq!(report.cleaned, Some((sessions as usize, 1)));
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(app.count("blobs").await, blobs - 1);
    let gone = app.db.read(move |c| frontdesk::chat::files::store::blob_data(c, blob, 0)).await.unwrap();
    assert!(gone.is_empty());
}

/// Security finding 14: a request whose body never arrives used to hold its connection (and a
/// handler) for minutes. A body that stalls for `body_read_timeout` is answered 408 and the
/// connection closed. Raw TCP, so nothing in between buffers or times out on its own.
#[actix_web::test]
async fn a_stalled_request_body_gets_408_and_the_connection_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|c| c.body_read_timeout = std::time::Duration::from_secs(1)).await;
    let addr = app.address.trim_start_matches("http://").to_string();
    // Headers promise 200 bytes; nothing of the body comes, or only its start.
    for sent_body in ["", "{\"email\": \"ann@shop.example\", "] {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{sent_body}"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        // Read until the server closes the connection (or the generous deadline passes).
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(30), s.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(read.is_ok(), "connection still open after 30 s with a stalled body (body sent: {sent_body:?}); got {text:?}");
        assert!(text.starts_with("HTTP/1.1 408"), "body sent: {sent_body:?}; got {text:?}");
        assert!(text.contains("\"code\":\"request_timeout\""), "{text}");
    }
    // The limit is on silence, not on the whole body: a slow but steady body is read in full.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = serde_json::json!({"email": "ann@shop.example", "password": "x".repeat(40)}).to_string();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.as_bytes().chunks(2) {
        s.write_all(chunk).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(30), s.read_to_end(&mut answer)).await.expect("answer within 30 s").unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 401"), "a steady body reaches the handler: {text:?}");
}
