//! Routing on the real server and real sockets (issue 9): even distribution with slots, the
//! queue with live positions and priorities, atomic assignment when slots free at once, agent
//! status and its history, not accepting, the offline decisions, allowed sites, callbacks and
//! the visitor's End chat.

use std::collections::{BTreeMap, BTreeSet};

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use frontdesk::routing::AgentStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws::{self, Ended, Ws};

async fn many_visitors_app() -> TestApp {
    spawn_app_with(|c| c.visitor_session_rate = frontdesk::config::Rate::parse("100000/1s").unwrap()).await
}

/// An accepting agent with this chat limit, connected to the agent socket.
async fn agent_with_limit(app: &TestApp, email: &str, limit: i64, departments: Vec<i64>) -> (i64, Ws) {
    let id = app.add_agent(email, Role::Agent).await;
    let now = app.clock.now_ms();
    let patch = frontdesk::agents::AgentPatch { chat_limit: Some(limit), department_ids: Some(departments), ..Default::default() };
    app.db.write(move |c| frontdesk::agents::update(c, id, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
    app.set_status(id, AgentStatus::Accepting).await;
    let cookie = app.cookie_header(&app.session_for(id).await);
    let (ws, _) = ws::agent(&app.address, &cookie).await;
    (id, ws)
}

/// A visitor who writes a first message (optionally into a department): the socket and the chat.
async fn visitor_chat(app: &TestApp, body: &str, department: Option<i64>) -> (Ws, i64) {
    let (mut v, _) = ws::visitor(&app.address, None, None).await;
    let mut m = json!({"type": "message", "client_id": "m1", "body": body});
    if let Some(d) = department {
        m["department"] = d.into();
    }
    v.send(m).await;
    let ack = v.recv_type("ack").await;
    (v, ack["conversation"].as_i64().unwrap_or_else(|| panic!("no conversation in {ack}")))
}

/// The next `status` frame of a visitor.
async fn status(v: &mut Ws) -> Value {
    v.recv_type("status").await
}

async fn active_counts(app: &TestApp) -> BTreeMap<i64, i64> {
    app.db
        .read(|c| {
            let mut st = c.prepare("SELECT agent_id, count(*) FROM conversations WHERE status = 'active' GROUP BY agent_id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap()
}

async fn admin_client(app: &TestApp) -> (i64, reqwest::Client) {
    let id = app.add_agent("root@shop.example", Role::Admin).await;
    (id, app.login("root@shop.example").await)
}

#[actix_web::test]
async fn three_agents_limits_1_2_3_take_6_of_10_and_4_wait_with_positions() {
    let app = many_visitors_app().await;
    let mut agents = Vec::new();
    for (email, limit) in [("a1@shop.example", 1), ("a2@shop.example", 2), ("a3@shop.example", 3)] {
        agents.push(agent_with_limit(&app, email, limit, vec![]).await);
    }
    let mut visitors = Vec::new();
    for i in 0..10 {
        let (mut v, conv) = visitor_chat(&app, &format!("hello {i}"), None).await;
        let s = status(&mut v).await;
        visitors.push((v, conv, s));
    }
    // The first six were assigned at once; the last four wait at places 1..4.
    for (i, (_, conv, s)) in visitors.iter().enumerate() {
        assert_eq!(s["conversation"], *conv);
        if i < 6 {
            assert_eq!(s["status"], "active", "visitor {i}: {s}");
        } else {
            assert_eq!((s["status"].as_str(), s["position"].as_i64()), (Some("queued"), Some(i as i64 - 5)), "visitor {i}: {s}");
            assert!(s["wait_notice_s"].is_i64() && s["retention_s"].is_i64() && s["waited_s"].is_i64(), "{s}");
        }
    }
    // Each agent got exactly their limit, announced on their socket with the transcript.
    let mut got: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (id, ws) in agents.iter_mut() {
        let limit = app.db.read({
            let id = *id;
            move |c| frontdesk::routing::store::load(c, id)
        });
        let (limit, active) = limit.await.unwrap().unwrap();
        assert_eq!(active, limit, "agent {id} is full");
        for _ in 0..limit {
            let a = ws.recv_type("assigned").await;
            assert_eq!(a["conversation"]["agent_id"], *id);
            let conv = a["conversation"]["id"].as_i64().unwrap();
            let first = ws.recv_type("message").await;
            assert_eq!((first["conversation"].as_i64(), first["seq"].as_i64()), (Some(conv), Some(1)), "replayed from the start");
            got.entry(*id).or_default().push(conv);
        }
    }
    let assigned: BTreeSet<i64> = got.values().flatten().copied().collect();
    assert_eq!(assigned.len(), 6, "six different chats: {got:?}");

    // Ending a chat pulls the next one from the queue; the others move up.
    let (a1, ws1) = &mut agents[0];
    let conv = got[a1][0];
    ws1.send(json!({"type": "end", "conversation": conv})).await;
    let next = ws1.recv_type("assigned").await;
    assert_eq!(next["conversation"]["id"], visitors[6].1, "the first in the queue");
    assert_eq!(status(&mut visitors[6].0).await["status"], "active");
    for (k, (v, _, _)) in visitors.iter_mut().enumerate().skip(7) {
        let s = status(v).await;
        assert_eq!((s["status"].as_str(), s["position"].as_i64()), (Some("queued"), Some(k as i64 - 6)), "moved up: {s}");
    }
    assert_eq!(active_counts(&app).await.values().sum::<i64>(), 6);
}

#[actix_web::test]
async fn ending_chats_pulls_from_the_queue_in_priority_order() {
    let app = many_visitors_app().await;
    let (_, admin) = admin_client(&app).await;
    let mk = |name: &str, priority: i64| {
        let (admin, app) = (admin.clone(), &app);
        let name = name.to_string();
        async move {
            let d: Value =
                admin.post(app.url("/api/v1/departments")).json(&json!({"name": name})).send().await.unwrap().json().await.unwrap();
            let id = d["id"].as_i64().unwrap();
            let r = admin.patch(app.url(&format!("/api/v1/departments/{id}"))).json(&json!({"priority": priority})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            id
        }
    };
    let (low, high) = (mk("Sales", 0).await, mk("Returns", 5).await);
    let (ann, mut ws_ann) = agent_with_limit(&app, "ann@shop.example", 1, vec![low, high]).await;
    let (mut v0, c0) = visitor_chat(&app, "first", Some(low)).await;
    assert_eq!(status(&mut v0).await["status"], "active");
    assert_eq!(ws_ann.recv_type("assigned").await["conversation"]["department_id"], low);
    let (mut v1, c1) = visitor_chat(&app, "low, early", Some(low)).await;
    let (mut v2, c2) = visitor_chat(&app, "high, later", Some(high)).await;
    let (mut v3, c3) = visitor_chat(&app, "low, last", Some(low)).await;
    assert_eq!(status(&mut v1).await["position"], 1);
    assert_eq!(status(&mut v2).await["position"], 1, "the higher priority goes first");
    assert_eq!(status(&mut v3).await["position"], 3);
    assert_eq!(status(&mut v1).await["position"], 2, "moved back behind the higher priority");

    let mut order = Vec::new();
    let mut current = c0;
    for _ in 0..3 {
        ws_ann.send(json!({"type": "end", "conversation": current})).await;
        let a = ws_ann.recv_type("assigned").await;
        assert_eq!(a["conversation"]["agent_id"], ann);
        current = a["conversation"]["id"].as_i64().unwrap();
        order.push(current);
    }
    assert_eq!(order, vec![c2, c1, c3]);
}

/// 50 rounds: two agents end a chat at the same instant; each gets exactly one of the waiting
/// chats, no chat goes to both, and no waiting chat is left behind.
#[actix_web::test]
async fn two_agents_freeing_slots_at_once_never_double_assign_or_lose_a_chat() {
    let app = many_visitors_app().await;
    let (a, mut wa) = agent_with_limit(&app, "a@shop.example", 1, vec![]).await;
    let (b, mut wb) = agent_with_limit(&app, "b@shop.example", 1, vec![]).await;
    const ROUNDS: usize = 50;
    let mut visitors = Vec::new();
    for i in 0..(2 * ROUNDS + 2) {
        visitors.push(visitor_chat(&app, &format!("v{i}"), None).await);
    }
    let mut cur_a = wa.recv_type("assigned").await["conversation"]["id"].as_i64().unwrap();
    let mut cur_b = wb.recv_type("assigned").await["conversation"]["id"].as_i64().unwrap();
    let mut seen = BTreeSet::from([cur_a, cur_b]);
    for round in 0..ROUNDS {
        // Both end frames are on the wire before either is handled.
        let (ra, rb) = (json!({"type": "end", "conversation": cur_a}), json!({"type": "end", "conversation": cur_b}));
        tokio::join!(wa.send(ra), wb.send(rb));
        let (na, nb) = tokio::join!(wa.recv_type("assigned"), wb.recv_type("assigned"));
        cur_a = na["conversation"]["id"].as_i64().unwrap();
        cur_b = nb["conversation"]["id"].as_i64().unwrap();
        assert_ne!(cur_a, cur_b, "round {round}: one chat to both agents");
        assert!(seen.insert(cur_a) && seen.insert(cur_b), "round {round}: a chat assigned twice");
        let counts = active_counts(&app).await;
        assert_eq!((counts.get(&a), counts.get(&b)), (Some(&1), Some(&1)), "round {round}: each agent exactly at the limit");
    }
    // Every chat was assigned once, in arrival order, and nothing waits.
    let all: Vec<i64> = visitors.iter().map(|(_, c)| *c).collect();
    assert_eq!(seen.iter().copied().collect::<Vec<_>>(), all);
    let (queued, joined_twice): (i64, i64) = app
        .db
        .read(|c| {
            let q = frontdesk::db::count(c, "SELECT count(*) FROM conversations WHERE status = 'queued'", [])?;
            let d = frontdesk::db::count(
                c,
                "SELECT count(*) FROM (SELECT conversation_id FROM messages WHERE author_kind = 'system' AND event LIKE '%joined%'
                 GROUP BY conversation_id HAVING count(*) > 1)",
                [],
            )?;
            Ok((q, d))
        })
        .await
        .unwrap();
    assert_eq!((queued, joined_twice), (0, 0));
}

#[actix_web::test]
async fn status_changes_leave_history_rows_and_not_accepting_keeps_chats_but_takes_no_new_ones() {
    let app = spawn_app().await;
    let ann = app.add_agent("ann@shop.example", Role::Agent).await;
    // Login restores the status last chosen: accepting for a new agent.
    let client = app.login("ann@shop.example").await;
    let me: Value = client.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["status"], "accepting");
    let cookie_ws = app.cookie_header(&app.session_for(ann).await);
    let (mut ws_ann, _) = ws::agent(&app.address, &cookie_ws).await;
    let (mut v1, c1) = visitor_chat(&app, "hi", None).await;
    assert_eq!(ws_ann.recv_type("assigned").await["conversation"]["id"], c1);
    assert_eq!(status(&mut v1).await["status"], "active");

    // Not accepting: current chat continues, no new ones (nobody else: the widget goes offline).
    let r = client.put(app.url("/api/v1/me/status")).json(&json!({"status": "not_accepting"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "not_accepting"}));
    assert_eq!(ws_ann.recv_type("agent_status").await["status"], "not_accepting");
    ws_ann.send(json!({"type": "message", "conversation": c1, "client_id": "a1", "body": "still here"})).await;
    ws_ann.recv_type("ack").await;
    let deadline = Deadline::secs(10, "the agent's message at the visitor");
    loop {
        deadline.check();
        let m = v1.recv_type("message").await;
        if m["author"]["kind"] == "agent" {
            assert_eq!(m["body"], "still here");
            break;
        }
    }
    let (mut v2, welcome) = ws::visitor(&app.address, None, None).await;
    assert_eq!(
        (welcome["open"].as_bool(), welcome["closed"].as_str(), welcome["agents_online"].as_i64()),
        (Some(false), Some("nobody_accepting"), Some(0))
    );
    v2.send(json!({"type": "message", "client_id": "m1", "body": "anyone?"})).await;
    let e = v2.recv_type("error").await;
    assert_eq!((e["code"].as_str(), e["ref"].as_str()), (Some("unavailable"), Some("m1")));
    // A colleague accepting gets the new chats; Ann still gets none.
    let bob = app.add_agent("bob@shop.example", Role::Agent).await;
    app.set_status(bob, AgentStatus::Accepting).await;
    let (mut v3, c2) = visitor_chat(&app, "now?", None).await;
    assert_eq!(status(&mut v3).await["status"], "active");
    let counts = active_counts(&app).await;
    assert_eq!((counts.get(&ann), counts.get(&bob)), (Some(&1), Some(&1)));
    let owner: Option<i64> = app.db.read(move |c| Ok(frontdesk::chat::store::conv(c, c2)?.and_then(|r| r.agent_id))).await.unwrap();
    assert_eq!(owner, Some(bob));

    // Grace-time offline: the last console socket gone for the grace time.
    app.set_routing(|s| s.offline_grace_s = 60).await;
    ws_ann.cut();
    let deadline = Deadline::secs(5, "the agent socket to close");
    while app.state.hub.online_agents().await.contains(&ann) {
        deadline.check();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    app.clock.advance(59_000);
    assert!(frontdesk::jobs::run_once(&app.state, 2).await.auto_offline.is_empty(), "still within the grace time");
    app.clock.advance(2_000);
    assert_eq!(frontdesk::jobs::run_once(&app.state, 2).await.auto_offline, vec![ann]);
    // Login brings back the chosen status; logout takes the agent offline.
    let client = app.login("ann@shop.example").await;
    let r = client.post(app.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let (_, admin) = admin_client(&app).await;
    let h: Value = admin.get(app.url(&format!("/api/v1/agents/{ann}/status-history"))).send().await.unwrap().json().await.unwrap();
    let rows: Vec<(String, String, String)> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["from"].as_str().unwrap().into(), r["to"].as_str().unwrap().into(), r["reason"].as_str().unwrap().into()))
        .collect();
    let want = [
        ("offline", "accepting", "login"),
        ("accepting", "not_accepting", "manual"),
        ("not_accepting", "offline", "auto_offline"),
        ("offline", "not_accepting", "login"),
        ("not_accepting", "offline", "session_end"),
    ];
    assert_eq!(rows, want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).to_vec());
    let agents: Value = admin.get(app.url("/api/v1/agents")).send().await.unwrap().json().await.unwrap();
    let bob_row = agents["items"].as_array().unwrap().iter().find(|a| a["id"] == bob).unwrap().clone();
    assert_eq!(bob_row["status"], "accepting", "Agent objects carry the status");
}

#[actix_web::test]
async fn manual_accept_respects_slots_unless_a_supervisor_forces_it() {
    let app = spawn_manual_app().await;
    let ann = app.add_agent("ann@shop.example", Role::Agent).await;
    let sue = app.add_agent("sue@shop.example", Role::Supervisor).await;
    for id in [ann, sue] {
        let now = app.clock.now_ms();
        let patch = frontdesk::agents::AgentPatch { chat_limit: Some(1), ..Default::default() };
        app.db.write(move |c| frontdesk::agents::update(c, id, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
        app.set_status(id, AgentStatus::Accepting).await;
    }
    let (mut wa, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(ann).await)).await;
    let (mut ws_sue, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(sue).await)).await;
    let (mut v1, c1) = visitor_chat(&app, "one", None).await;
    let (_v2, c2) = visitor_chat(&app, "two", None).await;
    let (_v3, c3) = visitor_chat(&app, "three", None).await;
    assert_eq!(status(&mut v1).await["position"], 1, "manual mode: chats wait to be picked");
    wa.send(json!({"type": "accept", "conversation": c1})).await;
    wa.recv_type("accepted").await;
    // Ann is full: refused, and forcing is not hers to do.
    wa.send(json!({"type": "accept", "conversation": c2})).await;
    assert_eq!(wa.recv_type("error").await["code"], "conflict");
    wa.send(json!({"type": "accept", "conversation": c2, "force": true})).await;
    assert_eq!(wa.recv_type("error").await["code"], "forbidden");
    // Sue takes one within her limit, then a second only by forcing it.
    ws_sue.send(json!({"type": "accept", "conversation": c2})).await;
    ws_sue.recv_type("accepted").await;
    ws_sue.send(json!({"type": "accept", "conversation": c3})).await;
    assert_eq!(ws_sue.recv_type("error").await["code"], "conflict");
    ws_sue.send(json!({"type": "accept", "conversation": c3, "force": true})).await;
    assert_eq!(ws_sue.recv_type("accepted").await["conversation"]["id"], c3);
    let counts = active_counts(&app).await;
    assert_eq!((counts.get(&ann), counts.get(&sue)), (Some(&1), Some(&2)));
}

#[actix_web::test]
async fn offline_form_outside_hours_and_over_the_queue_limit() {
    let app = spawn_app().await;
    let (_, admin) = admin_client(&app).await;
    let d: Value = admin.post(app.url("/api/v1/departments")).json(&json!({"name": "Sales"})).send().await.unwrap().json().await.unwrap();
    let sales = d["id"].as_i64().unwrap();
    let (_ann, _ws) = agent_with_limit(&app, "ann@shop.example", 1, vec![sales]).await;
    // Queue limit 1: one chat active, one waiting, the third is refused.
    let r = admin
        .patch(app.url(&format!("/api/v1/departments/{sales}")))
        .json(&json!({"queue_limit": 1, "offline_behaviour": "hide"}))
        .send()
        .await
        .unwrap();
    let d: Value = r.json().await.unwrap();
    assert_eq!((d["queue_limit"].as_i64(), d["offline_behaviour"].as_str()), (Some(1), Some("hide")));
    visitor_chat(&app, "one", Some(sales)).await;
    let (mut v2, _) = visitor_chat(&app, "two", Some(sales)).await;
    assert_eq!(status(&mut v2).await["position"], 1);
    let (mut v3, welcome) = ws::visitor(&app.address, None, None).await;
    let dep = &welcome["departments"][0];
    assert_eq!(
        (dep["id"].as_i64(), dep["open"].as_bool(), dep["closed"].as_str(), dep["offline"].as_str()),
        (Some(sales), Some(false), Some("queue_full"), Some("hide"))
    );
    v3.send(json!({"type": "message", "client_id": "m1", "body": "three", "department": sales})).await;
    assert_eq!(v3.recv_type("error").await["code"], "unavailable");

    // Outside hours: open only tomorrow (UTC), so closed now; the offline form.
    let today = jiff::Timestamp::from_millisecond(app.clock.now_ms()).unwrap().to_zoned(jiff::tz::TimeZone::UTC).weekday();
    let tomorrow = frontdesk::routing::WEEKDAYS[(today.to_monday_zero_offset() as usize + 1) % 7];
    let r = admin
        .patch(app.url(&format!("/api/v1/departments/{sales}")))
        .json(&json!({"queue_limit": null, "offline_behaviour": "form", "timezone": "UTC", "hours": {tomorrow: [["00:00", "24:00"]]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (mut v4, welcome) = ws::visitor(&app.address, None, None).await;
    assert_eq!(
        (welcome["departments"][0]["closed"].as_str(), welcome["departments"][0]["offline"].as_str()),
        (Some("hours"), Some("form"))
    );
    v4.send(json!({"type": "message", "client_id": "m1", "body": "late", "department": sales})).await;
    assert_eq!(v4.recv_type("error").await["code"], "unavailable");
    // Hidden departments only receive transfers: the widget cannot open a chat there.
    admin.patch(app.url(&format!("/api/v1/departments/{sales}"))).json(&json!({"hours": null, "visible": false})).send().await.unwrap();
    let (mut v5, welcome) = ws::visitor(&app.address, None, None).await;
    assert_eq!(welcome["departments"], json!([]));
    v5.send(json!({"type": "message", "client_id": "m1", "body": "psst", "department": sales})).await;
    assert_eq!(v5.recv_type("error").await["code"], "invalid_frame");
}

#[actix_web::test]
async fn a_site_not_on_the_allowed_list_can_neither_frame_the_widget_nor_open_a_visitor_socket() {
    let app = spawn_app().await;
    let (_, admin) = admin_client(&app).await;
    let csp = |r: &reqwest::Response| r.headers()["content-security-policy"].to_str().unwrap().to_string();
    let r = app.plain().get(app.url("/widget")).send().await.unwrap();
    assert!(csp(&r).contains("frame-ancestors *"), "any site until restricted");
    let r =
        admin.patch(app.url("/api/v1/settings/routing")).json(&json!({"allowed_origins": ["https://shop.example"]})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["allowed_origins"], json!(["https://shop.example"]));
    let r = app.plain().get(app.url("/widget")).send().await.unwrap();
    assert!(csp(&r).ends_with("frame-ancestors 'self' https://shop.example"), "{}", csp(&r));

    // The helper's page is on shop.example: allowed.
    let (_v, welcome) = ws::visitor(&app.address, None, None).await;
    assert!(welcome["token"].is_string());
    // A page elsewhere: refused at hello, closed with 1008, nothing stored.
    let visitors = app.count("visitors").await;
    let mut ws = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    ws.send(json!({"type": "hello", "v": 1, "page": {"url": "https://evil.example/"}})).await;
    assert_eq!(ws.recv().await["code"], "origin_not_allowed");
    assert_eq!(ws.ended().await, Ended::Closed(1008));
    let mut ws = Ws::connect(&app.address, "/ws/visitor", &app.address, None).await.unwrap();
    ws.send(json!({"type": "hello", "v": 1})).await;
    assert_eq!(ws.recv().await["code"], "origin_not_allowed", "no page: no proof of the site");
    assert_eq!(app.count("visitors").await, visitors);
}

#[actix_web::test]
async fn visitor_end_chat_outcomes_and_callback_requests() {
    let app = spawn_manual_app().await;
    let ann = app.add_agent("ann@shop.example", Role::Agent).await;
    app.set_status(ann, AgentStatus::Accepting).await;
    // Ended by the visitor within 20 s without a reply: cancelled.
    let (mut v, c) = visitor_chat(&app, "hm", None).await;
    app.clock.advance(19_000);
    v.send(json!({"type": "end"})).await;
    let s = v.recv_type("status").await;
    let s = if s["status"] == "queued" { v.recv_type("status").await } else { s };
    assert_eq!((s["conversation"].as_i64(), s["outcome"].as_str(), s["ended_by"].as_str()), (Some(c), Some("cancelled"), Some("visitor")));
    // Later than that: missed.
    v.send(json!({"type": "message", "client_id": "m2", "body": "again"})).await;
    let c2 = v.recv_type("ack").await["conversation"].as_i64().unwrap();
    assert_ne!(c2, c);
    app.clock.advance(21_000);
    v.send(json!({"type": "end"})).await;
    let s = loop {
        let s = v.recv_type("status").await;
        if s["status"] == "ended" {
            break s;
        }
    };
    assert_eq!((s["conversation"].as_i64(), s["outcome"].as_str()), (Some(c2), Some("missed")));

    // A callback request becomes a ticket with the phone and the window.
    let token = ws::visitor(&app.address, None, None).await.1["token"].as_str().unwrap().to_string();
    let post = |body: Value| app.plain().post(app.url("/api/v1/widget/callback")).header("x-visitor-token", &token).json(&body).send();
    let tickets = app.count("tickets").await;
    for bad in [
        json!({"phone": "call me", "from": "14:00", "to": "16:00"}),
        json!({"phone": "+48 600 100 200", "from": "16:00", "to": "14:00"}),
        json!({"phone": "+48 600 100 200", "from": "2pm", "to": "16:00"}),
        json!({"phone": "+48 600 100 200", "from": "14:00"}),
        json!({"phone": "+48 600 100 200", "from": "14:00", "to": "16:00", "extra": 1}),
    ] {
        assert_eq!(post(bad.clone()).await.unwrap().status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(app.count("tickets").await, tickets, "refused requests change nothing");
    let r = post(json!({"phone": "+48 600 100 200", "from": "14:00", "to": "16:30", "name": "Ola"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let (_, admin) = admin_client(&app).await;
    let t: Value = admin.get(app.url(&format!("/api/v1/tickets/{number}"))).send().await.unwrap().json().await.unwrap();
    let body = t["messages"][0]["body"].as_str().unwrap();
    assert!(body.contains("+48 600 100 200") && body.contains("14:00–16:30"), "{body}");
    let r = app
        .plain()
        .post(app.url("/api/v1/widget/callback"))
        .json(&json!({"phone": "123456", "from": "10:00", "to": "11:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "needs a visitor token");
}

#[actix_web::test]
async fn malformed_routing_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (admin_id, admin) = admin_client(&app).await;
    let d: Value = admin.post(app.url("/api/v1/departments")).json(&json!({"name": "Sales"})).send().await.unwrap().json().await.unwrap();
    let sales = d["id"].as_i64().unwrap();
    let before =
        (app.dump("agents").await, app.dump("departments").await, app.dump("settings").await, app.dump("agent_status_history").await);
    let dep = format!("/api/v1/departments/{sales}");
    let cases: Vec<(&str, String, Value)> = vec![
        ("PUT", "/api/v1/me/status".into(), json!({"status": "away"})),
        ("PUT", "/api/v1/me/status".into(), json!({})),
        ("PUT", "/api/v1/me/status".into(), json!({"status": "accepting", "why": "x"})),
        ("PATCH", "/api/v1/settings/routing".into(), json!({"mode": "random"})),
        ("PATCH", "/api/v1/settings/routing".into(), json!({"wait_notice_s": 600, "retention_s": 60})),
        ("PATCH", "/api/v1/settings/routing".into(), json!({"allowed_origins": ["not a url"]})),
        ("PATCH", "/api/v1/settings/routing".into(), json!({"default_department": 99999})),
        ("PATCH", "/api/v1/settings/routing".into(), json!({"cancel_window_s": -5})),
        ("PATCH", "/api/v1/settings/routing".into(), json!({"surprise": true})),
        ("PUT", "/api/v1/agents/chat-limits".into(), json!({"agent_ids": [admin_id], "chat_limit": 101})),
        ("PUT", "/api/v1/agents/chat-limits".into(), json!({"agent_ids": [], "chat_limit": 2})),
        ("PUT", "/api/v1/agents/chat-limits".into(), json!({"agent_ids": [admin_id, 99999], "chat_limit": 2})),
        ("PATCH", dep.clone(), json!({"timezone": "Mars/Olympus"})),
        ("PATCH", dep.clone(), json!({"hours": {"mon": [["18:00", "09:00"]]}})),
        ("PATCH", dep.clone(), json!({"hours": {"someday": []}})),
        ("PATCH", dep.clone(), json!({"holidays": ["2026-02-30"]})),
        ("PATCH", dep.clone(), json!({"queue_limit": -1})),
        ("PATCH", dep.clone(), json!({"priority": 1000})),
        ("PATCH", dep.clone(), json!({"offline_behaviour": "explode"})),
        ("PATCH", dep.clone(), json!({"origins": ["ftp://files.example"]})),
    ];
    for (method, path, body) in cases {
        let r = admin.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(&path)).json(&body).send().await.unwrap();
        let (status, code) = error_code(r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} {body}: {code}");
    }
    let after =
        (app.dump("agents").await, app.dump("departments").await, app.dump("settings").await, app.dump("agent_status_history").await);
    assert_eq!(after, before, "nothing changed");
    // And the good ones do what they say.
    let r = admin.put(app.url("/api/v1/agents/chat-limits")).json(&json!({"agent_ids": [admin_id], "chat_limit": 7})).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["updated"], 1);
    let me: Value = admin.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["chat_limit"], 7);
    let r = admin
        .patch(app.url(&dep))
        .json(&json!({"timezone": "Europe/Warsaw", "hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-12-25"], "origins": ["https://Shop.example/"]}))
        .send()
        .await
        .unwrap();
    let d: Value = r.json().await.unwrap();
    assert_eq!(
        (d["timezone"].as_str(), d["hours"].clone(), d["holidays"].clone(), d["origins"].clone()),
        (Some("Europe/Warsaw"), json!({"mon": [["09:00", "17:00"]]}), json!(["2026-12-25"]), json!(["https://shop.example"]))
    );
}

/// The new server frames reach only their audience: `assigned` only the agent who got the
/// chat, `agent_status` only consoles, never a visitor; a colleague sees neither the chat's
/// messages nor its `assigned`.
#[actix_web::test]
async fn assigned_and_agent_status_frames_reach_only_their_audience() {
    let app = spawn_app().await;
    let (ann, mut wa) = agent_with_limit(&app, "ann@shop.example", 1, vec![]).await;
    let (_bob, mut wb) = agent_with_limit(&app, "bob@shop.example", 0, vec![]).await;
    let (mut v, conv) = visitor_chat(&app, "hello", None).await;
    assert_eq!(wa.recv_type("assigned").await["conversation"]["id"], conv);
    app.set_status(ann, AgentStatus::NotAccepting).await;
    assert_eq!(wb.recv_type("agent_status").await["agent_id"], ann, "consoles learn a colleague's status");
    // Collect everything up to a pong: no routing frames meant for agents.
    for (name, ws) in [("visitor", &mut v), ("bob", &mut wb)] {
        ws.send(json!({"type": "ping"})).await;
        let deadline = Deadline::secs(10, "a pong");
        loop {
            deadline.check();
            let f = ws.recv().await;
            let t = f["type"].as_str().unwrap_or("");
            if t == "pong" {
                break;
            }
            assert!(t != "assigned" && !(name == "visitor" && t == "agent_status"), "{name} got {f}");
            assert!(!(name == "bob" && t == "message"), "bob got a message of Ann's chat: {f}");
        }
    }
}
