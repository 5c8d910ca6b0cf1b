//! Daily summary mail (SPEC E6): seeded activity → at the configured local time each agent who
//! gets summaries receives one (in aiosmtpd), with the seeded figures, once per day; the
//! `summary send` CLI prints it (`--dry-run`) and queues it once.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use frontdesk::auth::Role;
use frontdesk::clock::Clock;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::mail_out::{Sink, decoded, header};

const WARSAW: &str = "Europe/Warsaw";

/// ms of a local time on `day` in `tz`.
fn local(day: Date, h: i8, m: i8, s: i8, tz: &TimeZone) -> i64 {
    day.at(h, m, s, 0).to_zoned(tz.clone()).unwrap().timestamp().as_millisecond()
}

/// The seeded day of one agent: chats (start, reply after s, outcome), ticket replies and tickets.
struct Seed {
    chats: Vec<(i64, Option<i64>, &'static str)>,
    replies: Vec<i64>,
    /// (created, status, solved at)
    tickets: Vec<(i64, &'static str, Option<i64>)>,
}

async fn seed(app: &TestApp, agent: i64, s: Seed) {
    app.db
        .write(move |c| {
            c.execute(
                "INSERT INTO visitors (token_hash, first_seen_at, last_seen_at) VALUES (randomblob(32), 0, 0)",
                [],
            )?;
            let visitor = c.last_insert_rowid();
            for (start, reply, outcome) in &s.chats {
                c.execute(
                    "INSERT INTO conversations (visitor_id, agent_id, status, outcome, created_at, assigned_at, first_agent_reply_at, ended_at)
                     VALUES (?1, ?2, 'ended', ?3, ?4 - 5000, ?4, ?5, ?4 + 600000)",
                    rusqlite::params![visitor, agent, outcome, start, reply.map(|r| start + r * 1000)],
                )?;
            }
            let number: i64 = c.query_row("SELECT coalesce(max(number), 1000) + 1 FROM tickets", [], |r| r.get(0))?;
            c.execute(
                "INSERT INTO tickets (number, subject, status, source, agent_id, created_at, updated_at) VALUES (?1, 'seed', 'open', 'manual', ?2, 0, 0)",
                rusqlite::params![number, agent],
            )?;
            let holder = c.last_insert_rowid();
            for at in &s.replies {
                c.execute(
                    "INSERT INTO ticket_messages (ticket_id, kind, agent_id, body, created_at) VALUES (?1, 'reply', ?2, 'r', ?3)",
                    rusqlite::params![holder, agent, at],
                )?;
            }
            // The holder ticket only carries replies: solved long ago, it counts nowhere.
            c.execute("UPDATE tickets SET status = 'solved', solved_at = 1 WHERE id = ?1", [holder])?;
            for (i, (created, status, solved)) in s.tickets.iter().enumerate() {
                c.execute(
                    "INSERT INTO tickets (number, subject, status, source, agent_id, created_at, updated_at, solved_at)
                     VALUES (?1, 'seed', ?2, 'manual', ?3, ?4, ?4, ?5)",
                    rusqlite::params![number + 1 + i as i64, status, agent, created, solved],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

fn token_client(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(h).build().unwrap()
}

async fn patch(client: &reqwest::Client, app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let r = client.patch(app.url(path)).json(&body).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// The cells of the text part's row labelled `label` (cells are separated by 2+ spaces).
fn row(text: &str, label: &str) -> Vec<String> {
    let line = text.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no row {label:?} in:\n{text}"));
    line[label.len()..].split("  ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect()
}

fn summaries_in(sink: &Sink) -> Vec<String> {
    sink.mails().into_iter().filter(|m| header(m, "Message-ID").is_some_and(|h| h.contains("fd.summary."))).collect()
}

/// Whether the scheduler would take the writer for summaries now.
async fn pending(app: &TestApp) -> bool {
    let at = app.clock.now_ms();
    app.db.read(move |c| frontdesk::mail::summary::pending(c, at)).await.unwrap()
}

async fn outbox_summaries(app: &TestApp) -> i64 {
    app.db.read(|c| Ok(c.query_row("SELECT count(*) FROM outbox WHERE kind = 'daily_summary'", [], |r| r.get(0))?)).await.unwrap()
}

#[actix_web::test]
async fn summaries_go_once_per_agent_and_day_at_the_shops_local_time_with_the_seeded_figures() {
    let mut sink = Sink::on_free_port();
    sink.start();
    let smtp = sink.url();
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(frontdesk::mail::SmtpUrl::parse(&smtp).unwrap());
        c.mail_from = Some("Shop support <support@shop.example>".into());
    })
    .await;
    let ann = app.add_agent("ann@shop.example", Role::Admin).await;
    let olga = app.add_agent("olga@shop.example", Role::Agent).await;
    let bob = app.add_agent("bob@shop.example", Role::Agent).await;
    let _quiet = app.add_agent("carl@shop.example", Role::Agent).await;
    app.db.write(move |c| Ok(c.execute("UPDATE agents SET locale = 'ru' WHERE id = ?1", [olga])?)).await.unwrap();
    let admin = token_client(&app.api_token(frontdesk::auth::Scope::Admin).await);

    // The schedule: bad values are refused and change nothing.
    for bad in
        [json!({"summary_time": "25:00"}), json!({"summary_time": "6pm"}), json!({"timezone": "Mars/Base"}), json!({"summary_time": 18})]
    {
        let (s, b) = patch(&admin, &app, "/api/v1/settings/mail", bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
        assert!(b["error"]["code"].is_string(), "{b}");
    }
    let (_, before) = patch(&admin, &app, "/api/v1/settings/mail", json!({})).await;
    assert_eq!((before["summary_time"].as_str(), before["timezone"].as_str()), (Some("18:00"), Some("UTC")), "defaults");
    let (s, set) = patch(&admin, &app, "/api/v1/settings/mail", json!({"summary_time": "18:00", "timezone": WARSAW})).await;
    assert_eq!(s, StatusCode::OK, "{set}");
    assert_eq!((set["summary_time"].as_str(), set["timezone"].as_str()), (Some("18:00"), Some(WARSAW)));

    // Bob opts out in his profile (a wrong type is refused).
    let bob_client = app.login("bob@shop.example").await;
    let origin = app.address.clone();
    let r = bob_client.patch(app.url("/api/v1/me")).header("Origin", &origin).json(&json!({"daily_summary": "no"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let me: Value = bob_client.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["daily_summary"], true, "on unless opted out");
    let r = bob_client.patch(app.url("/api/v1/me")).header("Origin", &origin).json(&json!({"daily_summary": false})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["daily_summary"], false);

    // Tomorrow in Warsaw is the day D; a week earlier is the comparison.
    let tz = TimeZone::get(WARSAW).unwrap();
    let now = app.clock.now_ms();
    let d = jiff::Timestamp::from_millisecond(now).unwrap().to_zoned(tz.clone()).date().tomorrow().unwrap();
    let week_before = d.checked_sub(jiff::Span::new().days(7)).unwrap();
    let at = |h, m| local(d, h, m, 0, &tz);
    seed(
        &app,
        olga,
        Seed {
            chats: vec![
                (at(9, 0), Some(30), "served"),
                (at(9, 20), Some(90), "served"),
                (at(9, 40), None, "cancelled"),
                (at(11, 0), None, "missed"),
                // The week before: one chat answered in 20 s.
                (local(week_before, 15, 0, 0, &tz), Some(20), "served"),
                // The day after D does not count for D.
                (local(d.tomorrow().unwrap(), 0, 30, 0, &tz), Some(5), "served"),
            ],
            replies: vec![at(9, 50), at(9, 55)],
            tickets: vec![
                (at(10, 0), "open", None),
                (at(10, 0) - 3 * 86_400_000, "solved", Some(at(12, 0))),
                (at(8, 0) - 86_400_000, "pending", None),
            ],
        },
    )
    .await;
    seed(&app, ann, Seed { chats: vec![(at(14, 0), Some(10), "served")], replies: vec![], tickets: vec![] }).await;
    seed(&app, bob, Seed { chats: vec![(at(14, 0), Some(10), "served")], replies: vec![], tickets: vec![] }).await;

    // 17:59:30 local: not yet.
    app.clock.advance(local(d, 17, 59, 30, &tz) - now);
    let r = frontdesk::jobs::run_once(&app.state, 2).await;
    assert!(r.summaries.is_empty(), "{r:?}");
    assert!(!pending(&app).await, "not due before 18:00");
    // 18:00: Ann and Olga (Bob opted out, Carl had a quiet day).
    app.clock.advance(30_000);
    assert!(pending(&app).await, "due at 18:00");
    let r = frontdesk::jobs::run_once(&app.state, 3).await;
    assert_eq!(r.summaries.len(), 2, "{r:?}");
    assert_eq!(r.mail.as_ref().map(|m| m.sent.len()), Some(2), "sent in the same round: {r:?}");
    let mails = sink.wait_for(2).await;
    assert_eq!(summaries_in(&sink).len(), 2);
    let to = |m: &String| header(m, "To").unwrap_or_default();
    let olga_mail = mails.iter().find(|m| to(m).contains("olga@")).expect("Olga's summary").clone();
    let ann_mail = mails.iter().find(|m| to(m).contains("ann@")).expect("Ann's summary").clone();
    assert!(!mails.iter().any(|m| to(m).contains("bob@") || to(m).contains("carl@")));
    for m in [&olga_mail, &ann_mail] {
        assert_eq!(header(m, "Auto-Submitted").as_deref(), Some("auto-generated"));
        assert!(header(m, "Content-Type").unwrap().contains("multipart/alternative"), "{m}");
    }
    // Olga's, in Russian, with the seeded figures next to the week before.
    let text = decoded(&olga_mail);
    assert!(text.contains(&d.to_string()) && text.contains(&week_before.to_string()));
    assert_eq!(row(&text, "Чатов обработано"), ["2", "1"]);
    assert_eq!(row(&text, "Чатов пропущено"), ["1", "0"]);
    assert_eq!(row(&text, "Средний первый ответ"), ["1 мин 0 с", "20 с"]);
    assert_eq!(row(&text, "Оценки"), ["оценок нет", "оценок нет"]);
    assert_eq!(row(&text, "Обращений открыто"), ["1", "0"]);
    assert_eq!(row(&text, "Обращений решено"), ["1", "0"]);
    assert_eq!(row(&text, "Обращений ещё открыто"), ["2", "—"]);
    assert_eq!(row(&text, "Самый загруженный час"), ["09:00–10:00", "15:00–16:00"]);
    assert!(text.contains("1 из 3 чатов, поступивших вам, закончились без ответа"), "the suggestion follows the figures:\n{text}");
    assert!(text.contains("18:00 (Europe/Warsaw)"));
    let text = decoded(&ann_mail);
    assert_eq!(row(&text, "Chats handled"), ["1", "0"]);
    assert_eq!(row(&text, "Average first response"), ["10 s", "—"]);
    assert!(text.contains("Nothing to fix today"), "{text}");

    // Later rounds that day, and a restart's first round, send nothing again.
    for round in [4, 5, 1] {
        app.clock.advance(3_600_000);
        assert!(frontdesk::jobs::run_once(&app.state, round).await.summaries.is_empty());
    }
    assert_eq!(outbox_summaries(&app).await, 2);
    assert!(!pending(&app).await, "the day is done: later rounds do not take the writer");
    // The next day at 18:00: Olga had a chat after midnight, Ann nothing.
    app.clock.advance(local(d.tomorrow().unwrap(), 18, 0, 0, &tz) - app.clock.now_ms());
    let r = frontdesk::jobs::run_once(&app.state, 7).await;
    assert_eq!(r.summaries.len(), 1, "{r:?}");
    sink.wait_for(3).await;
    assert_eq!(outbox_summaries(&app).await, 3);
    let ledger: i64 = app.count("daily_summaries").await;
    assert_eq!(ledger, 3 + 3, "D: Ann, Olga, Carl (quiet); D+1: Ann and Carl (quiet), Olga");

    // Summaries off: nothing more, even on a busy day.
    let (s, b) = patch(&admin, &app, "/api/v1/settings/mail", json!({"summary_time": null})).await;
    assert_eq!((s, b["summary_time"].clone()), (StatusCode::OK, Value::Null));
    seed(&app, olga, Seed { chats: vec![(local(d, 12, 0, 0, &tz) + 2 * 86_400_000, Some(3), "served")], replies: vec![], tickets: vec![] })
        .await;
    app.clock.advance(86_400_000);
    assert!(frontdesk::jobs::run_once(&app.state, 9).await.summaries.is_empty());
}

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

fn cli(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("FRONTDESK_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run frontdesk")
}

fn out(o: &Output) -> (i32, String, String) {
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[actix_web::test]
async fn summary_send_prints_with_dry_run_queues_once_and_refuses_bad_dates() {
    let app = spawn_app().await;
    let olga = app.add_agent("olga@shop.example", Role::Agent).await;
    app.add_agent("carl@shop.example", Role::Agent).await;
    // Yesterday (UTC, the default shop zone) in real time: the CLI reads the real clock.
    let yesterday = jiff::Timestamp::now().to_zoned(TimeZone::UTC).date().yesterday().unwrap();
    let at = |h| local(yesterday, h, 0, 0, &TimeZone::UTC);
    seed(
        &app,
        olga,
        Seed { chats: vec![(at(10), Some(45), "served"), (at(10) + 60_000, None, "missed")], replies: vec![], tickets: vec![] },
    )
    .await;
    let dir = app.data_dir.path();
    let day = yesterday.to_string();

    for (bad, why) in [("2026-02-30", "YYYY-MM-DD"), ("yesterday", "YYYY-MM-DD"), ("2999-01-01", "has not begun")] {
        let (code, stdout, stderr) = out(&cli(dir, &["summary", "send", "--date", bad]));
        assert_eq!(code, 2, "{bad}: {stdout}{stderr}");
        assert!(stderr.contains(why) && stderr.lines().count() == 1, "{bad}: {stderr}");
    }
    let (code, stdout, stderr) = out(&cli(dir, &["summary", "send", "--date", &day, "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("To: olga@shop.example (en)"), "{stdout}");
    assert!(stdout.contains(&format!("Subject: Your day at Support: {day}")), "{stdout}");
    assert_eq!(row(&stdout, "Chats handled"), ["1", "0"]);
    assert_eq!(row(&stdout, "Chats missed"), ["1", "0"]);
    assert_eq!(row(&stdout, "Average first response"), ["45 s", "—"]);
    assert!(stdout.contains("To: carl@shop.example (en)") && stdout.contains("nothing happened that day"), "{stdout}");
    assert_eq!(outbox_summaries(&app).await, 0, "a dry run queues nothing");
    assert_eq!(app.count("daily_summaries").await, 0, "nor remembers anything");

    let (code, stdout, stderr) = out(&cli(dir, &["summary", "send", "--date", &day]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("olga@shop.example: queued (outbox #"), "{stdout}");
    assert!(stdout.contains("carl@shop.example: nothing happened"), "{stdout}");
    assert_eq!(outbox_summaries(&app).await, 1);
    let (code, stdout, _) = out(&cli(dir, &["summary", "send", "--date", &day]));
    assert_eq!(code, 0);
    assert!(stdout.contains("olga@shop.example: the summary of") && stdout.contains("not sent again"), "{stdout}");
    assert_eq!(outbox_summaries(&app).await, 1, "never twice per agent and day");
}
