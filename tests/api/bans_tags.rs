//! Chat tags (SPEC C9) and visitor bans (SPEC C11, W10, §1): bans by token and by address
//! range refuse the socket (1008) and the offline form until lifted or expired on the app
//! clock; tags are set from the chat view, filter the archive, mark "non-target" chats for
//! reports, and the admin's required-tag rule refuses ending an untagged chat.

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws::{self, Ended, Ws};

async fn staff(app: &TestApp, email: &str, role: Role) -> (i64, String) {
    let id = app.add_agent(email, role).await;
    app.set_status(id, frontdesk::routing::AgentStatus::Accepting).await;
    (id, app.cookie_header(&app.session_for(id).await))
}

async fn call(app: &TestApp, cookie: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut rb = app
        .plain()
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
        .header("origin", &app.address)
        .header("cookie", cookie);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// A hello with `token` that the server refuses: the error code and the close code.
async fn refused_hello(app: &TestApp, token: Option<&str>) -> (String, Ended) {
    let mut s = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.expect("visitor socket");
    let mut hello = json!({"type": "hello", "v": 1, "page": {"url": "https://shop.example/"}});
    if let Some(t) = token {
        hello["token"] = t.into();
    }
    s.send(hello).await;
    let first = s.next().await.expect("an error frame before the close");
    assert_eq!(first["type"], "error", "{first}");
    (first["code"].as_str().unwrap().to_string(), s.ended().await)
}

async fn offline_form(app: &TestApp, token: &str) -> StatusCode {
    app.plain()
        .post(app.url("/api/v1/widget/offline"))
        .header("origin", &app.address)
        .header("x-visitor-token", token)
        .json(&json!({"message": "Please call me back", "email": "v@customer.test"}))
        .send()
        .await
        .unwrap()
        .status()
}

/// A visitor with an active chat accepted by the agent behind `agent`.
async fn chat_with(app: &TestApp, agent: &mut Ws) -> (Ws, String, i64, i64) {
    let (mut v, welcome) = ws::visitor(&app.address, None, None).await;
    let token = welcome["token"].as_str().unwrap().to_string();
    let visitor = welcome["visitor"]["id"].as_i64().unwrap();
    v.send(json!({"type": "message", "client_id": "m1", "body": "Hello"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    agent.send(json!({"type": "accept", "conversation": conv})).await;
    agent.recv_type("accepted").await;
    (v, token, visitor, conv)
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.db
        .read(|c| {
            let mut st = c.prepare("SELECT action || ' ' || coalesce(target, '') FROM audit_log WHERE action LIKE 'ban.%' ORDER BY id")?;
            Ok(st.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_token_ban_closes_the_widget_refuses_it_and_the_offline_form_until_lifted() {
    let app = spawn_manual_app().await;
    let (_, ann) = staff(&app, "ann@shop.example", Role::Agent).await;
    let (_, sup) = staff(&app, "sue@shop.example", Role::Supervisor).await;
    let (mut agent, _) = ws::agent(&app.address, &ann).await;
    let (mut v, token, visitor, conv) = chat_with(&app, &mut agent).await;
    let (mut bystander, other) = ws::visitor(&app.address, None, None).await;

    // The chat's agent bans the visitor from the chat view (by the chat, with a reason).
    let (s, ban) = call(&app, &ann, "POST", "/api/v1/bans", Some(json!({"conversation_id": conv, "reason": "abusive language"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{ban}");
    assert_eq!((ban["visitor_id"].as_i64(), ban["ip"].as_str(), ban["active"].as_bool()), (Some(visitor), None, Some(true)));
    assert_eq!((ban["reason"].as_str(), ban["created_by_name"].as_str()), (Some("abusive language"), Some("ann")));
    // The open widget gets `banned` and is closed with 1008.
    assert_eq!(v.recv_type("error").await["code"], "banned");
    assert_eq!(v.ended().await, Ended::Closed(1008));
    // Reloading with the same token: refused at hello, with 1008.
    assert_eq!(refused_hello(&app, Some(&token)).await, ("banned".into(), Ended::Closed(1008)));
    assert_eq!(offline_form(&app, &token).await, StatusCode::FORBIDDEN);
    // Another visitor (another token, same address) is not affected by a token ban.
    bystander.send(json!({"type": "ping"})).await;
    assert_eq!(bystander.recv_type("pong").await["type"], "pong");
    assert_eq!(offline_form(&app, other["token"].as_str().unwrap()).await, StatusCode::CREATED);

    // The ban list (supervisors): who banned whom, why, until when.
    let (s, list) = call(&app, &sup, "GET", "/api/v1/bans", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["conversation_id"], conv);
    assert!(list["items"][0]["expires_at"].is_null());

    // Unban restores the widget and the form.
    let id = ban["id"].as_i64().unwrap();
    let (s, _) = call(&app, &sup, "DELETE", &format!("/api/v1/bans/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, welcome) = ws::visitor(&app.address, Some(&token), None).await;
    assert_eq!(welcome["visitor"]["id"], visitor);
    assert_eq!(offline_form(&app, &token).await, StatusCode::CREATED);
    assert_eq!(audit_actions(&app).await, [format!("ban.create ban:{id}"), format!("ban.delete ban:{id}")]);
    let (s, again) = call(&app, &sup, "DELETE", &format!("/api/v1/bans/{id}"), None).await;
    assert_eq!((s, again["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

#[actix_web::test]
async fn an_address_range_ban_covers_every_visitor_from_it() {
    let app = spawn_manual_app().await;
    let (_, sup) = staff(&app, "sue@shop.example", Role::Supervisor).await;
    let (mut open, welcome) = ws::visitor(&app.address, None, None).await;
    let token = welcome["token"].as_str().unwrap().to_string();

    // A range elsewhere (IPv4 and IPv6) changes nothing for us on 127.0.0.1.
    for range in ["203.0.113.0/24", "2001:db8::/32", "::1"] {
        let (s, b) = call(&app, &sup, "POST", "/api/v1/bans", Some(json!({"ip": range}))).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (mut fresh, _) = ws::visitor(&app.address, None, None).await;
    fresh.send(json!({"type": "ping"})).await;
    fresh.recv_type("pong").await;

    // The test server sees us as 127.0.0.1: a range holding it refuses every visitor from it.
    let (s, ban) = call(&app, &sup, "POST", "/api/v1/bans", Some(json!({"ip": "127.0.0.77/8", "reason": "bot farm"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{ban}");
    assert_eq!((ban["ip"].as_str(), ban["visitor_id"].as_i64()), (Some("127.0.0.0/8"), None), "stored normalized");
    for s in [&mut open, &mut fresh] {
        assert_eq!(s.recv_type("error").await["code"], "banned");
        assert_eq!(s.ended().await, Ended::Closed(1008));
    }
    assert_eq!(refused_hello(&app, Some(&token)).await, ("banned".into(), Ended::Closed(1008)));
    assert_eq!(refused_hello(&app, None).await, ("banned".into(), Ended::Closed(1008)), "a new visitor too");
    assert_eq!(offline_form(&app, &token).await, StatusCode::FORBIDDEN);

    let (s, _) = call(&app, &sup, "DELETE", &format!("/api/v1/bans/{}", ban["id"]), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, back) = ws::visitor(&app.address, Some(&token), None).await;
    assert_eq!(back["token"], token.as_str());
    assert_eq!(offline_form(&app, &token).await, StatusCode::CREATED);
}

#[actix_web::test]
async fn bans_expire_at_their_time_on_the_app_clock() {
    let app = spawn_manual_app().await;
    let (_, sup) = staff(&app, "sue@shop.example", Role::Supervisor).await;
    let (v, welcome) = ws::visitor(&app.address, None, None).await;
    drop(v);
    let (token, visitor) = (welcome["token"].as_str().unwrap().to_string(), welcome["visitor"]["id"].as_i64().unwrap());
    let until = app.clock.now_ms() + 3_600_000;
    let (s, by_token) = call(&app, &sup, "POST", "/api/v1/bans", Some(json!({"visitor_id": visitor, "expires_at": until}))).await;
    assert_eq!(s, StatusCode::CREATED, "{by_token}");
    let (s, by_ip) = call(&app, &sup, "POST", "/api/v1/bans", Some(json!({"ip": "127.0.0.1", "expires_at": until + 60_000}))).await;
    assert_eq!(s, StatusCode::CREATED, "{by_ip}");

    app.clock.advance(3_599_999);
    assert_eq!(refused_hello(&app, Some(&token)).await.0, "banned", "a millisecond before the token ban ends");
    app.clock.advance(1);
    // The token ban is over; the address ban (one minute longer) still holds.
    assert_eq!(refused_hello(&app, Some(&token)).await.0, "banned");
    let (_, list) = call(&app, &sup, "GET", "/api/v1/bans", None).await;
    assert_eq!(list["items"].as_array().unwrap().iter().map(|b| b["id"].clone()).collect::<Vec<_>>(), [by_ip["id"].clone()]);
    let (_, all) = call(&app, &sup, "GET", "/api/v1/bans?expired=true", None).await;
    let actives: Vec<(i64, bool)> =
        all["items"].as_array().unwrap().iter().map(|b| (b["id"].as_i64().unwrap(), b["active"] == true)).collect();
    assert_eq!(actives, [(by_ip["id"].as_i64().unwrap(), true), (by_token["id"].as_i64().unwrap(), false)]);
    assert_eq!(offline_form(&app, &token).await, StatusCode::FORBIDDEN);

    app.clock.advance(60_000);
    let (_, welcome) = ws::visitor(&app.address, Some(&token), None).await;
    assert_eq!(welcome["visitor"]["id"], visitor, "both bans over: the widget is back");
    assert_eq!(offline_form(&app, &token).await, StatusCode::CREATED);
}

#[actix_web::test]
async fn agents_ban_only_visitors_they_may_see_and_never_a_range() {
    let app = spawn_manual_app().await;
    let (_, ann) = staff(&app, "ann@shop.example", Role::Agent).await;
    let (_, bob) = staff(&app, "bob@shop.example", Role::Agent).await;
    let (_, admin) = staff(&app, "root@shop.example", Role::Admin).await;
    let (s, _) = call(&app, &admin, "PATCH", "/api/v1/settings/chat", Some(json!({"agents_see_colleagues": false}))).await;
    assert_eq!(s, StatusCode::OK);
    let (mut agent, _) = ws::agent(&app.address, &ann).await;
    let (_v, _, visitor, conv) = chat_with(&app, &mut agent).await;
    let before = app.dump("bans").await;
    let cases = [
        (&bob, json!({"visitor_id": visitor}), StatusCode::NOT_FOUND, "not_found"),
        (&bob, json!({"conversation_id": conv}), StatusCode::NOT_FOUND, "not_found"),
        (&ann, json!({"ip": "127.0.0.1"}), StatusCode::FORBIDDEN, "forbidden"),
        (&ann, json!({"visitor_id": visitor, "ip": "127.0.0.0/24"}), StatusCode::FORBIDDEN, "forbidden"),
        (&ann, json!({"visitor_id": visitor, "ip": "127.0.0.2"}), StatusCode::FORBIDDEN, "forbidden"),
    ];
    for (who, body, status, code) in cases {
        let (s, e) = call(&app, who, "POST", "/api/v1/bans", Some(body.clone())).await;
        assert_eq!((s, e["error"]["code"].as_str()), (status, Some(code)), "{body} → {e}");
    }
    assert_eq!(app.dump("bans").await, before, "refusals change nothing");
    // Her own visitor, by token and by the visitor's own address: allowed.
    let (s, b) = call(&app, &ann, "POST", "/api/v1/bans", Some(json!({"visitor_id": visitor, "ip": "127.0.0.1"}))).await;
    assert_eq!((s, b["ip"].as_str()), (StatusCode::CREATED, Some("127.0.0.1/32")), "{b}");
}

#[actix_web::test]
async fn malformed_bans_are_refused_and_change_nothing() {
    let app = spawn_manual_app().await;
    let (_, sup) = staff(&app, "sue@shop.example", Role::Supervisor).await;
    let now = app.clock.now_ms();
    let before = (app.dump("bans").await, app.dump("audit_log").await);
    let cases = [
        (json!({}), "invalid_input"),
        (json!({"ip": "not an address"}), "invalid_input"),
        (json!({"ip": "10.0.0.0/33"}), "invalid_input"),
        (json!({"ip": "0.0.0.0/0"}), "invalid_input"),
        (json!({"ip": "::/0"}), "invalid_input"),
        (json!({"ip": "10.0.0.1", "expires_at": now}), "invalid_input"),
        (json!({"ip": "10.0.0.1", "expires_at": "tomorrow"}), "invalid_input"),
        (json!({"ip": "10.0.0.1", "until": now + 1}), "unknown_field"),
        (json!({"ip": 10}), "invalid_input"),
        (json!({"visitor_id": 999999}), "not_found"),
        (json!({"conversation_id": 999999}), "not_found"),
    ];
    for (body, code) in cases {
        let (s, e) = call(&app, &sup, "POST", "/api/v1/bans", Some(body.clone())).await;
        assert!(s.is_client_error(), "{body}: {s} {e}");
        assert_eq!(e["error"]["code"].as_str(), Some(code), "{body} → {e}");
    }
    let r = app
        .plain()
        .post(app.url("/api/v1/bans"))
        .header("origin", &app.address)
        .header("cookie", &sup)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_json".to_string()));
    for q in ["limit=0", "limit=x", "expired=maybe", "other=1"] {
        let (s, e) = call(&app, &sup, "GET", &format!("/api/v1/bans?{q}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {e}");
    }
    let (s, e) = call(&app, &sup, "DELETE", "/api/v1/bans/abc", None).await;
    assert!(s.is_client_error(), "{e}");
    assert_eq!((app.dump("bans").await, app.dump("audit_log").await), before);
}

#[actix_web::test]
async fn chat_tags_filter_the_archive_and_mark_non_target_chats() {
    let app = spawn_manual_app().await;
    let (_, ann) = staff(&app, "ann@shop.example", Role::Agent).await;
    let (_, bob) = staff(&app, "bob@shop.example", Role::Agent).await;
    let (_, admin) = staff(&app, "root@shop.example", Role::Admin).await;
    let (mut agent, _) = ws::agent(&app.address, &ann).await;
    let (_v1, _, _, tagged) = chat_with(&app, &mut agent).await;
    let (_v2, _, _, plain) = chat_with(&app, &mut agent).await;

    // The vocabulary offers the built-in "non-target" tag before anything carries it.
    let (s, vocab) = call(&app, &ann, "GET", "/api/v1/tags", None).await;
    assert_eq!(s, StatusCode::OK, "{vocab}");
    assert_eq!(vocab["items"][0], json!({"tag": "non-target", "builtin": true, "exclude_from_reports": true, "chats": 0, "tickets": 0}));

    let (s, t) = call(
        &app,
        &ann,
        "PUT",
        &format!("/api/v1/conversations/{tagged}/tags"),
        Some(json!({"tags": ["Refund", " refund", "non-target"]})),
    )
    .await;
    assert_eq!((s, &t), (StatusCode::OK, &json!({"tags": ["non-target", "refund"]})));
    // A ticket tag joins the same vocabulary.
    let (s, tk) = call(&app, &admin, "POST", "/api/v1/tickets", Some(json!({"subject": "Refund", "body": "x", "tags": ["refund"]}))).await;
    assert_eq!(s, StatusCode::CREATED, "{tk}");
    let (_, vocab) = call(&app, &ann, "GET", "/api/v1/tags", None).await;
    let refund = vocab["items"].as_array().unwrap().iter().find(|t| t["tag"] == "refund").cloned().unwrap();
    assert_eq!((refund["chats"].as_i64(), refund["tickets"].as_i64()), (Some(1), Some(1)));
    assert_eq!(app.count("report_excluded_conversations").await, 1, "reports can find non-target chats");

    // Someone else's chat: refused, nothing changes.
    let (s, e) = call(&app, &bob, "PUT", &format!("/api/v1/conversations/{plain}/tags"), Some(json!({"tags": ["x"]}))).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{e}");
    for bad in [
        json!({"tags": [""]}),
        json!({"tags": ["x".repeat(41)]}),
        json!({"tags": "vip"}),
        json!({"tag": ["vip"]}),
        json!({"tags": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}),
    ] {
        let (s, e) = call(&app, &ann, "PUT", &format!("/api/v1/conversations/{plain}/tags"), Some(bad.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {e}");
    }
    let (s, _) = call(&app, &ann, "PUT", "/api/v1/conversations/999999/tags", Some(json!({"tags": ["x"]}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(app.count("conversation_tags").await, 2);

    // End both; the archive filters by tag; the list carries tags.
    for c in [tagged, plain] {
        agent.send(json!({"type": "end", "conversation": c})).await;
    }
    let deadline = Deadline::secs(10, "both chats in the archive");
    loop {
        let (_, all) = call(&app, &ann, "GET", "/api/v1/conversations?status=ended", None).await;
        if all["items"].as_array().unwrap().len() == 2 {
            break;
        }
        deadline.check();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (_, refunds) = call(&app, &ann, "GET", "/api/v1/conversations?status=ended&tag=REFUND", None).await;
    let items = refunds["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>(), [tagged]);
    assert_eq!(items[0]["tags"], json!(["non-target", "refund"]));
    let (_, none) = call(&app, &ann, "GET", "/api/v1/conversations?status=ended&tag=nothing-here", None).await;
    assert_eq!(none["items"], json!([]));
    let (s, _) = call(&app, &ann, "GET", &format!("/api/v1/conversations?status=ended&tag={}", "x".repeat(41)), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Tagging after the end (from the archive) still works for the chat's agent.
    let (s, t) = call(&app, &ann, "PUT", &format!("/api/v1/conversations/{plain}/tags"), Some(json!({"tags": ["late"]}))).await;
    assert_eq!((s, t["tags"].clone()), (StatusCode::OK, json!(["late"])));
}

#[actix_web::test]
async fn the_required_tag_rule_refuses_ending_an_untagged_chat() {
    let app = spawn_manual_app().await;
    let (_, ann) = staff(&app, "ann@shop.example", Role::Agent).await;
    let (_, admin) = staff(&app, "root@shop.example", Role::Admin).await;
    let (s, set) = call(&app, &admin, "PATCH", "/api/v1/settings/chat", Some(json!({"require_tag": true}))).await;
    assert_eq!((s, set["require_tag"].as_bool()), (StatusCode::OK, Some(true)));
    let (s, e) = call(&app, &admin, "PATCH", "/api/v1/settings/chat", Some(json!({"require_tag": "yes"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (mut agent, _) = ws::agent(&app.address, &ann).await;
    let (mut v, _, _, conv) = chat_with(&app, &mut agent).await;

    agent.send(json!({"type": "end", "conversation": conv})).await;
    let e = agent.recv_type("error").await;
    assert_eq!(e["code"], "tag_required", "{e}");
    assert!(e["message"].as_str().unwrap().contains("tag"), "{e}");
    let status: String =
        app.db.read(move |c| Ok(c.query_row("SELECT status FROM conversations WHERE id = ?1", [conv], |r| r.get(0))?)).await.unwrap();
    assert_eq!(status, "active", "the chat goes on");

    let (s, _) = call(&app, &ann, "PUT", &format!("/api/v1/conversations/{conv}/tags"), Some(json!({"tags": ["shipping"]}))).await;
    assert_eq!(s, StatusCode::OK);
    agent.send(json!({"type": "end", "conversation": conv})).await;
    assert_eq!(until_ended(&mut v, conv).await["ended_by"], "agent");

    // The visitor may always leave, tag or not.
    let (mut v2, _, _, conv2) = chat_with(&app, &mut agent).await;
    v2.send(json!({"type": "end"})).await;
    assert_eq!(until_ended(&mut v2, conv2).await["ended_by"], "visitor");
}

/// The visitor's `status ended` frame of `conv`.
async fn until_ended(v: &mut Ws, conv: i64) -> Value {
    let deadline = Deadline::secs(10, "the chat's end");
    loop {
        let f = v.recv_type("status").await;
        if f["status"] == "ended" && f["conversation"] == conv {
            return f;
        }
        deadline.check();
    }
}
