//! Bad input of every kind: a clear JSON error, and the stored data unchanged.

use frontdesk::auth::Role;
use reqwest::StatusCode;

use crate::helpers::*;

#[actix_web::test]
async fn malformed_bodies_get_clear_errors_and_change_nothing() {
    let app = spawn_app_with(|c| c.max_json_bytes = 4096).await;
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let c = app.login("root@shop.example").await;
    let before = (app.dump("agents").await, app.dump("departments").await);
    let huge_name = format!(r#"{{"name":"{}"}}"#, "x".repeat(10_000));
    let cases: Vec<(&str, String, &str, StatusCode, &str)> = vec![
        ("/api/v1/departments", "{".into(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        ("/api/v1/departments", "[1,2]".into(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/departments", "".into(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        ("/api/v1/departments", r#"{"name":"A","colour":"red"}"#.into(), "application/json", StatusCode::BAD_REQUEST, "unknown_field"),
        ("/api/v1/departments", r#"{"name":5}"#.into(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/departments", r#"{"name":"   "}"#.into(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/departments", r#"{"name":"A"}"#.into(), "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("/api/v1/departments", huge_name, "application/json", StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        (
            "/api/v1/agents",
            r#"{"email":"x","name":"X","role":"agent","password":"long enough"}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/api/v1/agents",
            r#"{"email":"x@y.co","name":"X","role":"god","password":"long enough"}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/api/v1/agents",
            r#"{"email":"x@y.co","name":"X","role":"agent","password":"short"}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/api/v1/agents",
            r#"{"email":"x@y.co","name":"X","role":"agent","password":"long enough","department_ids":[999]}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/api/v1/agents",
            r#"{"email":"ROOT@shop.example","name":"X","role":"agent","password":"long enough"}"#.into(),
            "application/json",
            StatusCode::CONFLICT,
            "conflict",
        ),
        ("/api/v1/tokens", r#"{"name":"t","scope":"everything"}"#.into(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/auth/login", "null".into(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
    ];
    for (path, body, ctype, status, code) in cases {
        let r = c.post(app.url(path)).header("content-type", ctype).body(body.clone()).send().await.unwrap();
        let got = error_code(r).await;
        assert_eq!(got, (status, code.to_string()), "POST {path} {}", &body[..body.len().min(80)]);
    }
    // Paths and queries.
    let r = c.patch(app.url("/api/v1/agents/abc")).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::NOT_FOUND);
    let r = c.patch(app.url("/api/v1/agents/99999")).json(&serde_json::json!({"name": "Ghost"})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let r = c.get(app.url("/api/v1/audit?limit=lots")).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    let r = c.get(app.url("/api/v1/audit?limit=0")).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    let r = c.get(app.url("/api/v1/nothing/here")).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let r = c.put(app.url("/api/v1/agents")).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed".into()));
    // A patch that fails half-way (valid name, unknown department) leaves the agent as it was.
    let r = c
        .patch(app.url(&format!("/api/v1/agents/{admin}")))
        .json(&serde_json::json!({"name": "Renamed", "department_ids": [12345]}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    assert_eq!((app.dump("agents").await, app.dump("departments").await), before, "nothing changed");
}

#[actix_web::test]
async fn internal_details_never_reach_clients() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    let c = app.login("root@shop.example").await;
    let r = c.post(app.url("/api/v1/departments")).json(&serde_json::json!({"name": "Sales"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Break the schema under the running server: the next insert fails inside SQLite.
    let path = app.data_dir.path().join("frontdesk.db");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("CREATE TRIGGER no_more BEFORE INSERT ON departments BEGIN SELECT RAISE(ABORT, 'secret detail /etc/passwd'); END;")
        .unwrap();
    let r = c.post(app.url("/api/v1/departments")).json(&serde_json::json!({"name": "Support"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = r.text().await.unwrap();
    assert!(text.contains("\"internal\"") && !text.contains("secret") && !text.contains("passwd") && !text.contains("SQL"), "{text}");
    assert_eq!(app.count("departments").await, 1);
}
