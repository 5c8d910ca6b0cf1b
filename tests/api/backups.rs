//! Scheduled daily backups (SPEC A4), driven by the manual clock: one per day at the
//! configured local time, verified, copied when configured, the oldest pruned.

use frontdesk::auth::Scope;
use frontdesk::clock::Clock;
use frontdesk::db::backup::{self, daily_slot, local_offset_ms};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

const DAY: i64 = 86_400_000;

fn daily_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = backup::list(dir).into_iter().filter(|f| f.kind == "daily").map(|f| f.name).collect();
    v.sort();
    v
}

async fn last_slot(app: &TestApp) -> Option<i64> {
    app.db.read(frontdesk::backups::last_run).await.unwrap().map(|r| r.slot)
}

#[actix_web::test]
async fn daily_backups_run_at_the_configured_time_once_a_day_verified_and_pruned() {
    let copies = tempfile::tempdir().unwrap();
    // The backup time: an hour from the test clock's start, local time (whole minutes).
    let start = test_clock_start();
    let minutes = ((start + local_offset_ms(start) + 3_600_000).rem_euclid(DAY) / 60_000) as u32;
    let copy_dir = copies.path().to_path_buf();
    let app = spawn_app_with(move |c| {
        c.backup_time = Some(minutes);
        c.backup_keep = 2;
        c.backup_copy_dir = Some(copy_dir);
    })
    .await;
    let dir = app.data_dir.path().join("backups");
    let now = app.clock.now_ms();
    let yesterday = daily_slot(now, minutes, local_offset_ms(now));
    let today = yesterday + DAY;
    assert!(today > now && today - now <= 3_600_000, "the next slot is within the hour");

    // A fresh server makes up the slot it missed (yesterday's), once.
    frontdesk::backups::run_if_due(&app.state).await.unwrap();
    assert_eq!(last_slot(&app).await, Some(yesterday));
    assert_eq!(daily_files(&dir).len(), 1);
    assert!(frontdesk::backups::run_if_due(&app.state).await.unwrap().is_none());

    // Not before the configured time…
    app.clock.advance(today - now - 1_000);
    assert!(frontdesk::backups::run_if_due(&app.state).await.unwrap().is_none());
    assert_eq!(daily_files(&dir).len(), 1);
    // …then once at it.
    app.clock.advance(2_000);
    frontdesk::backups::run_if_due(&app.state).await.unwrap();
    assert_eq!(last_slot(&app).await, Some(today));
    assert!(frontdesk::backups::run_if_due(&app.state).await.unwrap().is_none());
    assert_eq!(daily_files(&dir).len(), 2);

    // The next day: a third backup, and only the newest two are kept, here and in the copy.
    app.clock.advance(DAY);
    frontdesk::backups::run_if_due(&app.state).await.unwrap();
    assert_eq!(last_slot(&app).await, Some(today + DAY));
    let kept = daily_files(&dir);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept[1], format!("daily-{}.db", backup::timestamp_at(app.clock.now_ms())));
    assert_eq!(daily_files(copies.path()), kept, "the copies are the same files");
    for name in &kept {
        backup::check_integrity(&dir.join(name)).unwrap();
        backup::check_integrity(&copies.path().join(name)).unwrap();
    }
    let last = app.db.read(frontdesk::backups::last_run).await.unwrap().unwrap();
    assert!(last.error.is_none() && last.size.unwrap() > 0 && last.copied_to.is_some());

    // The Backups page shows them with size and time, the schedule and the next run.
    let token = app.api_token(Scope::Admin).await;
    let c = app.plain();
    let v: Value = c.get(app.url("/api/v1/backups")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.iter().filter(|i| i["kind"] == "daily").count(), 2);
    assert!(items.iter().all(|i| i["size"].as_u64().unwrap() > 0 && i["modified_at"].as_i64().unwrap() > 0));
    assert_eq!(v["schedule"]["time"], format!("{:02}:{:02}", minutes / 60, minutes % 60));
    assert_eq!(v["schedule"]["keep"], 2);
    assert_eq!(v["schedule"]["next_at"], today + 2 * DAY);
    assert_eq!(v["last_run"]["slot"], today + DAY);
    // "Back up now" makes a verified manual backup, audited.
    let r = c.post(app.url("/api/v1/backups")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    assert_eq!(made["kind"], "manual");
    backup::check_integrity(&dir.join(made["name"].as_str().unwrap())).unwrap();
}

#[actix_web::test]
async fn backups_are_off_when_no_time_is_configured() {
    let app = spawn_app().await;
    assert!(frontdesk::backups::run_if_due(&app.state).await.unwrap().is_none());
    app.clock.advance(3 * DAY);
    assert!(frontdesk::backups::run_if_due(&app.state).await.unwrap().is_none());
    assert!(daily_files(&app.data_dir.path().join("backups")).is_empty());
    let token = app.api_token(Scope::Admin).await;
    let v: Value = app.plain().get(app.url("/api/v1/backups")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(v["schedule"]["time"].is_null() && v["schedule"]["next_at"].is_null());
}
