//! Login, logout, expiry, rate limits, the Origin check, setup and password changes.

use frontdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn login_success_sets_http_only_cookie_and_me_works() {
    let app = spawn_app().await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let client = app.browser();
    let r = app.post_login(&client, "  ANN@shop.example ", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("frontdesk_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let me: Value = client.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "ann@shop.example");
    assert_eq!(me["role"], "agent");
    assert!(me.get("password_hash").is_none());
}

#[actix_web::test]
async fn https_public_url_uses_host_prefixed_secure_cookie() {
    let app = spawn_app_with(|c| c.public_url = Some("https://support.example.com".parse().unwrap())).await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "ann@shop.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("__Host-frontdesk_session="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(r.headers().get("strict-transport-security").is_some());
}

#[actix_web::test]
async fn login_failures_are_uniform_and_disabled_accounts_refused() {
    let app = spawn_app().await;
    let id = app.add_agent("ann@shop.example", Role::Agent).await;
    let c = app.browser();
    let (s, code) = error_code(app.post_login(&c, "ann@shop.example", "wrong password").await).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let (s, code) = error_code(app.post_login(&c, "nobody@shop.example", PASSWORD).await).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    app.db
        .write(move |c| {
            frontdesk::agents::update(
                c,
                id,
                frontdesk::agents::AgentPatch { disabled: Some(true), ..Default::default() },
                &frontdesk::audit::Actor::cli(),
                0,
            )
        })
        .await
        .unwrap();
    // Security finding 16a: a disabled account answers exactly like a wrong password, whether
    // or not the password is right, so the answer confirms nothing; the hash still runs, so
    // timing tells nothing either.
    let wrong: Value = app.post_login(&c, "ann@shop.example", "wrong password").await.json().await.unwrap();
    for password in [PASSWORD, "wrong password", "another wrong one"] {
        let hashed = app.state.hasher.runs();
        let r = app.post_login(&c, "ann@shop.example", password).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "disabled account, password {password:?}");
        assert_eq!(r.json::<Value>().await.unwrap(), wrong, "same answer as a wrong password");
        assert_eq!(app.state.hasher.runs() - hashed, 1, "the password was hashed as for any account");
    }
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
}

#[actix_web::test]
async fn login_is_rate_limited_per_account_and_per_ip() {
    let app = spawn_app_with(|c| {
        c.login_rate_account = frontdesk::config::Rate::parse("3/5m").unwrap();
        c.login_rate_ip = frontdesk::config::Rate::parse("6/5m").unwrap();
    })
    .await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    app.add_agent("bob@shop.example", Role::Agent).await;
    let c = app.browser();
    for _ in 0..3 {
        assert_eq!(app.post_login(&c, "ann@shop.example", "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    }
    // The account is locked for now, even with the right password...
    let r = app.post_login(&c, "ann@shop.example", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 300);
    assert_eq!(error_code(r).await.1, "rate_limited");
    // ...but another account from the same IP still works until the IP budget is spent.
    assert_eq!(app.post_login(&c, "bob@shop.example", PASSWORD).await.status(), StatusCode::OK);
    for _ in 0..3 {
        app.post_login(&c, "bob@shop.example", "wrong password").await;
    }
    assert_eq!(app.post_login(&c, "carol@shop.example", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // The window passes (the server's clock is ours to move).
    app.clock.advance(5 * 60 * 1000 + 1);
    assert_eq!(app.post_login(&c, "ann@shop.example", PASSWORD).await.status(), StatusCode::OK);
    let metrics = app.plain().get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("frontdesk_logins_total{outcome=\"rate_limited\"} 2"), "{metrics}");
}

#[actix_web::test]
async fn sessions_expire_when_idle_and_at_absolute_limit() {
    let app = spawn_app_with(|c| {
        c.session_idle = std::time::Duration::from_secs(3600);
        c.session_max = std::time::Duration::from_secs(3 * 3600);
    })
    .await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let idle = app.login("ann@shop.example").await;
    app.clock.advance(3600 * 1000 + 1);
    assert_eq!(idle.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Active use keeps a session alive past the idle limit, but not past the absolute one.
    let active = app.login("ann@shop.example").await;
    for step in 1..=4 {
        app.clock.advance(40 * 60 * 1000);
        let status = active.get(app.url("/api/v1/me")).send().await.unwrap().status();
        assert_eq!(status, StatusCode::OK, "after {} minutes", step * 40);
        // The last-seen bump is written in the background; let it commit before time moves on.
        wait_until(|| async { last_seen_moved(&app).await }).await;
    }
    app.clock.advance(30 * 60 * 1000); // 190 minutes after login, 30 minutes idle
    assert_eq!(active.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

async fn last_seen_moved(app: &TestApp) -> bool {
    let now = frontdesk::clock::Clock::now_ms(app.clock.as_ref());
    app.db.read(move |c| frontdesk::db::count(c, "SELECT count(*) FROM sessions WHERE last_seen_at = ?1", [now])).await.unwrap() > 0
}

#[actix_web::test]
async fn cookie_requests_need_own_origin_bearer_requests_do_not() {
    let app = spawn_app().await;
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let cookie = app.cookie_header(&app.session_for(admin).await);
    let body = json!({"name": "Sales"});
    let post = |origin: Option<&str>| {
        let mut rb = app.plain().post(app.url("/api/v1/departments")).header("cookie", cookie.clone()).json(&body);
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        rb.send()
    };
    let (s, code) = error_code(post(None).await.unwrap()).await;
    assert_eq!((s, code.as_str()), (StatusCode::FORBIDDEN, "bad_origin"));
    let (s, code) = error_code(post(Some("https://evil.example")).await.unwrap()).await;
    assert_eq!((s, code.as_str()), (StatusCode::FORBIDDEN, "bad_origin"));
    assert_eq!(app.count("departments").await, 0, "refused requests change nothing");
    assert_eq!(post(Some(&app.address)).await.unwrap().status(), StatusCode::CREATED);
    // GET needs no Origin.
    let r = app.plain().get(app.url("/api/v1/departments")).header("cookie", cookie.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Bearer tokens are exempt: no ambient credential a foreign page could ride on.
    let token = app.api_token(frontdesk::auth::Scope::Admin).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/departments"))
        .bearer_auth(&token)
        .header("origin", "https://evil.example")
        .json(&json!({"name": "Support"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A login form posted from a foreign site is refused too (login CSRF).
    let r = app
        .plain()
        .post(app.url("/api/v1/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": "root@shop.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn configured_public_url_is_the_only_accepted_origin() {
    let app = spawn_app_with(|c| c.public_url = Some("https://support.example.com".parse().unwrap())).await;
    let admin = app.add_agent("root@shop.example", Role::Admin).await;
    let token = app.session_for(admin).await;
    let send = |origin: &'static str| {
        app.plain()
            .post(app.url("/api/v1/departments"))
            .header("cookie", format!("__Host-frontdesk_session={token}"))
            .header("origin", origin)
            .json(&json!({"name": origin}))
            .send()
    };
    assert_eq!(send("https://support.example.com").await.unwrap().status(), StatusCode::CREATED);
    let local: &'static str = Box::leak(app.address.clone().into_boxed_str());
    assert_eq!(send(local).await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn bad_bearer_tokens_are_rejected() {
    let app = spawn_app().await;
    for header in ["Bearer ", "Bearer fdt_nope", "Basic abc", "Bearer"] {
        let r = app.plain().get(app.url("/api/v1/agents")).header("authorization", header).send().await.unwrap();
        assert_eq!(error_code(r).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()), "{header}");
    }
    let inbound = app.api_token(frontdesk::auth::Scope::Inbound).await;
    let r = app.plain().get(app.url("/api/v1/agents")).bearer_auth(&inbound).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let c = app.login("ann@shop.example").await;
    let r = c.post(app.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers().get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(c.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn disabling_or_repassword_by_admin_ends_sessions_at_once() {
    let app = spawn_app().await;
    app.add_agent("root@shop.example", Role::Admin).await;
    let ann = app.add_agent("ann@shop.example", Role::Agent).await;
    let admin = app.login("root@shop.example").await;
    let ann_client = app.login("ann@shop.example").await;
    let r = admin.patch(app.url(&format!("/api/v1/agents/{ann}"))).json(&json!({"disabled": true})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ann_client.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    admin.patch(app.url(&format!("/api/v1/agents/{ann}"))).json(&json!({"disabled": false})).send().await.unwrap();
    let ann_client = app.login("ann@shop.example").await;
    let r = admin
        .post(app.url(&format!("/api/v1/agents/{ann}/password")))
        .json(&json!({"password": "a brand new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(ann_client.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let fresh = app.browser();
    assert_eq!(app.post_login(&fresh, "ann@shop.example", "a brand new password").await.status(), StatusCode::OK);
    let audit: Value = admin.get(app.url("/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions[..3], ["agent.password", "agent.enable", "agent.disable"]);
}

#[actix_web::test]
async fn own_password_change_keeps_this_session_and_ends_others() {
    let app = spawn_app().await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let laptop = app.login("ann@shop.example").await;
    let phone = app.login("ann@shop.example").await;
    let r = laptop
        .post(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": "not it at all", "new_password": "another password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    let r = laptop
        .post(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": PASSWORD, "new_password": "another password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(laptop.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(phone.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn update_me_changes_locale_and_name_only() {
    let app = spawn_app().await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let c = app.login("ann@shop.example").await;
    let me: Value =
        c.patch(app.url("/api/v1/me")).json(&json!({"locale": "ru", "name": "Анна"})).send().await.unwrap().json().await.unwrap();
    assert_eq!((me["locale"].as_str(), me["name"].as_str()), (Some("ru"), Some("Анна")));
    let r = c.patch(app.url("/api/v1/me")).json(&json!({"role": "admin"})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "unknown_field".into()));
    let r = c.patch(app.url("/api/v1/me")).json(&json!({"locale": "xx"})).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
}

#[actix_web::test]
async fn setup_link_creates_the_first_admin_once() {
    let app = spawn_app().await;
    let link = app.setup_link.clone().expect("setup link on an empty database");
    let token = link.split("#token=").nth(1).unwrap().to_string();
    assert!(link.starts_with(&format!("{}/setup#token=", app.address)));
    let c = app.browser();
    let status: Value = c.get(app.url("/api/v1/setup")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["needed"], true);
    let body = |t: &str| json!({"token": t, "email": "owner@shop.example", "name": "Owner", "password": PASSWORD});
    let r = c.post(app.url("/api/v1/setup")).json(&body("wrong-token")).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::FORBIDDEN, "forbidden".into()));
    let r = c.post(app.url("/api/v1/setup")).json(&body(&token)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let me: Value = c.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "admin");
    let r = c.post(app.url("/api/v1/setup")).json(&body(&token)).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::CONFLICT, "conflict".into()));
    let status: Value = c.get(app.url("/api/v1/setup")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["needed"], false);
}

#[actix_web::test]
async fn the_last_enabled_admin_cannot_be_removed() {
    let app = spawn_app().await;
    let root = app.add_agent("root@shop.example", Role::Admin).await;
    let c = app.login("root@shop.example").await;
    for patch in [json!({"disabled": true}), json!({"role": "agent"})] {
        let r = c.patch(app.url(&format!("/api/v1/agents/{root}"))).json(&patch).send().await.unwrap();
        assert_eq!(error_code(r).await, (StatusCode::CONFLICT, "conflict".into()));
    }
    let me: Value = c.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!((me["role"].as_str(), me["disabled"].as_bool()), (Some("admin"), Some(false)));
}

/// Sends every (email, password) login at once, each on its own connection, and returns the
/// statuses in the same order.
async fn login_flood(app: &TestApp, attempts: &[(&str, String)]) -> Vec<StatusCode> {
    let client = app.plain();
    let sends = attempts
        .iter()
        .map(|(email, password)| client.post(app.url("/api/v1/auth/login")).json(&json!({"email": email, "password": password})).send());
    futures_util::future::join_all(sends).await.into_iter().map(|r| r.expect("login answered").status()).collect()
}

fn tally(statuses: &[StatusCode], s: StatusCode) -> usize {
    statuses.iter().filter(|&&x| x == s).count()
}

/// Security finding 11: the limit used to be checked before hashing and counted after it, so
/// a burst of simultaneous guesses all passed the check. Each attempt now reserves its place
/// in the window before the hash runs.
#[actix_web::test]
async fn simultaneous_guesses_at_one_account_hash_at_most_the_limit() {
    let app = spawn_app_with(|c| {
        c.login_rate_account = frontdesk::config::Rate::parse("5/5m").unwrap();
        c.login_rate_ip = frontdesk::config::Rate::parse("100000/5m").unwrap();
    })
    .await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    let hashed = app.state.hasher.runs();
    let guesses: Vec<_> = (0..100).map(|i| ("ann@shop.example", format!("wrong guess {i}"))).collect();
    let statuses = login_flood(&app, &guesses).await;
    assert_eq!(tally(&statuses, StatusCode::UNAUTHORIZED), 5, "{statuses:?}");
    assert_eq!(tally(&statuses, StatusCode::TOO_MANY_REQUESTS), 95, "{statuses:?}");
    assert_eq!(app.state.hasher.runs() - hashed, 5, "only the admitted guesses were hashed");

    // The right password, arriving in a flood once the limit is spent, is refused like the rest.
    let mut flood: Vec<_> = (0..20).map(|i| ("ann@shop.example", format!("more guesses {i}"))).collect();
    flood.insert(10, ("ann@shop.example", PASSWORD.to_string()));
    let statuses = login_flood(&app, &flood).await;
    assert_eq!(tally(&statuses, StatusCode::TOO_MANY_REQUESTS), 21, "{statuses:?}");
    assert_eq!(app.state.hasher.runs() - hashed, 5, "nothing more was hashed");

    app.clock.advance(5 * 60 * 1000 + 1);
    assert_eq!(app.post_login(&app.plain(), "ann@shop.example", PASSWORD).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn simultaneous_guesses_from_one_ip_hash_at_most_the_limit_and_successes_are_refunded() {
    let app = spawn_app_with(|c| {
        c.login_rate_account = frontdesk::config::Rate::parse("100000/5m").unwrap();
        c.login_rate_ip = frontdesk::config::Rate::parse("6/5m").unwrap();
    })
    .await;
    app.add_agent("ann@shop.example", Role::Agent).await;
    app.add_agent("bob@shop.example", Role::Agent).await;
    // Successful logins give their reservation back: ten of them spend none of the IP budget.
    // (While in flight they hold a place, so only six could run at the same moment.)
    for _ in 0..10 {
        assert_eq!(app.post_login(&app.plain(), "ann@shop.example", PASSWORD).await.status(), StatusCode::OK);
    }

    let hashed = app.state.hasher.runs();
    let emails = ["ann@shop.example", "bob@shop.example", "nobody@shop.example", "carol@shop.example"];
    let guesses: Vec<_> = (0..100).map(|i| (emails[i % emails.len()], format!("wrong guess {i}"))).collect();
    let statuses = login_flood(&app, &guesses).await;
    assert_eq!(tally(&statuses, StatusCode::UNAUTHORIZED), 6, "{statuses:?}");
    assert_eq!(tally(&statuses, StatusCode::TOO_MANY_REQUESTS), 94, "{statuses:?}");
    assert_eq!(app.state.hasher.runs() - hashed, 6, "only the admitted guesses were hashed");
    assert_eq!(app.post_login(&app.plain(), "bob@shop.example", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Security finding 12: after setup, `POST /api/v1/setup` used to hash the password before
/// finding out it had nothing to do, an anonymous CPU burn.
#[actix_web::test]
async fn setup_refuses_without_hashing_once_done_and_wrong_tokens_are_limited() {
    let app = spawn_app_with(|c| c.login_rate_ip = frontdesk::config::Rate::parse("3/5m").unwrap()).await;
    let link = app.setup_link.clone().expect("setup link");
    let token = link.split("#token=").nth(1).unwrap().to_string();
    let body = |t: &str| json!({"token": t, "email": "owner@shop.example", "name": "Owner", "password": PASSWORD});
    let c = app.plain();
    let send_all = |t: &str, n: usize| {
        let sends: Vec<_> = (0..n).map(|_| c.post(app.url("/api/v1/setup")).json(&body(t)).send()).collect();
        async move { futures_util::future::join_all(sends).await.into_iter().map(|r| r.unwrap().status()).collect::<Vec<_>>() }
    };
    // Before setup: wrong tokens are refused without hashing, and limited per IP.
    let hashed = app.state.hasher.runs();
    let statuses = send_all("wrong-token", 30).await;
    assert_eq!(tally(&statuses, StatusCode::FORBIDDEN), 3, "{statuses:?}");
    assert_eq!(tally(&statuses, StatusCode::TOO_MANY_REQUESTS), 27, "{statuses:?}");
    assert_eq!(app.state.hasher.runs(), hashed, "a wrong token costs no hash");

    app.clock.advance(5 * 60 * 1000 + 1);
    assert_eq!(send_all(&token, 1).await, [StatusCode::CREATED]);
    // Once an admin exists: 409 at once, whatever the token, and no hash at all.
    let hashed = app.state.hasher.runs();
    let statuses = send_all(&token, 30).await;
    assert_eq!(tally(&statuses, StatusCode::CONFLICT), 30, "{statuses:?}");
    let statuses = send_all("wrong-token", 5).await;
    assert_eq!(tally(&statuses, StatusCode::CONFLICT), 5, "{statuses:?}");
    assert_eq!(app.state.hasher.runs(), hashed, "no hash after setup");
}
