//! The live monitor's graphs of the last hours (issue 13, M1): pushed in the `monitor` frame,
//! computed from the stored facts (the same over HTTP, so the same after a restart), one point
//! per 5 minutes holding the highest value within it.

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws;

const STEP: i64 = 300_000;

fn last(m: &Value) -> &Value {
    m["history"]["points"].as_array().and_then(|p| p.last()).unwrap_or_else(|| panic!("no history: {m}"))
}

fn point(m: &Value, at: i64) -> &Value {
    m["history"]["points"].as_array().unwrap().iter().find(|p| p["at"] == at).unwrap_or_else(|| panic!("no point at {at}: {m}"))
}

#[actix_web::test]
async fn the_monitor_graphs_follow_the_queue_and_are_the_stored_facts() {
    let app = spawn_app().await;
    let sup = app.add_agent("sue@shop.example", Role::Supervisor).await;
    let agent = app.add_agent("ann@shop.example", Role::Agent).await;
    // Accepting with no slot: a chat waits.
    let now = app.clock.now_ms();
    app.accepting_without_slots(agent).await;

    let (mut s, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(sup).await)).await;
    s.send(json!({"type": "monitor", "watch": true})).await;
    let m = s.recv_type("monitor").await;
    assert_eq!(m["history"]["step_s"], 300, "{m}");
    assert_eq!(m["history"]["points"].as_array().unwrap().len(), 72, "6 hours of 5 minutes");
    let first_at = last(&m)["at"].as_i64().unwrap();
    assert!(first_at <= now && now < first_at + STEP, "the last point is the current 5 minutes");
    assert_eq!((last(&m)["queue"].as_u64(), last(&m)["accepting"].as_u64()), (Some(0), Some(1)), "{m}");

    let (mut v, _) = ws::visitor(&app.address, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "hello?"})).await;
    v.recv_type("ack").await;
    let deadline = Deadline::secs(10, "the waiting chat in the graph");
    loop {
        deadline.check();
        let m = s.recv_type("monitor").await;
        if last(&m)["queue"] == 1 {
            break;
        }
    }

    // Ten minutes on: new points; the earlier one keeps the chat that waited then.
    app.clock.advance(2 * STEP);
    let deadline = Deadline::secs(10, "the graph to move on");
    let m = loop {
        deadline.check();
        let m = s.recv_type("monitor").await;
        if last(&m)["at"].as_i64().unwrap() == first_at + 2 * STEP {
            break m;
        }
    };
    assert_eq!(point(&m, first_at)["queue"], 1, "{m}");
    assert_eq!(point(&m, first_at + STEP)["queue"], 1, "still waiting: {m}");
    assert_eq!(last(&m)["queue"], 1);
    assert_eq!(point(&m, first_at - STEP)["queue"], 0, "before the chat: {m}");

    // A slot frees up: the chat is served; this point had one waiting and then one in progress.
    let patch = frontdesk::agents::AgentPatch { chat_limit: Some(1), ..Default::default() };
    let now = app.clock.now_ms();
    app.db.write(move |c| frontdesk::agents::update(c, agent, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
    frontdesk::routing::dispatch(&app.state).await;
    let deadline = Deadline::secs(10, "the chat in progress in the graph");
    let pushed = loop {
        deadline.check();
        let m = s.recv_type("monitor").await;
        if m["in_progress"] == 1 && last(&m)["in_progress"] == 1 {
            break m;
        }
    };
    assert_eq!((last(&pushed)["queue"].as_u64(), pushed["queue"].as_u64()), (Some(1), Some(0)), "the peak stays: {pushed}");
    assert_eq!(point(&pushed, first_at)["in_progress"], 0);

    // Read afresh from the stored facts (as after a restart): the same graphs as pushed.
    let cookie = app.cookie_header(&app.session_for(sup).await);
    let fresh: Value = app.plain().get(app.url("/api/v1/monitor")).header("cookie", cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(fresh["history"], pushed["history"]);
}
