//! Widget settings (SPEC W2, W3, W8, W12): pre-chat forms, ratings with the transcript by
//! mail, appearance per site and language, signed visitor identity.

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use frontdesk::routing::AgentStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::mail_out::{Sink, decoded, header};
use crate::ws::{self, Ws};

async fn call(client: &reqwest::Client, app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut rb = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(path)).header("origin", &app.address);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let s = r.status();
    let t = r.text().await.unwrap();
    (s, if t.is_empty() { Value::Null } else { serde_json::from_str(&t).unwrap_or(Value::String(t)) })
}

/// An accepting agent in these departments, with its socket.
async fn accepting_agent(app: &TestApp, email: &str, departments: Vec<i64>) -> (i64, Ws, String) {
    let id = app.add_agent(email, Role::Agent).await;
    let now = app.clock.now_ms();
    let patch = frontdesk::agents::AgentPatch { chat_limit: Some(3), department_ids: Some(departments), ..Default::default() };
    app.db.write(move |c| frontdesk::agents::update(c, id, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
    app.set_status(id, AgentStatus::Accepting).await;
    let cookie = app.cookie_header(&app.session_for(id).await);
    let (ws, _) = ws::agent(&app.address, &cookie).await;
    (id, ws, cookie)
}

/// An admin who signs in but takes no chats (a login restores "accepting").
async fn quiet_admin(app: &TestApp) -> reqwest::Client {
    let id = app.add_agent("boss@shop.example", Role::Admin).await;
    let admin = app.login("boss@shop.example").await;
    app.set_status(id, AgentStatus::Offline).await;
    admin
}

async fn department(app: &TestApp, admin: &reqwest::Client, name: &str) -> i64 {
    let (s, d) = call(admin, app, "POST", "/api/v1/departments", Some(json!({"name": name}))).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    d["id"].as_i64().unwrap()
}

#[actix_web::test]
async fn the_prechat_form_refuses_a_chat_without_required_answers_and_the_agent_sees_them() {
    let app = spawn_app().await;
    app.add_agent("boss@shop.example", Role::Admin).await;
    let admin = app.login("boss@shop.example").await;
    let sales = department(&app, &admin, "Sales").await;
    let support = department(&app, &admin, "Support").await;
    let form = json!({
        "fields": [
            {"kind": "name", "required": true},
            {"kind": "email", "required": true},
            {"kind": "phone", "required": false},
            {"kind": "order", "required": false},
            {"kind": "custom", "label": "Shoe size", "required": true}
        ],
        "consent": "I agree that Acme keeps this chat."
    });
    // Malformed forms are refused and change nothing.
    let before = app.dump("departments").await;
    for bad in [
        json!({"prechat": {"fields": [{"kind": "custom", "required": true}]}}),
        json!({"prechat": {"fields": [{"kind": "name"}, {"kind": "name"}]}}),
        json!({"prechat": {"fields": [{"kind": "birthday"}]}}),
        json!({"prechat": {"fields": [], "consent": " "}}),
        json!({"prechat": {"fields": [], "extra": 1}}),
        json!({"prechat": "yes"}),
    ] {
        let (s, e) = call(&admin, &app, "PATCH", &format!("/api/v1/departments/{sales}"), Some(bad.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {e}");
        assert!(e["error"]["code"].is_string(), "{e}");
    }
    assert_eq!(app.dump("departments").await, before, "refused forms change nothing");
    let (s, d) = call(&admin, &app, "PATCH", &format!("/api/v1/departments/{sales}"), Some(json!({"prechat": form}))).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["prechat"], form);

    let (_, mut sales_agent, _) = accepting_agent(&app, "sam@shop.example", vec![sales]).await;
    let (_, _support_agent, _) = accepting_agent(&app, "sue@shop.example", vec![support]).await;

    let (mut v, welcome) = ws::visitor(&app.address, None, None).await;
    assert_eq!(welcome["prechat"][sales.to_string()], form, "{welcome}");
    assert!(welcome["prechat"].get(support.to_string()).is_none());
    assert!(welcome.get("known").is_none(), "an anonymous visitor has nothing known");

    // Without answers, or with a required one missing, or without consent: refused, nothing stored.
    let tries = [
        json!(null),
        json!({"name": "Ann", "email": "ann@example.com", "consent": true}),
        json!({"name": "Ann", "custom": {"Shoe size": "38"}, "consent": true}),
        json!({"name": "Ann", "email": "ann@example.com", "custom": {"Shoe size": "38"}}),
        json!({"name": "  ", "email": "ann@example.com", "custom": {"Shoe size": "38"}, "consent": true}),
    ];
    for (i, answers) in tries.iter().enumerate() {
        let mut m = json!({"type": "message", "client_id": format!("p{i}"), "body": "Do you have boots?", "department": sales});
        if !answers.is_null() {
            m["prechat"] = answers.clone();
        }
        v.send(m).await;
        let e = v.recv_type("error").await;
        assert_eq!((e["code"].as_str(), e["ref"].as_str()), (Some("prechat_required"), Some(format!("p{i}").as_str())), "{answers} → {e}");
    }
    v.send(json!({"type": "message", "client_id": "bad-email", "body": "hi", "department": sales,
        "prechat": {"name": "Ann", "email": "not-an-address", "custom": {"Shoe size": "38"}, "consent": true}}))
        .await;
    assert_eq!(v.recv_type("error").await["code"], "invalid_frame");
    v.send(json!({"type": "message", "client_id": "junk", "body": "hi", "department": sales, "prechat": {"nickname": "x"}})).await;
    assert_eq!(v.recv_type("error").await["code"], "unknown_field");
    assert_eq!(app.count("conversations").await, 0, "no chat started without the required answers");
    assert_eq!(app.count("contacts").await, 0);

    // Complete answers: the chat starts in the chosen department and goes to its agent.
    v.send(json!({"type": "message", "client_id": "ok", "body": "Do you have boots?", "department": sales,
        "prechat": {"name": " Ann Lee ", "email": "Ann@Example.com", "phone": "+48 600 000 000", "order": "A-1001",
                    "custom": {"Shoe size": "38", "Not asked": "x"}, "consent": true}}))
        .await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    let assigned = sales_agent.recv_type("assigned").await;
    assert_eq!(assigned["conversation"]["id"], conv, "the Sales agent gets it: {assigned}");
    let (s, view) = call(&admin, &app, "GET", &format!("/api/v1/conversations/{conv}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(view["conversation"]["department_id"], sales);
    assert_eq!(
        view["prechat"],
        json!({"name": "Ann Lee", "email": "Ann@Example.com", "phone": "+48 600 000 000", "order": "A-1001",
               "custom": {"Shoe size": "38"}, "consent": true})
    );
    assert_eq!(view["visitor"]["name"], "Ann Lee", "{}", view["visitor"]);
    // Kept on the contact.
    let (_, contacts) = call(&admin, &app, "GET", "/api/v1/contacts?q=ann%40example.com", None).await;
    let contact = contacts["items"].as_array().unwrap().iter().find(|c| c["email"] == "Ann@Example.com").cloned();
    let contact = contact.unwrap_or_else(|| panic!("a contact with the email: {contacts}"));
    assert_eq!((contact["name"].as_str(), contact["phone"].as_str()), (Some("Ann Lee"), Some("+48 600 000 000")));
    let (_, c) = call(&admin, &app, "GET", &format!("/api/v1/contacts/{}", contact["id"]), None).await;
    assert_eq!(c["conversations"][0]["id"], conv, "{c}");

    // A department without a form starts at once.
    let (mut v2, _) = ws::visitor(&app.address, None, None).await;
    v2.send(json!({"type": "message", "client_id": "s1", "body": "Help", "department": support})).await;
    let conv2 = v2.recv_type("ack").await["conversation"].as_i64().unwrap();
    let (_, view2) = call(&admin, &app, "GET", &format!("/api/v1/conversations/{conv2}"), None).await;
    assert_eq!((view2["conversation"]["department_id"].as_i64(), &view2["prechat"]), (Some(support), &Value::Null));

    // Removing the form: null.
    let (s, d) = call(&admin, &app, "PATCH", &format!("/api/v1/departments/{sales}"), Some(json!({"prechat": null}))).await;
    assert_eq!((s, &d["prechat"]), (StatusCode::OK, &Value::Null));
}

/// A chat with the agent, ended by the agent. Returns the visitor's socket, token and chat.
async fn ended_chat(app: &TestApp, agent: &mut Ws) -> (Ws, String, i64) {
    let (mut v, welcome) = ws::visitor(&app.address, None, None).await;
    let token = welcome["token"].as_str().unwrap().to_string();
    v.send(json!({"type": "message", "client_id": "m1", "body": "Where is my parcel?"})).await;
    let conv = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    agent.recv_type("assigned").await;
    agent.send(json!({"type": "message", "conversation": conv, "client_id": "a1", "body": "On its way."})).await;
    agent.recv_type("ack").await;
    (v, token, conv)
}

#[actix_web::test]
async fn a_rating_is_kept_with_the_chat_and_its_agent_and_the_transcript_arrives_by_mail() {
    let mut sink = Sink::on_free_port();
    sink.start();
    let url = sink.url();
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse(&url).unwrap());
        c.mail_from = Some("Shop support <support@shop.example>".into());
    })
    .await;
    let admin = quiet_admin(&app).await;
    let (agent_id, mut agent, _) = accepting_agent(&app, "sam@shop.example", vec![]).await;
    let (mut v, token, conv) = ended_chat(&app, &mut agent).await;
    let rate = |body: Value, token: Option<String>| {
        let mut rb = app.plain().post(app.url("/api/v1/widget/rating")).header("origin", &app.address).json(&body);
        if let Some(t) = token {
            rb = rb.header("x-visitor-token", t);
        }
        async move {
            let r = rb.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, e) = rate(json!({"rating": "good"}), Some(token.clone())).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "not before the chat ended");
    v.send(json!({"type": "end"})).await;
    let deadline = Deadline::secs(10, "the chat to end");
    while v.recv_type("status").await["status"] != "ended" {
        deadline.check();
    }
    // Malformed ratings: refused, nothing stored.
    for bad in
        [json!({}), json!({"rating": "meh"}), json!({"rating": "good", "stars": 5}), json!({"rating": "bad", "comment": "x".repeat(2001)})]
    {
        let (s, e) = rate(bad.clone(), Some(token.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {e}");
    }
    assert_eq!(rate(json!({"rating": "good"}), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(rate(json!({"rating": "good"}), Some("nobody".into())).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("chat_ratings").await, 0);

    let (s, r) = rate(json!({"rating": "bad", "comment": "  Too slow.  "}), Some(token.clone())).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let pushed = agent.recv_type("rated").await;
    assert_eq!(
        (pushed["conversation"].as_i64(), pushed["rating"].as_str(), pushed["comment"].as_str()),
        (Some(conv), Some("bad"), Some("Too slow."))
    );
    assert_eq!(r, json!({"conversation": conv, "rating": "bad", "comment": "Too slow."}));
    // Rating again replaces it.
    rate(json!({"rating": "good", "comment": "Fixed, thanks"}), Some(token.clone())).await;
    let (_, view) = call(&admin, &app, "GET", &format!("/api/v1/conversations/{conv}"), None).await;
    assert_eq!((view["rating"]["rating"].as_str(), view["rating"]["comment"].as_str()), (Some("good"), Some("Fixed, thanks")));
    assert_eq!(view["rating"]["agent_id"], agent_id, "kept with the agent who served");
    assert_eq!(app.count("chat_ratings").await, 1);

    // The same end-of-chat view asks for the transcript: it arrives at the SMTP server.
    let r = app
        .plain()
        .post(app.url("/api/v1/widget/transcript"))
        .header("origin", &app.address)
        .header("x-visitor-token", &token)
        .json(&json!({"email": "ann@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mails = sink.wait_for(1).await;
    assert_eq!(header(&mails[0], "X-Envelope-To").as_deref(), Some("ann@example.com"));
    let text = decoded(&mails[0]);
    assert!(text.contains("Where is my parcel?") && text.contains("On its way."), "{text}");
}

#[actix_web::test]
async fn appearance_is_kept_per_site_and_the_widget_gets_its_language_texts() {
    let app = spawn_app().await;
    app.add_agent("boss@shop.example", Role::Admin).await;
    let admin = app.login("boss@shop.example").await;
    let public = |q: &str| {
        let url = app.url(&format!("/api/v1/widget/settings{q}"));
        let c = app.plain();
        async move { c.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // Defaults before anything is saved.
    let d = public("?lang=en-US").await;
    assert_eq!((d["primary_color"].as_str(), d["position"].as_str(), d["lang"].as_str()), (Some("#2563eb"), Some("right"), Some("en")));

    let (s, g) = call(&admin, &app, "GET", "/api/v1/settings/widget", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g["snippet"], format!("<script async src=\"{}/widget.js\"></script>", app.address));

    let every = json!({
        "primary_color": "#0f766e", "text_color": "#ffffff", "position": "left", "offset_x": 32, "offset_y": 48,
        "language": "auto", "show_agent_name": false, "sounds": false,
        "texts": {
            "en": {"launcher": "Questions?", "greeting": "Hi! How can we help?", "offline": "We are away."},
            "ru": {"launcher": "Вопросы?", "greeting": "Здравствуйте! Чем помочь?", "offline": "Мы сейчас не в сети."},
            "pl": {"greeting": "Dzień dobry!"}
        }
    });
    // Malformed: refused and nothing changes.
    for bad in [
        json!({"appearance": {"primary_color": "teal"}}),
        json!({"appearance": {"offset_x": 999}}),
        json!({"appearance": {"language": "de"}}),
        json!({"appearance": {"texts": {"de": {"greeting": "Hallo"}}}}),
        json!({"appearance": {"texts": {"en": {"launcher": "x".repeat(41)}}}}),
        json!({"appearance": {"colour": "#000000"}}),
        json!({"site": "not a site", "appearance": {}}),
        json!({"appearance": {}, "extra": true}),
        json!({"site": ""}),
    ] {
        let (s, e) = call(&admin, &app, "PUT", "/api/v1/settings/widget", Some(bad.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {e}");
    }
    assert_eq!(app.count("widget_appearance").await, 0);
    let (s, e) = call(&admin, &app, "PUT", "/api/v1/settings/widget", Some(json!({"site": "", "appearance": every}))).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let site = json!({"primary_color": "#b91c1c", "texts": {"en": {"greeting": "Welcome to the outlet!"}}});
    let (s, e) =
        call(&admin, &app, "PUT", "/api/v1/settings/widget", Some(json!({"site": "https://outlet.example/any/page", "appearance": site})))
            .await;
    assert_eq!((s, e["site"].as_str()), (StatusCode::OK, Some("https://outlet.example")), "{e}");

    // Configured texts per language; a language without texts gets the widget's own ("").
    let cases = [
        ("?site=https%3A%2F%2Fshop.example%2Fboots&lang=ru-RU", "ru", "Здравствуйте! Чем помочь?", "Вопросы?", "Мы сейчас не в сети."),
        ("?site=https%3A%2F%2Fshop.example&lang=en-GB", "en", "Hi! How can we help?", "Questions?", "We are away."),
        ("?lang=pl", "pl", "Dzień dobry!", "", ""),
        ("?lang=uk", "uk", "", "", ""),
        ("?lang=de", "en", "Hi! How can we help?", "Questions?", "We are away."),
    ];
    for (q, lang, greeting, launcher, offline) in cases {
        let r = public(q).await;
        assert_eq!(
            (r["lang"].as_str(), r["texts"]["greeting"].as_str(), r["texts"]["launcher"].as_str(), r["texts"]["offline"].as_str()),
            (Some(lang), Some(greeting), Some(launcher), Some(offline)),
            "{q}: {r}"
        );
        assert_eq!((r["primary_color"].as_str(), r["offset_y"].as_u64(), r["sounds"].as_bool()), (Some("#0f766e"), Some(48), Some(false)));
    }
    // The outlet has its own.
    let r = public("?site=https%3A%2F%2Foutlet.example%2Fsale&lang=en").await;
    assert_eq!((r["primary_color"].as_str(), r["texts"]["greeting"].as_str()), (Some("#b91c1c"), Some("Welcome to the outlet!")));
    // A forced language wins over the browser.
    let forced = json!({"language": "ru", "texts": every["texts"].clone()});
    call(&admin, &app, "PUT", "/api/v1/settings/widget", Some(json!({"appearance": forced}))).await;
    let r = public("?lang=pl-PL").await;
    assert_eq!((r["lang"].as_str(), r["texts"]["greeting"].as_str()), (Some("ru"), Some("Здравствуйте! Чем помочь?")));
    let (_, g) = call(&admin, &app, "GET", "/api/v1/settings/widget", None).await;
    let sites: Vec<&str> = g["sites"].as_array().unwrap().iter().map(|s| s["site"].as_str().unwrap()).collect();
    assert_eq!(sites, ["", "https://outlet.example"]);
    // Removing a site's own appearance; the default cannot be removed.
    let (s, _) = call(&admin, &app, "DELETE", "/api/v1/settings/widget?site=https%3A%2F%2Foutlet.example", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(&admin, &app, "DELETE", "/api/v1/settings/widget?site=https%3A%2F%2Foutlet.example", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(&admin, &app, "DELETE", "/api/v1/settings/widget?site=", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(public("?site=https%3A%2F%2Foutlet.example&lang=en").await["primary_color"], "#2563eb");
    let bad = app.plain().get(app.url("/api/v1/widget/settings?colour=red")).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "unknown query parameters are refused");
}

fn identity(secret: &str, id: &str, email: &str, name: &str, ts: i64) -> Value {
    json!({"id": id, "email": email, "name": name, "ts": ts, "sig": frontdesk::widget::sign_identity(secret, id, email, name, ts)})
}

async fn hello_with(app: &TestApp, token: Option<&str>, identity: Value) -> (Ws, Value) {
    let mut ws = ws::Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    let mut hello = json!({"type": "hello", "v": 1, "page": {"url": "https://shop.example/account"}, "identity": identity});
    if let Some(t) = token {
        hello["token"] = t.into();
    }
    ws.send(hello).await;
    let w = ws.recv_type("welcome").await;
    (ws, w)
}

#[actix_web::test]
async fn a_signed_identity_links_the_visitor_to_the_contact_and_its_history_and_a_bad_one_is_ignored() {
    let app = spawn_app().await;
    let admin = quiet_admin(&app).await;
    let sales = department(&app, &admin, "Sales").await;
    let form = json!({"fields": [{"kind": "name", "required": true}, {"kind": "email", "required": true}], "consent": "I agree."});
    let (s, _) = call(&admin, &app, "PATCH", &format!("/api/v1/departments/{sales}"), Some(json!({"prechat": form}))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, mut agent, _) = accepting_agent(&app, "sam@shop.example", vec![sales]).await;
    // Ann is a contact already: she mailed about a ticket.
    let (s, t) = call(
        &admin,
        &app,
        "POST",
        "/api/v1/tickets",
        Some(json!({"subject": "Order A-1001", "body": "Late?", "customer": {"email": "ann@example.com"}})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (_, list) = call(&admin, &app, "GET", "/api/v1/contacts?q=ann%40example.com", None).await;
    let contact = list["items"][0]["id"].as_i64().unwrap();

    let (s, sec) = call(&admin, &app, "GET", "/api/v1/settings/identity", None).await;
    assert_eq!(s, StatusCode::OK);
    let secret = sec["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);
    let now_s = app.clock.now_ms() / 1000;

    // Laptop: a valid signature. The visitor is Ann, linked to her contact.
    let (mut laptop, w) = hello_with(&app, None, identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s)).await;
    assert_eq!(w["known"]["email"], "ann@example.com", "{w}");
    assert_eq!(w["known"]["name"], "Ann Lee");
    let ann = w["visitor"]["id"].as_i64().unwrap();
    let laptop_token_of_ann = w["token"].as_str().unwrap().to_string();
    laptop.send(json!({"type": "message", "client_id": "l1", "body": "Is my order late?"})).await;
    let conv = laptop.recv_type("ack").await["conversation"].as_i64().unwrap();
    agent.recv_type("assigned").await;
    let (_, c) = call(&admin, &app, "GET", &format!("/api/v1/contacts/{contact}"), None).await;
    assert_eq!(c["conversations"][0]["id"], conv, "the chat is in the contact's history: {c}");
    assert_eq!(c["tickets"].as_array().map(Vec::len), Some(1));

    // Phone, a day later: another device, same customer → the same visitor and its chat.
    app.clock.advance(20 * 3600 * 1000);
    let now_s = app.clock.now_ms() / 1000;
    let (mut phone, w) = hello_with(&app, None, identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s)).await;
    assert_eq!(w["visitor"]["id"], ann, "{w}");
    assert_eq!(w["conversation"]["id"], conv, "history across devices: {w}");
    let phone_token = w["token"].as_str().unwrap().to_string();
    let first = phone.recv_type("message").await;
    assert_eq!(first["body"], "Is my order late?");
    // The phone's token keeps leading to Ann without a signature (its widget on another page).
    let (_, w) = ws::visitor(&app.address, Some(&phone_token), None).await;
    assert_eq!(w["visitor"]["id"], ann);

    // Wrong signatures and expired ones are ignored: a new anonymous visitor, nothing linked.
    let before = (app.dump("visitors").await.len(), app.dump("visitor_tokens").await.len());
    let mut forged = identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s);
    forged["email"] = "eve@example.com".into();
    let other_secret = identity("not-the-secret", "cust-42", "ann@example.com", "Ann Lee", now_s);
    let expired = identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s - frontdesk::widget::IDENTITY_MAX_AGE_S - 1);
    let future = identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s + 3600);
    let mut short = identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s);
    short["sig"] = "abc".into();
    for bad in [forged, other_secret, expired, future, short] {
        let (_, w) = hello_with(&app, None, bad.clone()).await;
        assert_ne!(w["visitor"]["id"], ann, "{bad}");
        assert!(w.get("known").is_none() && w["conversation"].is_null(), "{bad} → {w}");
    }
    let linked = app
        .db
        .read(|c| frontdesk::db::count(c, "SELECT count(*) FROM visitors WHERE external_id IS NOT NULL OR contact_id IS NOT NULL", []))
        .await
        .unwrap();
    assert_eq!(linked, 1, "only Ann's visitor is linked");
    assert_eq!(app.dump("visitor_tokens").await.len(), before.1, "no device was added");
    assert_eq!(app.dump("visitors").await.len(), before.0 + 5, "each ignored one is just a new visitor");

    // A malformed identity (wrong types) is a bad frame.
    let mut ws = ws::Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    ws.send(json!({"type": "hello", "v": 1, "identity": {"id": 42, "ts": "now", "sig": "x"}})).await;
    assert_eq!(ws.recv_type("error").await["code"], "invalid_frame");

    // A shared computer: the laptop's token, now signed in as another customer, never gets
    // Ann's visitor or chats; Ann signing in there again gets hers back.
    assert_eq!(app.count("visitor_tokens").await, 1, "only the phone's token was re-pointed");
    laptop.cut();
    let (_, w) = hello_with(&app, Some(&laptop_token_of_ann), identity(&secret, "cust-99", "carl@example.com", "Carl", now_s)).await;
    assert_ne!(w["visitor"]["id"], ann, "{w}");
    assert!(w["conversation"].is_null(), "none of Ann's chats: {w}");
    assert_eq!(w["known"]["email"], "carl@example.com");
    let (_, w) = ws::visitor(&app.address, Some(&laptop_token_of_ann), None).await;
    assert_ne!(w["visitor"]["id"], ann, "the token now leads to Carl");
    let (_, w) = hello_with(&app, Some(&laptop_token_of_ann), identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s)).await;
    assert_eq!((w["visitor"]["id"].as_i64(), w["conversation"]["id"].as_i64()), (Some(ann), Some(conv)));

    // W3: a verified customer skips what they already gave; an anonymous visitor does not.
    let (mut bob, w) = hello_with(&app, None, identity(&secret, "cust-7", "bob@example.com", "Bob", now_s)).await;
    assert_eq!(w["known"], json!({"name": "Bob", "email": "bob@example.com", "phone": null, "consent": false}));
    bob.send(json!({"type": "message", "client_id": "b1", "body": "Hi", "department": sales})).await;
    assert_eq!(bob.recv_type("error").await["code"], "prechat_required", "the consent was never given");
    bob.send(json!({"type": "message", "client_id": "b2", "body": "Hi", "department": sales, "prechat": {"consent": true}})).await;
    let bob_conv = bob.recv_type("ack").await["conversation"].as_i64().unwrap();
    let admin = app.login("boss@shop.example").await;
    let (_, view) = call(&admin, &app, "GET", &format!("/api/v1/conversations/{bob_conv}"), None).await;
    assert_eq!(view["prechat"], json!({"name": "Bob", "email": "bob@example.com", "consent": true}), "known values kept as answers");
    let (mut anon, _) = ws::visitor(&app.address, None, None).await;
    anon.send(json!({"type": "message", "client_id": "a1", "body": "Hi", "department": sales, "prechat": {"consent": true}})).await;
    assert_eq!(anon.recv_type("error").await["code"], "prechat_required");

    // Rotating the secret: the old signature stops working at once.
    let (s, rotated) = call(&admin, &app, "POST", "/api/v1/settings/identity/rotate", Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(rotated["secret"], secret);
    let (_, w) = hello_with(&app, None, identity(&secret, "cust-42", "ann@example.com", "Ann Lee", now_s)).await;
    assert_ne!(w["visitor"]["id"], ann);
    let new_secret = rotated["secret"].as_str().unwrap();
    let (_, w) = hello_with(&app, None, identity(new_secret, "cust-42", "ann@example.com", "Ann Lee", now_s)).await;
    assert_eq!(w["visitor"]["id"], ann);
}
