//! Two-factor sign-in (SPEC C1): enrolment, the second step, reused and wrong codes, recovery
//! codes, the admin's requirement and reset, the CLI reset. The manual clock moves between
//! 30-second steps; codes are computed with the server's own `code_at` from the secret the
//! enrolment answer showed.

use frontdesk::auth::Role;
use frontdesk::auth::totp::code_at;
use frontdesk::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const STEP_MS: i64 = 30_000;

impl TestApp {
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The code an authenticator app would show now.
    fn code(&self, secret: &str) -> String {
        code_at(secret, self.now()).unwrap()
    }

    /// Moves the clock to the start of the next 30-second step.
    fn next_step(&self) {
        self.clock.advance(STEP_MS - self.now().rem_euclid(STEP_MS));
    }
}

/// Enrols the agent signed in with `c` from the profile; returns (secret, recovery codes).
async fn enrol(app: &TestApp, c: &reqwest::Client) -> (String, Vec<String>) {
    let r = c.post(app.url("/api/v1/me/totp")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let e: Value = r.json().await.unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    let r = c.post(app.url("/api/v1/me/totp/confirm")).json(&json!({"code": app.code(&secret)})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let codes = body["recovery_codes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    (secret, codes)
}

/// Password step with a fresh browser; asserts it asks for `next` and returns the client.
async fn password_step(app: &TestApp, email: &str, next: &str) -> reqwest::Client {
    let c = app.browser();
    let r = app.post_login(&c, email, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["second_factor"], next, "{body}");
    assert!(body.get("email").is_none(), "no agent (and no session) before the second step: {body}");
    assert_eq!(c.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    c
}

async fn second_step(app: &TestApp, c: &reqwest::Client, body: Value) -> reqwest::Response {
    c.post(app.url("/api/v1/auth/totp")).json(&body).send().await.unwrap()
}

async fn me(app: &TestApp, c: &reqwest::Client) -> Value {
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    app.db
        .read(|c| frontdesk::audit::store::list(c, 500, None))
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| (e.action, e.actor, e.target))
        .collect()
}

#[actix_web::test]
async fn enrol_then_sign_in_with_a_code_wrong_and_reused_codes_refused() {
    let app = spawn_app().await;
    let id = app.add_agent("ann@shop.example", Role::Agent).await;
    let c = app.login("ann@shop.example").await;
    assert_eq!(me(&app, &c).await["totp_enabled"], false);

    // Enrolment: secret as text, otpauth URI and an SVG QR code; nothing on until confirmed.
    let r = c.post(app.url("/api/v1/me/totp")).json(&json!({})).send().await.unwrap();
    let e: Value = r.json().await.unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    assert!(e["uri"].as_str().unwrap().starts_with("otpauth://totp/frontdesk:ann%40shop.example?"), "{e}");
    assert!(e["uri"].as_str().unwrap().contains(&format!("secret={secret}")));
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"), "{e}");
    let wrong = if app.code(&secret) == "000000" { "111111" } else { "000000" };
    let r = c.post(app.url("/api/v1/me/totp/confirm")).json(&json!({"code": wrong})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    assert_eq!(me(&app, &c).await["totp_enabled"], false, "a wrong confirmation turns nothing on");
    let enrol_code = app.code(&secret);
    let r = c.post(app.url("/api/v1/me/totp/confirm")).json(&json!({"code": enrol_code})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let codes: Value = r.json().await.unwrap();
    assert_eq!(codes["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!(me(&app, &c).await["totp_enabled"], true);
    // Recovery codes are stored hashed: no stored value contains a code.
    let stored = app.dump("recovery_codes").await;
    assert_eq!(stored.len(), 10);
    let first = codes["recovery_codes"][0].as_str().unwrap().replace('-', "");
    assert!(stored.iter().all(|row| !row.contains(&first)), "{stored:?}");

    // Sign-in now takes two steps. The code used to confirm is spent for its step.
    let b = password_step(&app, "ann@shop.example", "totp").await;
    let r = second_step(&app, &b, json!({"code": wrong})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "invalid_credentials".into()));
    let r = second_step(&app, &b, json!({"code": enrol_code})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "invalid_credentials".into()), "reused within its window");
    assert_eq!(b.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    app.next_step();
    let code = app.code(&secret);
    let r = second_step(&app, &b, json!({"code": code})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let agent: Value = r.json().await.unwrap();
    assert_eq!(agent["id"], id);
    assert_eq!(me(&app, &b).await["email"], "ann@shop.example");
    // The challenge is gone with its use: the same cookie cannot open a second session.
    let r = second_step(&app, &b, json!({"code": code})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()));

    // Same step, another browser: that code was used, so it is refused; the next step's works.
    let b2 = password_step(&app, "ann@shop.example", "totp").await;
    let r = second_step(&app, &b2, json!({"code": code})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "invalid_credentials".into()));
    // 40 s later the current code works (typed with spaces).
    app.clock.advance(40_000);
    let r = second_step(&app, &b2, json!({"code": format!(" {} ", app.code(&secret))})).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);

    let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(a, _, _)| a).collect();
    assert!(actions.contains(&"agent.totp_enable".to_string()), "{actions:?}");
}

/// Routing's status restore belongs to the session (SPEC C2): the right password alone leaves
/// the agent offline; only the passed second step brings back the status they last chose.
#[actix_web::test]
async fn status_comes_back_only_when_the_second_factor_passes() {
    let app = spawn_app().await;
    app.add_agent("cy@shop.example", Role::Agent).await;
    let c = app.login("cy@shop.example").await;
    let (secret, _) = enrol(&app, &c).await;
    let r = c.put(app.url("/api/v1/me/status")).json(&json!({"status": "not_accepting"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c.post(app.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count("agents WHERE email = 'cy@shop.example' AND status = 'offline'").await, 1, "logout sets offline");

    let b = password_step(&app, "cy@shop.example", "totp").await;
    assert_eq!(app.count("agents WHERE email = 'cy@shop.example' AND status = 'offline'").await, 1, "no status before the second step");
    app.next_step();
    let r = second_step(&app, &b, json!({"code": app.code(&secret)})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let agent: Value = r.json().await.unwrap();
    assert_eq!(agent["status"], "not_accepting", "the answer carries the restored status: {agent}");
    assert_eq!(me(&app, &b).await["status"], "not_accepting");
}

#[actix_web::test]
async fn recovery_code_works_once() {
    let app = spawn_app().await;
    app.add_agent("bob@shop.example", Role::Supervisor).await;
    let c = app.login("bob@shop.example").await;
    let (_, codes) = enrol(&app, &c).await;

    let b = password_step(&app, "bob@shop.example", "totp").await;
    // Spaces, dashes and case do not matter.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let r = second_step(&app, &b, json!({"recovery_code": typed})).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    assert_eq!(me(&app, &b).await["email"], "bob@shop.example");

    let b = password_step(&app, "bob@shop.example", "totp").await;
    let r = second_step(&app, &b, json!({"recovery_code": codes[3]})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "invalid_credentials".into()), "used once");
    let r = second_step(&app, &b, json!({"recovery_code": "aaaaa-bbbbb"})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "invalid_credentials".into()));
    let r = second_step(&app, &b, json!({"recovery_code": codes[4]})).await;
    assert_eq!(r.status(), StatusCode::OK);

    let used = audit_actions(&app).await.into_iter().filter(|(a, _, _)| a == "agent.totp_recovery_used").count();
    assert_eq!(used, 2);

    // New codes (with the password) void the old ones.
    let r = c.post(app.url("/api/v1/me/totp/recovery-codes")).json(&json!({"password": "wrong password"})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    let r = c.post(app.url("/api/v1/me/totp/recovery-codes")).json(&json!({"password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let fresh: Value = r.json().await.unwrap();
    let b = password_step(&app, "bob@shop.example", "totp").await;
    let r = second_step(&app, &b, json!({"recovery_code": codes[5]})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "old codes are void");
    let r = second_step(&app, &b, json!({"recovery_code": fresh["recovery_codes"][0]})).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn second_step_attempts_are_limited_per_challenge_and_by_the_login_windows() {
    let app = spawn_app_with(|c| c.login_rate_account = frontdesk::config::Rate::parse("8/5m").unwrap()).await;
    app.add_agent("cat@shop.example", Role::Agent).await;
    let c = app.login("cat@shop.example").await;
    let (secret, _) = enrol(&app, &c).await;
    app.next_step();
    let wrong = if app.code(&secret) == "000000" { "111111" } else { "000000" };

    // Five wrong codes use the challenge up: even the right code then needs the password again.
    let b = password_step(&app, "cat@shop.example", "totp").await;
    for _ in 0..5 {
        assert_eq!(second_step(&app, &b, json!({"code": wrong})).await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = second_step(&app, &b, json!({"code": app.code(&secret)})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()));

    // Every wrong code also counts against the account's login window (8 here): after three
    // more, the next attempt — code or password — is refused before it is checked.
    let b = password_step(&app, "cat@shop.example", "totp").await;
    for _ in 0..3 {
        assert_eq!(second_step(&app, &b, json!({"code": wrong})).await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = second_step(&app, &b, json!({"code": app.code(&secret)})).await;
    assert_eq!(error_code(r).await, (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into()));
    let r = app.post_login(&app.browser(), "cat@shop.example", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    // The window passes; the right code signs in (and a challenge also expires by itself).
    app.clock.advance(5 * 60_000);
    let b = password_step(&app, "cat@shop.example", "totp").await;
    app.clock.advance(frontdesk::auth::totp::CHALLENGE_TTL_MS);
    let r = second_step(&app, &b, json!({"code": app.code(&secret)})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()), "expired challenge");
    let b = password_step(&app, "cat@shop.example", "totp").await;
    let r = second_step(&app, &b, json!({"code": app.code(&secret)})).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn required_2fa_sends_agents_to_enrolment_after_the_password() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    app.add_agent("dan@shop.example", Role::Agent).await;
    let admin = app.login("root@shop.example").await;
    let r = admin.get(app.url("/api/v1/settings/security")).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"require_2fa": "off"}));

    // Required for admins: agents still sign in with the password alone.
    let r = admin.patch(app.url("/api/v1/settings/security")).json(&json!({"require_2fa": "admins"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let dan = app.login("dan@shop.example").await;
    assert_eq!(me(&app, &dan).await["totp_required"], false);
    password_step(&app, "root@shop.example", "enrol").await;

    // Required for all: the agent's password leads to enrolment, and only a code finishes it.
    let r = admin.patch(app.url("/api/v1/settings/security")).json(&json!({"require_2fa": "all"})).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"require_2fa": "all"}));
    let b = password_step(&app, "dan@shop.example", "enrol").await;
    // The enrol challenge is not a code challenge.
    let r = second_step(&app, &b, json!({"code": "123456"})).await;
    assert_eq!(error_code(r).await.1, "unauthenticated");
    let b = password_step(&app, "dan@shop.example", "enrol").await;
    let r = b.post(app.url("/api/v1/auth/totp/enrol")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let e: Value = r.json().await.unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"));
    let wrong = if app.code(&secret) == "000000" { "111111" } else { "000000" };
    let r = b.post(app.url("/api/v1/auth/totp/enrol/confirm")).json(&json!({"code": wrong})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "invalid_credentials".into()));
    assert_eq!(b.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let r = b.post(app.url("/api/v1/auth/totp/enrol/confirm")).json(&json!({"code": app.code(&secret)})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["agent"]["totp_enabled"], true);
    assert_eq!(done["recovery_codes"].as_array().unwrap().len(), 10);
    let m = me(&app, &b).await;
    assert_eq!((m["totp_enabled"].clone(), m["totp_required"].clone()), (json!(true), json!(true)));
    let r = b.patch(app.url("/api/v1/me")).json(&json!({"locale": "pl"})).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["totp_required"], true, "the profile answer says so too");

    // While required, the agent cannot turn it off; the next sign-in asks for a code.
    let r = b.post(app.url("/api/v1/me/totp/disable")).json(&json!({"password": PASSWORD})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::CONFLICT, "conflict".into()));
    password_step(&app, "dan@shop.example", "totp").await;

    // Back to off: turning it off takes the password, and then the password alone signs in.
    admin.patch(app.url("/api/v1/settings/security")).json(&json!({"require_2fa": "off"})).send().await.unwrap();
    let r = b.post(app.url("/api/v1/me/totp/disable")).json(&json!({"password": "not my password"})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    let r = b.post(app.url("/api/v1/me/totp/disable")).json(&json!({"password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count("recovery_codes").await, 0);
    app.login("dan@shop.example").await;

    let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(a, _, _)| a).collect();
    for want in ["settings.security", "agent.totp_enable", "agent.totp_disable"] {
        assert!(actions.contains(&want.to_string()), "{want} in {actions:?}");
    }
}

#[actix_web::test]
async fn admin_and_cli_reset_an_agents_second_factor() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    let eve = app.add_agent("eve@shop.example", Role::Agent).await;
    let admin = app.login("root@shop.example").await;
    let c = app.login("eve@shop.example").await;
    enrol(&app, &c).await;
    let listed: Value = admin.get(app.url(&format!("/api/v1/agents/{eve}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["totp_enabled"], true);

    let r = admin.delete(app.url(&format!("/api/v1/agents/{eve}/totp"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["totp_enabled"], false);
    assert_eq!(app.count("recovery_codes").await, 0);
    let (action, actor, target) = audit_actions(&app).await.pop().unwrap();
    assert_eq!(action, "agent.totp_reset");
    assert!(actor.contains("root@shop.example"), "{actor}");
    assert_eq!(target.as_deref(), Some("eve@shop.example"));
    // Nothing left to reset; unknown agents are 404.
    let r = admin.delete(app.url(&format!("/api/v1/agents/{eve}/totp"))).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::CONFLICT, "conflict".into()));
    let r = admin.delete(app.url("/api/v1/agents/99999/totp")).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::NOT_FOUND, "not_found".into()));
    // The password alone signs in again.
    app.login("eve@shop.example").await;

    // The CLI does the same against the database of the running server.
    enrol(&app, &c).await;
    password_step(&app, "eve@shop.example", "totp").await;
    let bin = env!("CARGO_BIN_EXE_frontdesk");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .arg("--data-dir")
            .arg(app.data_dir.path())
            .args(args)
            .env_remove("FRONTDESK_CONFIG")
            .output()
            .unwrap()
    };
    let out = run(&["agent", "reset-2fa", "EVE@shop.example"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("two-factor sign-in removed for eve@shop.example"));
    app.login("eve@shop.example").await;
    let out = run(&["agent", "reset-2fa", "eve@shop.example"]);
    assert_eq!(out.status.code(), Some(2), "nothing to reset");
    let out = run(&["agent", "reset-2fa", "nobody@shop.example"]);
    assert_eq!(out.status.code(), Some(2));
    let (action, actor, _) = audit_actions(&app).await.pop().unwrap();
    assert_eq!((action.as_str(), actor.as_str()), ("agent.totp_reset", "cli"));
}

#[actix_web::test]
async fn malformed_second_factor_requests_change_nothing() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    let admin = app.login("root@shop.example").await;
    let c = app.login("root@shop.example").await;
    enrol(&app, &c).await;
    let before = (app.dump("agents").await, app.dump("settings").await, app.dump("recovery_codes").await);

    let b = password_step(&app, "root@shop.example", "totp").await;
    let cases = [
        json!({}),
        json!({"code": "123456", "recovery_code": "aaaaa-bbbbb"}),
        json!({"code": "1".repeat(21)}),
        json!({"recovery_code": "x".repeat(41)}),
    ];
    for body in cases {
        let r = second_step(&app, &b, body.clone()).await;
        assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()), "{body}");
    }
    let r = second_step(&app, &b, json!({"code": "123456", "remember": true})).await;
    assert_eq!(error_code(r).await.1, "unknown_field");
    let r = second_step(&app, &b, json!({"code": 123456})).await;
    assert_eq!(error_code(r).await.1, "invalid_input");
    // Without the challenge cookie, or without an Origin, the step is refused.
    let r = second_step(&app, &app.browser(), json!({"code": "123456"})).await;
    assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()));
    let r = app.plain().post(app.url("/api/v1/auth/totp")).json(&json!({"code": "123456"})).send().await.unwrap();
    assert_eq!(error_code(r).await.1, "bad_origin");

    for body in [json!({"require_2fa": "sometimes"}), json!({"require_2fa": true}), json!({}), json!({"require_2fa": "all", "x": 1})] {
        let r = admin.patch(app.url("/api/v1/settings/security")).json(&body).send().await.unwrap();
        assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST, "{body}");
    }
    for body in [json!({"code": 5}), json!({"code": "1".repeat(21)}), json!({})] {
        let r = c.post(app.url("/api/v1/me/totp/confirm")).json(&body).send().await.unwrap();
        assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST, "{body}");
    }
    // Enrolling again while enrolled is a conflict, not a silent new secret.
    let r = c.post(app.url("/api/v1/me/totp")).json(&json!({})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::CONFLICT, "conflict".into()));
    let r = c.post(app.url("/api/v1/me/totp/disable")).json(&json!({})).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST);
    assert_eq!((app.dump("agents").await, app.dump("settings").await, app.dump("recovery_codes").await), before);
}
