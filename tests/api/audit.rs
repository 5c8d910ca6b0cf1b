//! SPEC M4: every admin and supervisor action leaves an audit row (who, what, on what).

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn every_admin_and_supervisor_action_is_audited() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    let sup = app.add_agent("sue@shop.example", Role::Supervisor).await;
    let admin = app.login("root@shop.example").await;
    let supervisor = app.login("sue@shop.example").await;
    let start = app.count("audit_log").await;

    async fn ok(r: reqwest::Response) -> Value {
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
    let url = |p: &str| app.url(p);

    // Agents: create, rename, role, disable, enable, password.
    let ann = ok(admin
        .post(url("/api/v1/agents"))
        .json(&json!({"email": "ann@shop.example", "name": "Ann", "role": "agent", "password": PASSWORD}))
        .send()
        .await
        .unwrap())
    .await["id"]
        .as_i64()
        .unwrap();
    let agent_url = url(&format!("/api/v1/agents/{ann}"));
    ok(admin.patch(&agent_url).json(&json!({"name": "Ann Lee"})).send().await.unwrap()).await;
    ok(admin.patch(&agent_url).json(&json!({"role": "supervisor"})).send().await.unwrap()).await;
    ok(admin.patch(&agent_url).json(&json!({"disabled": true})).send().await.unwrap()).await;
    ok(admin.patch(&agent_url).json(&json!({"disabled": false})).send().await.unwrap()).await;
    ok(admin.post(format!("{agent_url}/password")).json(&json!({"password": "another long one"})).send().await.unwrap()).await;

    // Departments.
    let dept =
        ok(admin.post(url("/api/v1/departments")).json(&json!({"name": "Sales"})).send().await.unwrap()).await["id"].as_i64().unwrap();
    ok(admin.patch(url(&format!("/api/v1/departments/{dept}"))).json(&json!({"name": "Sales EU"})).send().await.unwrap()).await;
    ok(admin.patch(&agent_url).json(&json!({"department_ids": [dept]})).send().await.unwrap()).await;
    ok(admin.patch(url(&format!("/api/v1/agents/{sup}"))).json(&json!({"department_ids": [dept]})).send().await.unwrap()).await;

    // Tokens and settings.
    let token = ok(admin.post(url("/api/v1/tokens")).json(&json!({"name": "shop", "scope": "admin"})).send().await.unwrap()).await["id"]
        .as_i64()
        .unwrap();
    ok(admin.delete(url(&format!("/api/v1/tokens/{token}"))).send().await.unwrap()).await;
    ok(admin.patch(url("/api/v1/settings/chat")).json(&json!({"sneak_peek": true})).send().await.unwrap()).await;
    ok(admin.patch(url("/api/v1/settings/security")).json(&json!({"require_2fa": "admins"})).send().await.unwrap()).await;

    // Canned responses: shared ones by an admin (global) and a supervisor (their department);
    // a personal snippet is the author's own and leaves no row.
    let canned = |shortcut: &str, dept: Option<i64>, personal: bool| json!({"shortcut": shortcut, "title": "T", "body": "B", "department_id": dept, "personal": personal});
    let g = ok(admin.post(url("/api/v1/canned")).json(&canned("hello", None, false)).send().await.unwrap()).await["id"].as_i64().unwrap();
    ok(admin.patch(url(&format!("/api/v1/canned/{g}"))).json(&canned("hi", None, false)).send().await.unwrap()).await;
    ok(admin.delete(url(&format!("/api/v1/canned/{g}"))).send().await.unwrap()).await;
    let s = ok(supervisor.post(url("/api/v1/canned")).json(&canned("ship", Some(dept), false)).send().await.unwrap()).await["id"]
        .as_i64()
        .unwrap();
    ok(supervisor.patch(url(&format!("/api/v1/canned/{s}"))).json(&canned("shipping", Some(dept), false)).send().await.unwrap()).await;
    ok(supervisor.post(url("/api/v1/canned")).json(&canned("mine", None, true)).send().await.unwrap()).await;

    // Bans (SPEC C11): a supervisor bans a range and lifts it.
    let ban = ok(supervisor.post(url("/api/v1/bans")).json(&json!({"ip": "203.0.113.0/24", "reason": "spam"})).send().await.unwrap()).await
        ["id"]
        .as_i64()
        .unwrap();
    ok(supervisor.delete(url(&format!("/api/v1/bans/{ban}"))).send().await.unwrap()).await;

    // Two-factor: the agent enrols and uses a recovery code; an admin resets it.
    let c = app.browser();
    assert_eq!(app.post_login(&c, "ann@shop.example", "another long one").await.status(), StatusCode::OK);
    let secret = ok(c.post(url("/api/v1/me/totp")).json(&json!({})).send().await.unwrap()).await["secret"].as_str().unwrap().to_string();
    let code = frontdesk::auth::totp::code_at(&secret, app.clock.now_ms()).unwrap();
    ok(c.post(url("/api/v1/me/totp/confirm")).json(&json!({"code": code})).send().await.unwrap()).await;
    ok(admin.delete(url(&format!("/api/v1/agents/{ann}/totp"))).send().await.unwrap()).await;
    ok(admin.delete(url(&format!("/api/v1/departments/{dept}"))).send().await.unwrap()).await;

    let rows = app.db.read(|c| frontdesk::audit::store::list(c, 500, None)).await.unwrap();
    let got: Vec<(String, String, String)> = rows
        .iter()
        .rev()
        .skip(start as usize)
        .map(|e| (e.action.clone(), e.actor.split(' ').nth(1).unwrap_or(&e.actor).to_string(), e.target.clone().unwrap_or_default()))
        .collect();
    let want = [
        ("agent.create", "root@shop.example", "ann@shop.example"),
        ("agent.update", "root@shop.example", "ann@shop.example"),
        ("agent.role", "root@shop.example", "ann@shop.example"),
        ("agent.disable", "root@shop.example", "ann@shop.example"),
        ("agent.enable", "root@shop.example", "ann@shop.example"),
        ("agent.password", "root@shop.example", "ann@shop.example"),
        ("department.create", "root@shop.example", "Sales"),
        ("department.update", "root@shop.example", "Sales EU"),
        ("agent.update", "root@shop.example", "ann@shop.example"),
        ("agent.update", "root@shop.example", "sue@shop.example"),
        ("token.create", "root@shop.example", "shop"),
        ("token.delete", "root@shop.example", &token.to_string()),
        ("settings.chat", "root@shop.example", ""),
        ("settings.security", "root@shop.example", ""),
        ("canned.create", "root@shop.example", "#hello"),
        ("canned.update", "root@shop.example", "#hi"),
        ("canned.delete", "root@shop.example", "#hi"),
        ("canned.create", "sue@shop.example", "#ship"),
        ("canned.update", "sue@shop.example", "#shipping"),
        ("ban.create", "sue@shop.example", &format!("ban:{ban}")),
        ("ban.delete", "sue@shop.example", &format!("ban:{ban}")),
        ("agent.totp_enable", "ann@shop.example", "ann@shop.example"),
        ("agent.totp_reset", "root@shop.example", "ann@shop.example"),
        ("department.delete", "root@shop.example", "Sales EU"),
    ];
    let want: Vec<(String, String, String)> = want.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(got, want);

    // The role change says what it was before.
    let role = rows.iter().find(|e| e.action == "agent.role").unwrap();
    assert_eq!(role.details.as_ref().unwrap()["role_before"], "agent");
    assert_eq!(role.details.as_ref().unwrap()["role"], "supervisor");

    // Refused actions leave no row.
    let n = app.count("audit_log").await;
    let r = supervisor.post(url("/api/v1/canned")).json(&canned("global", None, false)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin.patch(url("/api/v1/settings/security")).json(&json!({"require_2fa": "nobody"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("audit_log").await, n);
}
