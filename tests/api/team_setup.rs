//! Team setup (issue 14, SPEC A2): the Departments page puts agents into a department in bulk.

use frontdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn department_members_are_set_in_bulk_and_audited() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    let ben = app.add_agent("ben@shop.example", Role::Agent).await;
    let cleo = app.add_agent("cleo@shop.example", Role::Agent).await;
    let admin = app.login("root@shop.example").await;
    let dept: Value =
        admin.post(app.url("/api/v1/departments")).json(&json!({"name": "Sales"})).send().await.unwrap().json().await.unwrap();
    let dept = dept["id"].as_i64().unwrap();
    let members = app.url(&format!("/api/v1/departments/{dept}/members"));
    let depts_of = |id: i64| {
        let admin = admin.clone();
        let url = app.url(&format!("/api/v1/agents/{id}"));
        async move {
            let a: Value = admin.get(url).send().await.unwrap().json().await.unwrap();
            a["department_ids"].clone()
        }
    };

    // Ben and Cleo join (a repeated id counts once).
    let r = admin.put(&members).json(&json!({"agent_ids": [cleo, ben, ben]})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let mut want = vec![ben, cleo];
    want.sort();
    assert_eq!(body["agent_ids"], json!(want));
    assert_eq!(depts_of(ben).await, json!([dept]));
    assert_eq!(depts_of(cleo).await, json!([dept]));

    // Cleo leaves; the change is one audit row naming who joined and who left.
    let audit_before = app.count("audit_log").await;
    let r = admin.put(&members).json(&json!({"agent_ids": [ben]})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(depts_of(cleo).await, json!([]));
    assert_eq!(app.count("audit_log").await, audit_before + 1);
    let rows = app.db.read(|c| frontdesk::audit::store::list(c, 1, None)).await.unwrap();
    assert_eq!(rows[0].action, "department.members");
    assert_eq!(rows[0].target.as_deref(), Some("Sales"));
    // The same list again changes nothing and writes no audit row.
    admin.put(&members).json(&json!({"agent_ids": [ben]})).send().await.unwrap();
    assert_eq!(app.count("audit_log").await, audit_before + 1);

    // Malformed or impossible requests: a clear error and nothing changed.
    let snapshot = app.dump("department_members").await;
    let audit = app.count("audit_log").await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (json!({"agent_ids": [ben, 999_999]}), StatusCode::BAD_REQUEST, "invalid_input"),
        (json!({"agent_ids": "all"}), StatusCode::BAD_REQUEST, ""),
        (json!({}), StatusCode::BAD_REQUEST, ""),
        (json!({"agent_ids": [ben], "extra": 1}), StatusCode::BAD_REQUEST, ""),
        (json!({"agent_ids": vec![ben; 1001]}), StatusCode::BAD_REQUEST, "invalid_input"),
    ];
    for (body, status, code) in cases {
        let (got, got_code) = error_code(admin.put(&members).json(&body).send().await.unwrap()).await;
        assert_eq!(got, status, "{body}");
        if !code.is_empty() {
            assert_eq!(got_code, code, "{body}");
        }
    }
    let (status, code) =
        error_code(admin.put(app.url("/api/v1/departments/424242/members")).json(&json!({"agent_ids": []})).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    // An agent may not change membership.
    let ben_client = app.login("ben@shop.example").await;
    let r = ben_client.put(&members).json(&json!({"agent_ids": []})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.dump("department_members").await, snapshot, "refused requests change no membership");
    assert_eq!(app.count("audit_log").await, audit);
}

#[actix_web::test]
async fn notification_settings_are_each_agents_own() {
    let app = spawn_app().await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    app.add_agent("bo@shop.example", Role::Agent).await;
    let ann = app.login("ann@shop.example").await;
    let bo = app.login("bo@shop.example").await;
    let url = app.url("/api/v1/me/notifications");
    let all_on = json!({"sound": true, "new_chat": true, "new_message": true, "desktop": true});

    // Everything is on until the agent says otherwise.
    let got: Value = ann.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(got, all_on);
    let quiet = json!({"sound": false, "new_chat": true, "new_message": false, "desktop": true});
    let r = ann.put(&url).json(&quiet).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ann.get(&url).send().await.unwrap().json::<Value>().await.unwrap(), quiet);
    assert_eq!(bo.get(&url).send().await.unwrap().json::<Value>().await.unwrap(), all_on, "another agent's settings are untouched");

    // Malformed: a clear error, nothing changed.
    for body in [
        json!({"sound": false}),
        json!({"sound": "no", "new_chat": true, "new_message": true, "desktop": true}),
        json!({"sound": true, "new_chat": true, "new_message": true, "desktop": true, "popup": true}),
        json!([]),
    ] {
        let (status, _) = error_code(ann.put(&url).json(&body).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(ann.get(&url).send().await.unwrap().json::<Value>().await.unwrap(), quiet);
    // A token is not a person: it has no notification settings.
    let token = app.api_token(frontdesk::auth::Scope::Admin).await;
    let r = app.plain().get(&url).bearer_auth(&token).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}

#[actix_web::test]
async fn earlier_chats_need_the_visitors_own_token() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/widget/chats");
    // No token, an unknown one, an oversized one: refused alike.
    for token in [None, Some("nope"), Some(&*"x".repeat(200))] {
        let mut rb = app.plain().get(&url);
        if let Some(t) = token {
            rb = rb.header("x-visitor-token", t);
        }
        let (status, code) = error_code(rb.send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{token:?}");
    }
    // A new visitor has no earlier chats.
    let (_ws, welcome) = crate::ws::visitor(&app.address, None, None).await;
    let token = welcome["token"].as_str().unwrap();
    let got: Value = app.plain().get(&url).header("x-visitor-token", token).send().await.unwrap().json().await.unwrap();
    assert_eq!(got, json!({"items": []}));
}

/// The first-steps checklist (issue 14): each step turns done from what really happened.
#[actix_web::test]
async fn onboarding_steps_follow_what_the_shop_did() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    let admin = app.login("root@shop.example").await;
    let steps = || async {
        let r = admin.get(app.url("/api/v1/onboarding")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        let done: Vec<(String, bool)> =
            v["steps"].as_array().unwrap().iter().map(|s| (s["key"].as_str().unwrap().to_string(), s["done"].as_bool().unwrap())).collect();
        (done, v["done"].as_bool().unwrap())
    };
    let all = |agent, snippet, demo, mail| {
        vec![("agent".to_string(), agent), ("snippet".to_string(), snippet), ("demo".to_string(), demo), ("mail".to_string(), mail)]
    };
    assert_eq!(steps().await, (all(false, false, false, false), false));

    app.add_agent("ann@shop.example", Role::Agent).await;
    // A look at this server's /demo page…
    let mut demo = crate::ws::Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    demo.send(json!({"type": "hello", "v": 1, "page": {"url": format!("{}/demo", app.address)}})).await;
    demo.recv_type("welcome").await;
    assert_eq!(steps().await, (all(true, false, true, false), false));
    // …then the widget on the shop's own site.
    let (_site, _) = crate::ws::visitor(&app.address, None, None).await;
    assert_eq!(steps().await, (all(true, true, true, false), false));
    let r = admin
        .patch(app.url("/api/v1/settings/mail"))
        .header("origin", &app.address)
        .json(&json!({"smtp_url": "smtp://127.0.0.1:2525", "mail_from": "Shop <support@shop.example>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    assert_eq!(steps().await, (all(true, true, true, true), true));

    // Agents do not see it.
    let ann = app.login("ann@shop.example").await;
    assert_eq!(ann.get(app.url("/api/v1/onboarding")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}
