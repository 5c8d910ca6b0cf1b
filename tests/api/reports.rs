//! Reports on the real server (issue 13): 8 weeks of seeded activity → report totals equal
//! counts taken directly from the stored rows, the previous-period comparison, CSV rows equal
//! to the JSON rows, streamed exports with a metrics token, malformed input, and the live
//! monitor turning red on the manual clock.

use frontdesk::auth::{Role, Scope};
use frontdesk::clock::Clock;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ws;

const FROM: Date = date(2026, 2, 23); // a Monday; the range crosses the spring DST change
const TO: Date = date(2026, 4, 19); // a Sunday: 8 weeks

fn tz() -> TimeZone {
    TimeZone::get("Europe/Warsaw").unwrap()
}

fn local_ms(d: Date) -> i64 {
    d.to_zoned(tz()).unwrap().timestamp().as_millisecond()
}

/// A tiny deterministic generator.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// 12 weeks of chats, tickets and status changes (the 8 reported and the 4 before them).
async fn seed(app: &TestApp, agents: &[i64]) {
    let agents = agents.to_vec();
    let start = local_ms(FROM) - 28 * 86_400_000;
    let end = local_ms(TO.tomorrow().unwrap());
    app.db
        .write(move |c| {
            c.execute("INSERT INTO departments (name, visible, created_at) VALUES ('Support', 1, 0)", [])?;
            let dept = c.last_insert_rowid();
            c.execute("INSERT INTO visitors (token_hash, first_seen_at, last_seen_at) VALUES (x'01', 0, 0)", [])?;
            let visitor = c.last_insert_rowid();
            let mut rng = Lcg(42);
            let mut t = start;
            let mut number = 5000;
            while t < end {
                t += 600_000 + rng.next(3 * 3_600_000) as i64;
                let agent = agents[rng.next(agents.len() as u64) as usize];
                let d = if rng.next(2) == 0 { Some(dept) } else { None };
                // served, missed after waiting, cancelled within 20 s, missed at 21 s, still open
                match rng.next(10) {
                    0..=5 => c.execute(
                        "INSERT INTO conversations (visitor_id, department_id, agent_id, status, outcome, ended_by, created_at, assigned_at, first_agent_reply_at, ended_at)
                         VALUES (?1, ?2, ?3, 'ended', 'served', 'agent', ?4, ?4 + ?5, ?4 + ?5 + ?6, ?4 + 900000)",
                        rusqlite::params![visitor, d, agent, t, rng.next(60_000) as i64, rng.next(120_000) as i64],
                    )?,
                    6 => c.execute(
                        "INSERT INTO conversations (visitor_id, department_id, status, outcome, ended_by, created_at, ended_at)
                         VALUES (?1, ?2, 'ended', 'missed', 'timeout', ?3, ?3 + 600000)",
                        rusqlite::params![visitor, d, t],
                    )?,
                    7 => c.execute(
                        "INSERT INTO conversations (visitor_id, department_id, status, outcome, ended_by, created_at, ended_at)
                         VALUES (?1, ?2, 'ended', 'cancelled', 'visitor', ?3, ?3 + 19000)",
                        rusqlite::params![visitor, d, t],
                    )?,
                    8 => c.execute(
                        "INSERT INTO conversations (visitor_id, department_id, status, outcome, ended_by, created_at, ended_at)
                         VALUES (?1, ?2, 'ended', 'missed', 'visitor', ?3, ?3 + 21000)",
                        rusqlite::params![visitor, d, t],
                    )?,
                    _ => c.execute(
                        "INSERT INTO conversations (visitor_id, department_id, agent_id, status, created_at, assigned_at) VALUES (?1, ?2, ?3, 'active', ?4, ?4 + 5000)",
                        rusqlite::params![visitor, d, agent, t],
                    )?,
                };
                if rng.next(3) == 0 {
                    number += 1;
                    let solved = (rng.next(3) > 0).then(|| t + rng.next(14 * 86_400_000) as i64);
                    let status = if solved.is_some() { "solved" } else if rng.next(10) == 0 { "spam" } else { "open" };
                    let source = ["email", "offline", "chat"][rng.next(3) as usize];
                    c.execute(
                        "INSERT INTO tickets (number, subject, status, source, department_id, created_at, updated_at, solved_at, first_reply_at)
                         VALUES (?1, 'Order', ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
                        rusqlite::params![number, status, source, d, t, solved, solved.map(|s| (s + t) / 2)],
                    )?;
                    if rng.next(2) == 0 {
                        c.execute("INSERT INTO ticket_tags (ticket_id, tag) VALUES (?1, 'vip')", [c.last_insert_rowid()])?;
                    }
                }
                if rng.next(4) == 0 {
                    let to = ["accepting", "not_accepting", "offline"][rng.next(3) as usize];
                    c.execute(
                        "INSERT INTO agent_status_history (agent_id, from_status, to_status, at, reason) VALUES (?1, 'offline', ?2, ?3, 'manual')",
                        rusqlite::params![agent, to, t],
                    )?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// (total, served, missed, cancelled, open) of chats that started in `[a, b)`, straight from the rows.
async fn stored_chats(app: &TestApp, a: i64, b: i64) -> [u64; 5] {
    app.db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*), sum(outcome = 'served'), sum(outcome = 'missed'), sum(outcome = 'cancelled'), sum(status != 'ended')
                 FROM conversations WHERE created_at >= ?1 AND created_at < ?2",
                [a, b],
                |r| {
                    Ok([
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                        r.get::<_, i64>(3)? as u64,
                        r.get::<_, i64>(4)? as u64,
                    ])
                },
            )?)
        })
        .await
        .unwrap()
}

fn figures(v: &Value) -> [u64; 5] {
    ["total", "served", "missed", "cancelled", "open"].map(|k| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}")))
}

async fn get(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = client.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[actix_web::test]
async fn report_totals_equal_the_stored_rows_and_csv_matches() {
    // The seeded open chats stay open: the idle-chat job would end them mid-test.
    let app = spawn_app_with(|c| c.chat_idle_timeout = std::time::Duration::from_secs(20 * 365 * 86_400)).await;
    let admin = app.add_agent("admin@shop.example", Role::Admin).await;
    let a1 = app.add_agent("ann@shop.example", Role::Agent).await;
    let a2 = app.add_agent("bob@shop.example", Role::Agent).await;
    seed(&app, &[a1, a2]).await;
    let client = app.login("admin@shop.example").await;
    let _ = admin;
    // The shop's time zone.
    let r = client
        .patch(app.url("/api/v1/settings/reports"))
        .header("origin", &app.address)
        .json(&json!({"timezone": "Europe/Warsaw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Weekly chats with the previous 8 weeks for comparison.
    let url = app.url(&format!("/api/v1/reports/chats?from={FROM}&to={TO}&granularity=week&compare=previous"));
    let (status, body) = get(&client, url.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    let (start, end) = (local_ms(FROM), local_ms(TO.tomorrow().unwrap()));
    let want = stored_chats(&app, start, end).await;
    assert!(want[0] > 300, "the seed made {want:?}");
    assert_eq!(figures(&report["totals"]), want);
    // Each week, bounded by local Monday midnights (the DST week is 167 hours).
    let mut monday = FROM;
    for row in rows {
        assert_eq!(row["period"], monday.to_string());
        let next = monday.checked_add(jiff::ToSpan::days(7)).unwrap();
        assert_eq!(figures(row), stored_chats(&app, local_ms(monday), local_ms(next)).await, "week {monday}");
        monday = next;
    }
    // The previous period: the 8 weeks before (only 4 of them seeded).
    let prev_from = FROM.checked_sub(jiff::ToSpan::days(56)).unwrap();
    assert_eq!(report["previous"]["from"], prev_from.to_string());
    assert_eq!(report["previous"]["to"], FROM.yesterday().unwrap().to_string());
    let before = stored_chats(&app, local_ms(prev_from), start).await;
    assert_eq!(figures(&report["previous"]["totals"]), before);
    let worse: Vec<&str> = report["worse"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(worse.contains(&"missed"), want[2] > before[2]);
    assert_eq!(worse.contains(&"served"), want[1] < before[1]);
    assert!(!worse.contains(&"total"), "volume has no better direction");
    // The first response time, straight from the rows.
    let avg: f64 = app
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT avg(first_agent_reply_at - created_at) / 1000.0 FROM conversations WHERE created_at >= ?1 AND created_at < ?2 AND first_agent_reply_at IS NOT NULL",
                [start, end],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert!((report["totals"]["first_response_avg_s"].as_f64().unwrap() - avg).abs() < 0.06);

    // CSV: a header row, then the same rows.
    let r = client.get(format!("{url}&format=csv")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), rows.len() + 1);
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[0], "period");
    for (line, row) in lines[1..].iter().zip(rows) {
        for (k, v) in header.iter().zip(line.split(',')) {
            let want = match &row[*k] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(v, want, "{k} in {line}");
        }
    }

    // Tickets: created, solved and backlog from the rows.
    let (status, body) = get(&client, app.url(&format!("/api/v1/reports/tickets?from={FROM}&to={TO}&granularity=month"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t: Value = serde_json::from_str(&body).unwrap();
    let stored: [u64; 3] = app
        .db
        .read(move |c| {
            let n = |sql: &str| c.query_row(sql, [start, end], |r| r.get::<_, i64>(0)).map(|v| v as u64);
            Ok([
                n("SELECT count(*) FROM tickets WHERE created_at >= ?1 AND created_at < ?2")?,
                n("SELECT count(*) FROM tickets WHERE solved_at >= ?1 AND solved_at < ?2")?,
                n("SELECT count(*) FROM tickets WHERE status != 'spam' AND created_at < ?2 AND (solved_at IS NULL OR solved_at >= ?2) AND ?1 = ?1")?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(
        [t["totals"]["created"].as_u64().unwrap(), t["totals"]["solved"].as_u64().unwrap(), t["totals"]["backlog"].as_u64().unwrap()],
        stored
    );
    assert_eq!(
        t["rows"].as_array().unwrap().iter().map(|r| r["period"].as_str().unwrap()).collect::<Vec<_>>(),
        ["2026-02", "2026-03", "2026-04"]
    );
    let created_sum: u64 = t["rows"].as_array().unwrap().iter().map(|r| r["created"].as_u64().unwrap()).sum();
    assert_eq!(created_sum, stored[0]);

    // Agents: chats per agent from the rows.
    let (status, body) = get(&client, app.url(&format!("/api/v1/reports/agents?from={FROM}&to={TO}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ag: Value = serde_json::from_str(&body).unwrap();
    for a in [a1, a2] {
        let n: i64 = app
            .db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM conversations WHERE agent_id = ?1 AND created_at >= ?2 AND created_at < ?3",
                    [a, start, end],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        let row = ag["rows"].as_array().unwrap().iter().find(|r| r["agent_id"] == a).unwrap_or_else(|| panic!("agent {a} in {ag}"));
        assert_eq!(row["chats"].as_i64().unwrap(), n);
        assert!(row["online_s"].as_i64().unwrap() >= 0);
    }

    // Heatmap: 168 cells whose chats add up to the total.
    let (_, body) = get(&client, app.url(&format!("/api/v1/reports/heatmap?from={FROM}&to={TO}"))).await;
    let h: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["rows"].as_array().unwrap().len(), 168);
    assert_eq!(h["totals"]["chats"].as_f64().unwrap() as u64, want[0]);

    // Tags: the ticket tags of the period.
    let (_, body) = get(&client, app.url(&format!("/api/v1/reports/tags?from={FROM}&to={TO}"))).await;
    let tags: Value = serde_json::from_str(&body).unwrap();
    let vip: i64 = app
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM ticket_tags g JOIN tickets t ON t.id = g.ticket_id WHERE g.tag = 'vip' AND t.created_at >= ?1 AND t.created_at < ?2",
                [start, end],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(tags["rows"][0], json!({"tag": "vip", "tickets": vip, "chats": 0}));

    // A script with a metrics (read-only) token: the same report, and the streamed exports.
    let token = app.api_token(Scope::Metrics).await;
    let r = app.plain().get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r =
        app.plain().get(app.url(&format!("/api/v1/exports/conversations?from={FROM}&to={TO}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,department,agent,"));
    assert_eq!(lines.len() as u64 - 1, want[0], "one line per chat of the period");
    let served = lines.iter().filter(|l| l.contains(",served,")).count() as u64;
    assert_eq!(served, want[1]);
    let r = app.plain().get(app.url(&format!("/api/v1/exports/tickets?from={FROM}&to={TO}"))).bearer_auth(&token).send().await.unwrap();
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count() as u64 - 1, stored[0]);
}

#[actix_web::test]
async fn malformed_report_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.add_agent("admin@shop.example", Role::Admin).await;
    let client = app.login("admin@shop.example").await;
    let cases = [
        ("/api/v1/reports/chats", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-02-01&to=2026-01-01", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-13-01", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2020-01-01&to=2026-01-01", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-01-02&granularity=year", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-12-31&granularity=hour", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-01-02&format=xml", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-01-02&compare=next", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-01-02&department_id=x", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-01-02&agent_id=-1", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-01-02&exclude_non_target=maybe", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&to=2026-01-02&colour=red", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/reports/chats?from=2026-01-01&from=2026-01-02&to=2026-01-02", StatusCode::BAD_REQUEST, "invalid_input"),
        ("/api/v1/exports/tickets?from=2026-01-01&to=2026-01-02&granularity=week", StatusCode::BAD_REQUEST, "invalid_input"),
    ];
    for (path, status, code) in cases {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(error_code(r).await, (status, code.to_string()), "{path}");
    }
    let settings_before = app.dump("settings").await;
    let bad_settings = [
        json!({"timezone": "Mars/Olympus"}),
        json!({"wait_norm_s": 0}),
        json!({"department_wait_norm_s": {"999": 30}}),
        json!({"colour": "red"}),
        json!({"wait_norm_s": "soon"}),
    ];
    for body in bad_settings {
        let r = client.patch(app.url("/api/v1/settings/reports")).header("origin", &app.address).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let bad_metrics = [json!({"metrics": ["chats.nope"]}), json!({"metrics": ["served"]}), json!({"metrics": "chats.served"}), json!({})];
    for body in bad_metrics {
        let r = client.put(app.url("/api/v1/me/report-metrics")).header("origin", &app.address).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(app.dump("settings").await, settings_before, "refused input changed nothing");
    // The metric choice is kept per user.
    let r = client
        .put(app.url("/api/v1/me/report-metrics"))
        .header("origin", &app.address)
        .json(&json!({"metrics": ["chats.served", "tickets.backlog"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = client.get(app.url("/api/v1/me/report-metrics")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["metrics"], json!(["chats.served", "tickets.backlog"]));
    app.add_agent("sue@shop.example", Role::Supervisor).await;
    let other = app.login("sue@shop.example").await;
    let v: Value = other.get(app.url("/api/v1/me/report-metrics")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["metrics"], Value::Null, "another user's choice is their own");
}

#[actix_web::test]
async fn the_monitor_turns_red_past_the_norm_without_free_slots_and_back_when_served() {
    let app = spawn_app().await;
    let sup = app.add_agent("sue@shop.example", Role::Supervisor).await;
    let agent = app.add_agent("ann@shop.example", Role::Agent).await;
    // Accepting but with no slot: the chat starts and waits (SPEC W6).
    app.accepting_without_slots(agent).await;

    // An agent may not watch the monitor; malformed frames are refused.
    let (mut plain, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(agent).await)).await;
    plain.send(json!({"type": "monitor", "watch": true})).await;
    assert_eq!(plain.recv_type("error").await["code"], "forbidden");
    plain.send(json!({"type": "monitor", "watch": "yes"})).await;
    assert_eq!(plain.recv_type("error").await["code"], "invalid_frame");
    plain.send(json!({"type": "monitor"})).await;
    assert_eq!(plain.recv_type("error").await["code"], "invalid_frame");

    let (mut s, _) = ws::agent(&app.address, &app.cookie_header(&app.session_for(sup).await)).await;
    s.send(json!({"type": "monitor", "watch": true})).await;
    let m = s.recv_type("monitor").await;
    assert_eq!((m["queue"].as_u64(), m["alert"].as_bool()), (Some(0), Some(false)), "{m}");

    let (mut v, _) = ws::visitor(&app.address, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "hello?"})).await;
    v.recv_type("ack").await;
    let deadline = Deadline::secs(10, "the queued chat on the monitor");
    loop {
        deadline.check();
        let m = s.recv_type("monitor").await;
        if m["queue"] == 1 {
            assert_eq!(m["alert"], false, "within the norm: {m}");
            break;
        }
    }
    app.clock.advance(61_000);
    let deadline = Deadline::secs(10, "the monitor to turn red");
    loop {
        deadline.check();
        let m = s.recv_type("monitor").await;
        if m["alert"] == true {
            assert!(m["longest_wait_s"].as_i64().unwrap() >= 61, "{m}");
            assert_eq!(m["free_slots"], 0);
            break;
        }
    }
    // The same picture over HTTP.
    // (A session minted directly: signing in would restore Sue's status and give her the chat.)
    let cookie = app.cookie_header(&app.session_for(sup).await);
    let m: Value = app.plain().get(app.url("/api/v1/monitor")).header("cookie", cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(m["alert"], true);
    // A slot frees up: the chat is assigned and the monitor is back to normal.
    let patch = frontdesk::agents::AgentPatch { chat_limit: Some(1), ..Default::default() };
    let now = app.clock.now_ms();
    app.db.write(move |c| frontdesk::agents::update(c, agent, patch, &frontdesk::audit::Actor::cli(), now)).await.unwrap();
    frontdesk::routing::dispatch(&app.state).await;
    let deadline = Deadline::secs(10, "the monitor back to normal");
    loop {
        deadline.check();
        let m = s.recv_type("monitor").await;
        if m["alert"] == false {
            assert_eq!((m["queue"].as_u64(), m["in_progress"].as_u64()), (Some(0), Some(1)), "{m}");
            break;
        }
    }
    // Stop watching: no more monitor frames after the change below.
    s.send(json!({"type": "monitor", "watch": false})).await;
    s.send(json!({"type": "ping"})).await;
    s.recv_type("pong").await;
}

#[actix_web::test]
async fn visitors_ratings_and_chat_tags_feed_csat_and_the_non_target_exclusion() {
    let app = spawn_app().await;
    app.add_agent("admin@shop.example", Role::Admin).await;
    let ann = app.add_agent("ann@shop.example", Role::Agent).await;
    let day = local_ms(FROM) + 10 * 3_600_000;
    // Three served chats of Ann's: rated good, rated bad, and one tagged non-target (rated good).
    app.db
        .write(move |c| {
            for (i, (rating, tag)) in [("good", None), ("bad", None), ("good", Some("non-target"))].into_iter().enumerate() {
                let at = day + i as i64 * 60_000;
                c.execute("INSERT INTO visitors (token_hash, first_seen_at, last_seen_at) VALUES (randomblob(32), ?1, ?1)", [at])?;
                let visitor = c.last_insert_rowid();
                c.execute(
                    "INSERT INTO conversations (visitor_id, agent_id, status, outcome, ended_by, created_at, assigned_at, first_agent_reply_at, ended_at)
                     VALUES (?1, ?2, 'ended', 'served', 'agent', ?3, ?3, ?3 + 5000, ?3 + 30000)",
                    rusqlite::params![visitor, ann, at],
                )?;
                let conv = c.last_insert_rowid();
                c.execute(
                    "INSERT INTO chat_ratings (conversation_id, agent_id, rating, rated_at) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![conv, ann, rating, at + 40_000],
                )?;
                if let Some(t) = tag {
                    c.execute("INSERT INTO conversation_tags (conversation_id, tag) VALUES (?1, ?2)", rusqlite::params![conv, t])?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    let client = app.login("admin@shop.example").await;
    let report = |extra: &'static str| {
        let client = client.clone();
        let url = app.url(&format!("/api/v1/reports/chats?from={FROM}&to={FROM}&granularity=day{extra}"));
        async move {
            let (status, body) = get(&client, url).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()["totals"].clone()
        }
    };
    let all = report("").await;
    assert_eq!((all["rated"].as_i64(), all["csat"].as_f64().map(f64::round)), (Some(3), Some(67.0)), "{all}");
    let target = report("&exclude_non_target=true").await;
    assert_eq!((target["rated"].as_i64(), target["csat"].as_f64()), (Some(2), Some(50.0)), "{target}");
    let (status, body) = get(&client, app.url(&format!("/api/v1/reports/tags?from={FROM}&to={FROM}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("non-target"), "the tags report counts the tagged chat: {body}");
}

/// The rebuild part of the V27 migration (between its markers): the response counters of every
/// chat from its stored messages.
fn v27_rebuild() -> &'static str {
    const V27: &str = include_str!("../../migrations/V27__report_facts.sql");
    V27.split("-- rebuild: begin").nth(1).and_then(|s| s.split("-- rebuild: end").next()).expect("markers in V27")
}

/// Per chat: (response sum ms, answered turns, waiting since) as stored, and as recomputed from
/// its messages by the figure's one definition (`reports::response_turns`).
async fn response_counters(app: &TestApp, ids: Vec<i64>) -> Vec<((i64, u64, Option<i64>), (i64, u64, Option<i64>))> {
    app.db
        .read(move |c| {
            let mut out = Vec::new();
            for id in &ids {
                let stored =
                    c.query_row("SELECT response_sum_ms, responses, awaiting_reply_since FROM conversations WHERE id = ?1", [id], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, Option<i64>>(2)?))
                    })?;
                let mut st = c.prepare("SELECT author_kind, internal, created_at FROM messages WHERE conversation_id = ?1 ORDER BY seq")?;
                let lines = st
                    .query_map([id], |r| {
                        Ok((frontdesk::reports::Speaker::of(&r.get::<_, String>(0)?, r.get::<_, bool>(1)?), r.get::<_, i64>(2)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let t = frontdesk::reports::response_turns(lines);
                out.push((stored, (t.sum_ms, t.answered, t.waiting_since)));
            }
            Ok(out)
        })
        .await
        .unwrap()
}

/// Response time and invitations (issue 13's figures) against the stored rows: after random
/// chat activity — visitor and agent lines from two agents, internal whispers and transfer
/// notes, system lines — each chat's response counters (kept by every message in its own
/// transaction) equal a recompute from its messages, the V27 migration's rebuild gives the
/// same, and the chats report's `response_avg_s` is the mean over every answered turn;
/// `invitations_sent` / `invitations_accepted` equal the invitation rows of the period, with
/// the department filter and a tag filter (only accepted ones have a chat to carry a tag).
#[actix_web::test]
async fn response_time_and_invitations_equal_the_stored_rows() {
    use frontdesk::chat::store::{NewMessage, insert_message};
    let app = spawn_app_with(|c| c.chat_idle_timeout = std::time::Duration::from_secs(20 * 365 * 86_400)).await;
    app.add_agent("admin@shop.example", Role::Admin).await;
    let ann = app.add_agent("ann@shop.example", Role::Agent).await;
    let bob = app.add_agent("bob@shop.example", Role::Agent).await;
    let day = local_ms(FROM) + 9 * 3_600_000;
    let (ids, dept) = app
        .db
        .write(move |c| {
            c.execute("INSERT INTO departments (name, visible, created_at) VALUES ('Sales', 1, 0)", [])?;
            let dept = c.last_insert_rowid();
            let mut ids = Vec::new();
            for _ in 0..12 {
                c.execute("INSERT INTO visitors (token_hash, first_seen_at, last_seen_at) VALUES (randomblob(32), ?1, ?1)", [day])?;
                let visitor = c.last_insert_rowid();
                c.execute(
                    "INSERT INTO conversations (visitor_id, agent_id, status, created_at, assigned_at) VALUES (?1, ?2, 'active', ?3, ?3)",
                    rusqlite::params![visitor, ann, day],
                )?;
                ids.push(c.last_insert_rowid());
            }
            let mut rng = Lcg(7);
            let mut t = day;
            for _ in 0..600 {
                t += 1 + rng.next(90_000) as i64;
                let conversation = ids[rng.next(ids.len() as u64) as usize];
                let (author_kind, agent_id, internal) = match rng.next(10) {
                    0..=3 => ("visitor", None, false),
                    4 | 5 => ("agent", Some(ann), false),
                    6 => ("agent", Some(bob), false),
                    7 => ("agent", Some(bob), true),
                    8 => ("system", None, false),
                    _ => ("system", Some(ann), true),
                };
                let m =
                    NewMessage { conversation, author_kind, agent_id, client_id: None, body: "x", attachment_id: None, internal, now: t };
                insert_message(c, &m)?;
            }
            // Invitations that day: accepted (two with a chat, one tagged), still sent, ignored,
            // closed; one of Sales; and one the day after (outside the period).
            for (status, conv, d, at) in [
                ("accepted", Some(ids[0]), Some(dept), day),
                ("accepted", Some(ids[1]), None, day + 60_000),
                ("sent", None, Some(dept), day + 120_000),
                ("ignored", None, None, day + 180_000),
                ("closed", None, None, day + 240_000),
                ("accepted", Some(ids[2]), None, day + 86_400_000),
            ] {
                c.execute(
                    "INSERT INTO invitations (visitor_id, agent_id, agent_name, department_id, body, status, sent_at, conversation_id)
                     SELECT visitor_id, ?1, 'Ann', ?2, 'Hi', ?3, ?4, ?5 FROM conversations WHERE id = ?6",
                    rusqlite::params![ann, d, status, at, conv, ids[0]],
                )?;
            }
            c.execute("INSERT INTO conversation_tags (conversation_id, tag) VALUES (?1, 'promo')", [ids[1]])?;
            Ok((ids, dept))
        })
        .await
        .unwrap();

    let live = response_counters(&app, ids.clone()).await;
    for (i, (stored, recomputed)) in live.iter().enumerate() {
        assert_eq!(stored, recomputed, "chat {}", ids[i]);
    }
    let (sum, n): (i64, u64) = live.iter().fold((0, 0), |a, (s, _)| (a.0 + s.0, a.1 + s.1));
    assert!(n > 50 && live.iter().any(|(s, _)| s.2.is_some()), "the activity made {n} answered turns: {live:?}");
    // The migration's rebuild from the messages gives the same counters.
    app.db
        .write(|c| {
            c.execute_batch("UPDATE conversations SET response_sum_ms = 0, responses = 0, awaiting_reply_since = NULL")?;
            c.execute_batch(v27_rebuild())?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(response_counters(&app, ids.clone()).await, live);

    let client = app.login("admin@shop.example").await;
    let totals = |extra: String| {
        let client = client.clone();
        let url = app.url(&format!("/api/v1/reports/chats?from={FROM}&to={FROM}{extra}"));
        async move {
            let (status, body) = get(&client, url).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()["totals"].clone()
        }
    };
    let all = totals(String::new()).await;
    let mean = ((sum as f64 / n as f64) / 100.0).round() / 10.0;
    assert_eq!(all["response_avg_s"].as_f64(), Some(mean), "{all}");
    assert_eq!((all["invitations_sent"].as_u64(), all["invitations_accepted"].as_u64()), (Some(5), Some(2)), "{all}");
    let sales = totals(format!("&department_id={dept}")).await;
    assert_eq!((sales["invitations_sent"].as_u64(), sales["invitations_accepted"].as_u64()), (Some(2), Some(1)), "{sales}");
    let promo = totals("&tag=promo".into()).await;
    assert_eq!((promo["invitations_sent"].as_u64(), promo["invitations_accepted"].as_u64()), (Some(1), Some(1)), "{promo}");
    // The CSV carries the new columns too.
    let (status, csv) = get(&client, app.url(&format!("/api/v1/reports/chats?from={FROM}&to={FROM}&format=csv"))).await;
    assert_eq!(status, StatusCode::OK);
    let header = csv.lines().next().unwrap();
    for col in ["response_avg_s", "invitations_sent", "invitations_accepted"] {
        assert!(header.split(',').any(|c| c == col), "{col} in {header}");
    }
}
