//! Visitor engagement (issue 12, part 1): the live visitors list pushed over the agent socket,
//! manual invitations that start the chat with the inviting agent, automatic rules with the
//! per-visitor cap and the free-slot condition, and malformed input.

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use frontdesk::routing::AgentStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws::{self, Ws};

/// An agent with this chat limit, accepting, with a socket watching the visitors list (after
/// its `visitors` snapshot).
async fn watching_agent(app: &TestApp, email: &str, limit: i64) -> (i64, Ws, Value) {
    let id = app.add_agent(email, Role::Agent).await;
    let now = app.clock.now_ms();
    let patch = frontdesk::agents::AgentPatch { chat_limit: Some(limit), ..Default::default() };
    app.db.write(move |c| frontdesk::agents::update(c, id, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
    app.set_status(id, AgentStatus::Accepting).await;
    let cookie = app.cookie_header(&app.session_for(id).await);
    let (mut ws, _) = ws::agent(&app.address, &cookie).await;
    ws.send(json!({"type": "visitors", "watch": true})).await;
    let snapshot = ws.recv_type("visitors").await;
    (id, ws, snapshot)
}

/// A visitor on `url` (with a search engine referrer).
async fn visitor_on(app: &TestApp, url: &str) -> (Ws, i64, String) {
    let mut v = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    v.send(json!({"type": "hello", "v": 1, "page": {"url": url, "title": "Pricing", "referrer": "https://www.google.com/search?q=helpdesk+price"}, "tz": "Europe/Kyiv"}))
        .await;
    let w = v.recv_type("welcome").await;
    (v, w["visitor"]["id"].as_i64().unwrap(), w["token"].as_str().unwrap().to_string())
}

/// The next `visitor` frame about `id` matching `want`.
async fn update_of(ws: &mut Ws, id: i64, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Deadline::secs(10, format!("a visitor frame for {id}"));
    loop {
        deadline.check();
        let f = ws.recv_type("visitor").await;
        if f["op"] == "update" && f["visitor"]["id"] == id && want(&f["visitor"]) {
            return f["visitor"].clone();
        }
    }
}

/// An admin API token's client: no person, so no accepting agent routing could pick.
async fn admin(app: &TestApp) -> reqwest::Client {
    let token = app.api_token(frontdesk::auth::Scope::Admin).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

async fn invitations(app: &TestApp) -> Vec<(i64, String, Option<i64>)> {
    app.db
        .read(|c| {
            let mut st = c.prepare("SELECT visitor_id, status, rule_id FROM invitations ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn the_live_list_shows_pages_referrer_and_chats_and_follows_the_visitor() {
    let app = spawn_app().await;
    let (ann, mut agent, snapshot) = watching_agent(&app, "ann@shop.example", 2).await;
    assert_eq!(snapshot["items"], json!([]), "nobody on the site yet");

    let (mut v, vid, _) = visitor_on(&app, "https://shop.example/pricing").await;
    let seen = update_of(&mut agent, vid, |_| true).await;
    assert_eq!(seen["page_url"], "https://shop.example/pricing");
    assert_eq!(seen["page_title"], "Pricing");
    assert_eq!(seen["referrer"], "https://www.google.com/search?q=helpdesk+price");
    assert_eq!(seen["search_query"], "helpdesk price");
    assert_eq!((seen["country"].as_str(), seen["state"].as_str(), seen["pages"].as_i64()), (Some("UA"), Some("browsing"), Some(1)));

    // The REST list (SPEC §1) says the same.
    let client = app.login("ann@shop.example").await;
    let list: Value = client.get(app.url("/api/v1/visitors?online=true")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"][0]["id"], vid);
    assert_eq!(list["items"][0]["page_url"], "https://shop.example/pricing");
    assert!(list["items"][0]["since"].is_i64() && list["items"][0]["referrer"].is_string(), "{list}");
    assert_eq!(list["counts"], json!({"total": 1, "browsing": 1, "invited": 0, "chatting": 0}));

    // Another page: the list follows.
    app.clock.advance(5_000);
    v.send(json!({"type": "page", "url": "https://shop.example/checkout", "title": "Checkout"})).await;
    let moved = update_of(&mut agent, vid, |x| x["page_url"] == "https://shop.example/checkout").await;
    assert_eq!((moved["pages"].as_i64(), moved["page_title"].as_str()), (Some(2), Some("Checkout")));
    assert!(moved["page_since"].as_i64() > seen["page_since"].as_i64(), "time on page restarts");

    // A chat: chatting, with whom.
    v.send(json!({"type": "message", "client_id": "m1", "body": "hello"})).await;
    v.recv_type("ack").await;
    let chatting = update_of(&mut agent, vid, |x| x["state"] == "chatting" && x["agent_id"] == ann).await;
    assert_eq!(chatting["agent_name"], "ann");
    let only: Value = client.get(app.url("/api/v1/visitors?online=true&state=browsing")).send().await.unwrap().json().await.unwrap();
    assert_eq!(only["items"], json!([]), "filtered out");
    assert_eq!(only["counts"]["chatting"], 1);

    // Gone: the socket closes, and after the grace time the consoles drop the visitor.
    drop(v);
    let deadline = Deadline::secs(15, "the visitor to be reported gone");
    loop {
        deadline.check();
        let f = agent.recv_type("visitor").await;
        if f["op"] == "gone" {
            assert_eq!(f["id"], vid);
            break;
        }
    }
    let list: Value = client.get(app.url("/api/v1/visitors?online=true")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["counts"]["total"], 0);
}

#[actix_web::test]
async fn an_agent_invites_a_visitor_and_their_answer_starts_the_chat_with_that_agent() {
    let app = spawn_app().await;
    // Ann would get a new chat by routing (more free slots); Bob invites.
    let (ann, _wa, _) = watching_agent(&app, "ann@shop.example", 3).await;
    let (bob, mut wb, _) = watching_agent(&app, "bob@shop.example", 1).await;
    let (mut v, vid, token) = visitor_on(&app, "https://shop.example/boots").await;
    update_of(&mut wb, vid, |_| true).await;

    wb.send(json!({"type": "invite", "visitor": vid, "body": "Hi! Need help choosing a size?"})).await;
    let inv = v.recv_type("invitation").await;
    assert_eq!((inv["agent_name"].as_str(), inv["body"].as_str()), (Some("bob"), Some("Hi! Need help choosing a size?")));
    let invited = update_of(&mut wb, vid, |x| x["state"] == "invited").await;
    assert_eq!(invited["invitation"]["agent_name"], "bob");
    assert_eq!(invited["invitation"]["automatic"], false);

    // The invitation follows the visitor to the next page (a new socket, as after a click).
    let (mut next_page, _) = ws::visitor(&app.address, Some(&token), None).await;
    assert_eq!(next_page.recv_type("invitation").await["id"], inv["id"]);

    v.send(json!({"type": "message", "client_id": "a1", "body": "Yes, 43 or 44?", "invitation": inv["id"]})).await;
    let ack = v.recv_type("ack").await;
    let conv = ack["conversation"].as_i64().unwrap();
    let assigned = wb.recv_type("assigned").await;
    assert_eq!(assigned["conversation"]["id"], conv);
    let status = v.recv_type("status").await;
    assert_eq!((status["status"].as_str(), status["agent_name"].as_str()), (Some("active"), Some("bob")));
    let (agent_id, outcome_reply): (Option<i64>, Option<i64>) = app
        .db
        .read(move |c| {
            Ok(c.query_row("SELECT agent_id, first_agent_reply_at FROM conversations WHERE id = ?1", [conv], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
        })
        .await
        .unwrap();
    assert_eq!(agent_id, Some(bob), "the inviting agent has the chat, not routing's pick ({ann})");
    assert_eq!(outcome_reply, None, "the invitation text is no reply to the visitor");
    // Bob's transcript: joined, the invitation's text, the visitor's answer.
    let mut bodies = Vec::new();
    let deadline = Deadline::secs(10, "the transcript on Bob's socket");
    while bodies.len() < 3 {
        deadline.check();
        let f = wb.recv_type("message").await;
        if f["conversation"] == conv {
            bodies.push((f["author"]["kind"].as_str().unwrap().to_string(), f["body"].as_str().unwrap().to_string()));
        }
    }
    assert_eq!(bodies[1], ("agent".to_string(), "Hi! Need help choosing a size?".to_string()));
    assert_eq!(bodies[2], ("visitor".to_string(), "Yes, 43 or 44?".to_string()));
    assert_eq!(invitations(&app).await, vec![(vid, "accepted".to_string(), None)]);

    // Inviting someone who is chatting, or not on the site, is refused.
    wb.send(json!({"type": "invite", "visitor": vid, "body": "again"})).await;
    assert_eq!(wb.recv_type("error").await["code"], "conflict");
    wb.send(json!({"type": "invite", "visitor": 999_999, "body": "hello"})).await;
    assert_eq!(wb.recv_type("error").await["code"], "not_found");
    assert_eq!(invitations(&app).await.len(), 1, "refusals store nothing");
}

#[actix_web::test]
async fn a_visitor_closes_an_invitation_and_the_outcome_is_stored() {
    let app = spawn_app().await;
    let (_ann, mut wa, _) = watching_agent(&app, "ann@shop.example", 1).await;
    let (mut v, vid, _) = visitor_on(&app, "https://shop.example/").await;
    wa.send(json!({"type": "invite", "visitor": vid, "body": "Hello there"})).await;
    let inv = v.recv_type("invitation").await;
    update_of(&mut wa, vid, |x| x["state"] == "invited").await;
    v.send(json!({"type": "invitation_close", "invitation": inv["id"]})).await;
    update_of(&mut wa, vid, |x| x["state"] == "browsing" && x["invitation"].is_null()).await;
    assert_eq!(invitations(&app).await, vec![(vid, "closed".to_string(), None)]);
    // Closing again, or someone else's: refused, nothing changes.
    v.send(json!({"type": "invitation_close", "invitation": inv["id"]})).await;
    assert_eq!(v.recv_type("error").await["code"], "conflict");
    v.send(json!({"type": "invitation_close", "invitation": 424242})).await;
    assert_eq!(v.recv_type("error").await["code"], "not_found");
    // An answer naming a closed invitation starts an ordinary chat (routing).
    v.send(json!({"type": "message", "client_id": "m1", "body": "hi", "invitation": inv["id"]})).await;
    v.recv_type("ack").await;
    assert_eq!(invitations(&app).await, vec![(vid, "closed".to_string(), None)]);

    // Not answered within the time limit: ignored (reports).
    let (mut v2, vid2, _) = visitor_on(&app, "https://shop.example/").await;
    wa.send(json!({"type": "invite", "visitor": vid2, "body": "Hello"})).await;
    v2.recv_type("invitation").await;
    app.clock.advance(frontdesk::visitors::INVITATION_TTL_MS + 1);
    frontdesk::visitors::live::auto_round(&app.state).await;
    assert_eq!(invitations(&app).await[1], (vid2, "ignored".to_string(), None));
    let admin = admin(&app).await;
    let now = app.clock.now_ms();
    let stats: Value =
        admin.get(app.url(&format!("/api/v1/invitation-stats?from=0&to={}", now + 1))).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats, json!({"sent": 2, "accepted": 0, "ignored": 1, "closed": 1}));
}

/// Done-when (2): a rule (10 s on a pricing page) invites once, respects the per-visitor cap,
/// and does not fire while no agent has a free slot.
#[actix_web::test]
async fn an_automatic_rule_invites_once_respects_the_cap_and_needs_a_free_slot() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let r = admin
        .post(app.url("/api/v1/invitation-rules"))
        .json(&json!({"name": "Pricing", "url_pattern": "/pricing", "min_seconds_on_page": 10, "body": "Questions about our plans?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let rule: Value = r.json().await.unwrap();
    let (ann, mut wa, _) = watching_agent(&app, "ann@shop.example", 1).await;

    let (mut v, vid, _) = visitor_on(&app, "https://shop.example/pricing").await;
    let round = || frontdesk::visitors::live::auto_round(&app.state);
    app.clock.advance(9_000);
    round().await;
    assert!(invitations(&app).await.is_empty(), "9 s on the page: not yet");
    // Closed: nobody accepting chats, so no invitation however long they stay.
    app.set_status(ann, AgentStatus::NotAccepting).await;
    app.clock.advance(1_000);
    round().await;
    assert!(invitations(&app).await.is_empty(), "the department is closed");
    app.set_status(ann, AgentStatus::Accepting).await;
    round().await;
    let inv = v.recv_type("invitation").await;
    assert_eq!((inv["agent_name"].as_str(), inv["body"].as_str()), (Some("ann"), Some("Questions about our plans?")));
    let invited = update_of(&mut wa, vid, |x| x["state"] == "invited").await;
    assert_eq!(invited["invitation"]["automatic"], true);
    assert_eq!(invitations(&app).await, vec![(vid, "sent".to_string(), rule["id"].as_i64())]);

    // Once: more rounds, the visitor closes it, goes elsewhere and comes back to pricing.
    app.clock.advance(30_000);
    round().await;
    v.send(json!({"type": "invitation_close", "invitation": inv["id"]})).await;
    update_of(&mut wa, vid, |x| x["state"] == "browsing").await;
    v.send(json!({"type": "page", "url": "https://shop.example/", "title": "Home"})).await;
    v.send(json!({"type": "page", "url": "https://shop.example/pricing", "title": "Pricing"})).await;
    update_of(&mut wa, vid, |x| x["page_url"] == "https://shop.example/pricing").await;
    app.clock.advance(60_000);
    round().await;
    assert_eq!(invitations(&app).await.len(), 1, "the rule fires once per visit");

    // The cap: a second rule may fire, but one automatic invitation a day is the default cap.
    let r =
        admin.post(app.url("/api/v1/invitation-rules")).json(&json!({"name": "Anywhere", "body": "Can we help?"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    app.clock.advance(1_000);
    round().await;
    assert_eq!(invitations(&app).await.len(), 1, "capped at one automatic invitation per visitor");
    let put = admin.put(app.url("/api/v1/settings/visitors")).json(&json!({"invite_cap": 2, "link_templates": []})).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    round().await;
    let second = v.recv_type("invitation").await;
    assert_eq!(second["body"], "Can we help?");
    assert_eq!(invitations(&app).await.len(), 2, "a cap of two allows the second rule");

    // No free slot: Ann's only slot is taken by another visitor's chat.
    let (mut busy, _, _) = visitor_on(&app, "https://shop.example/").await;
    busy.send(json!({"type": "message", "client_id": "b1", "body": "I need help"})).await;
    busy.recv_type("ack").await;
    assert!(wa.recv_type("assigned").await["conversation"]["visitor"]["id"].as_i64().is_some());
    let (_v3, vid3, _) = visitor_on(&app, "https://shop.example/pricing").await;
    app.clock.advance(20_000);
    round().await;
    assert!(invitations(&app).await.iter().all(|i| i.0 != vid3), "no invitation while nobody has a free slot");
    // A slot frees: now it fires.
    let conv: i64 =
        app.db.read(move |c| Ok(c.query_row("SELECT id FROM conversations WHERE agent_id = ?1", [ann], |r| r.get(0))?)).await.unwrap();
    wa.send(json!({"type": "end", "conversation": conv})).await;
    let deadline = Deadline::secs(10, "the rule to fire once a slot is free");
    loop {
        deadline.check();
        round().await;
        if invitations(&app).await.iter().any(|i| i.0 == vid3) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn malformed_visitor_and_invitation_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let agent = {
        app.add_agent("ann@shop.example", Role::Agent).await;
        app.login("ann@shop.example").await
    };
    for q in ["", "?online=false", "?online=true&state=asleep", "?online=true&extra=1"] {
        let r = agent.get(app.url(&format!("/api/v1/visitors{q}"))).send().await.unwrap();
        assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "invalid_input".to_string()), "{q}");
    }
    let bad_rules = [
        json!({"body": "x"}),
        json!({"name": "n"}),
        json!({"name": "n", "body": " "}),
        json!({"name": "n", "body": "x".repeat(1001)}),
        json!({"name": "n", "body": "b", "min_seconds_on_page": -1}),
        json!({"name": "n", "body": "b", "min_visits": 100000}),
        json!({"name": "n", "body": "b", "department_id": 999}),
        json!({"name": "n", "body": "b", "colour": "red"}),
        json!({"name": "n", "body": "b", "url_pattern": "x".repeat(501)}),
        json!({"name": 5, "body": "b"}),
    ];
    for b in &bad_rules {
        let r = admin.post(app.url("/api/v1/invitation-rules")).json(b).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{b}");
        error_code(r).await;
    }
    assert_eq!(app.count("invitation_rules").await, 0);
    let r = admin.patch(app.url("/api/v1/invitation-rules/77")).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::NOT_FOUND);
    let r = admin.delete(app.url("/api/v1/invitation-rules/77")).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::NOT_FOUND);
    let rule: Value = admin
        .post(app.url("/api/v1/invitation-rules"))
        .json(&json!({"name": "ok", "body": "Hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let before = app.dump("invitation_rules").await;
    let r = admin.patch(app.url(&format!("/api/v1/invitation-rules/{}", rule["id"]))).json(&json!({"body": ""})).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.dump("invitation_rules").await, before);

    let settings_before = app.dump("settings").await;
    for b in [
        json!({"invite_cap": -1, "link_templates": []}),
        json!({"invite_cap": 1}),
        json!({"invite_cap": 1, "link_templates": [{"name": "CRM", "url": "javascript:alert(1)"}]}),
        json!({"invite_cap": 1, "link_templates": [{"name": "CRM", "url": "https://crm.example/?q={secret}"}]}),
        json!({"invite_cap": 1, "link_templates": [{"name": "", "url": "https://crm.example/"}]}),
        json!({"invite_cap": 1, "link_templates": [], "more": true}),
    ] {
        let r = admin.put(app.url("/api/v1/settings/visitors")).json(&b).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{b}");
        error_code(r).await;
    }
    assert_eq!(app.dump("settings").await, settings_before);
    for q in ["", "?from=5&to=5", "?from=x&to=1"] {
        let r = admin.get(app.url(&format!("/api/v1/invitation-stats{q}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
    }
    for b in [json!({}), json!({"body": " "}), json!({"body": "x".repeat(5001)}), json!({"body": "n", "pinned": true})] {
        let r = agent.post(app.url("/api/v1/contacts/1/notes")).json(&b).send().await.unwrap();
        assert!(r.status() == StatusCode::BAD_REQUEST || r.status() == StatusCode::NOT_FOUND, "{b}");
    }
    assert_eq!(app.count("contact_notes").await, 0);

    // Frames: bad invites and watch frames get error frames; nothing is stored.
    let id = app.db.read(|c| Ok(c.query_row("SELECT id FROM agents WHERE email = 'ann@shop.example'", [], |r| r.get(0))?)).await.unwrap();
    let cookie = app.cookie_header(&app.session_for(id).await);
    let (mut ws, _) = ws::agent(&app.address, &cookie).await;
    let (_v, vid, _) = visitor_on(&app, "https://shop.example/").await;
    for (f, code) in [
        (json!({"type": "invite", "visitor": vid, "body": ""}), "invalid_frame"),
        (json!({"type": "invite", "visitor": vid, "body": "x".repeat(1001)}), "too_large"),
        (json!({"type": "invite", "body": "hi"}), "invalid_frame"),
        (json!({"type": "invite", "visitor": vid, "body": "hi", "from": 1}), "unknown_field"),
        (json!({"type": "visitors"}), "invalid_frame"),
        (json!({"type": "visitors", "watch": "yes"}), "invalid_frame"),
    ] {
        ws.send(f.clone()).await;
        assert_eq!(ws.recv_type("error").await["code"], code, "{f}");
    }
    assert_eq!(app.count("invitations").await, 0);
}

#[actix_web::test]
async fn the_visitor_panel_shows_the_contact_notes_and_filled_link_templates() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let put = admin
        .put(app.url("/api/v1/settings/visitors"))
        .json(&json!({"invite_cap": 1, "link_templates": [
            {"name": "Orders", "url": "https://shop.example/admin/orders?email={email}"},
            {"name": "Call", "url": "https://crm.example/call?phone={phone}"}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let (ann, mut wa, _) = watching_agent(&app, "ann@shop.example", 1).await;
    let (mut v, vid, _) = visitor_on(&app, "https://shop.example/").await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "hi"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    wa.recv_type("assigned").await;
    // The visitor is known as a contact (as after the offline form or a ticket from the chat).
    let now = app.clock.now_ms();
    let contact = app
        .db
        .write(move |c| {
            let id = frontdesk::contacts::store::upsert(c, Some("jo+shop@x.example"), Some("Jo Ann"), now)?;
            c.execute("UPDATE visitors SET contact_id = ?1, email = 'jo+shop@x.example' WHERE id = ?2", [id, vid])?;
            Ok(id)
        })
        .await
        .unwrap();
    let client = app.login("ann@shop.example").await;
    let r = client
        .post(app.url(&format!("/api/v1/contacts/{contact}/notes")))
        .json(&json!({"body": "VIP, prefers email"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let panel: Value = client.get(app.url(&format!("/api/v1/conversations/{conv}"))).send().await.unwrap().json().await.unwrap();
    let p = &panel["visitor"];
    assert_eq!(p["contact"]["id"], contact);
    assert_eq!(p["contact"]["notes"][0]["body"], "VIP, prefers email");
    assert_eq!(p["contact"]["notes"][0]["agent_id"], ann);
    assert_eq!(p["contact"]["conversations"][0]["id"], conv);
    assert_eq!(
        p["links"],
        json!([{"name": "Orders", "url": "https://shop.example/admin/orders?email=jo%2Bshop%40x.example"}]),
        "encoded; the phone link is left out without a phone"
    );
    // A colleague who may not see the chat may not add notes to the contact either.
    app.state.chat_settings.agents_see_colleagues.store(false, std::sync::atomic::Ordering::Relaxed);
    app.add_agent("bob@shop.example", Role::Agent).await;
    let bob = app.login("bob@shop.example").await;
    let r = bob.post(app.url(&format!("/api/v1/contacts/{contact}/notes"))).json(&json!({"body": "sneaky"})).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.count("contact_notes").await, 1);
}
