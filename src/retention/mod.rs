//! Data retention (SPEC A2, A5): how long ended chats, closed tickets, visitor page trails and
//! files are kept. A daily run deletes what has expired in bounded batches, each its own short
//! write job, so chat writes queue behind at most one small batch. Admins set the periods in
//! the console, which shows what the next run will delete.

pub mod http;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::settings;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;
/// Rows per write job.
pub const BATCH: u32 = 500;
/// Runs are this far apart.
pub const EVERY_MS: i64 = DAY_MS;
/// Finished webhook deliveries stay in the delivery log this long.
pub const DELIVERY_LOG_MS: i64 = 30 * DAY_MS;

const KEY: &str = "retention.policy";
const LAST_RUN: &str = "retention.last_run_at";

/// Days to keep each kind of data; 0 keeps it forever (the default).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Ended chats (with their messages), counted from when they ended.
    #[serde(default)]
    pub chats_days: u32,
    /// Solved and spam tickets (with threads and mail), counted from their last change.
    #[serde(default)]
    pub tickets_days: u32,
    /// Visitors' page trails, counted from the visit.
    #[serde(default)]
    pub page_views_days: u32,
    /// Uploaded files, counted from the upload (messages keep their text).
    #[serde(default)]
    pub attachments_days: u32,
}

impl Policy {
    pub fn validate(&self) -> Result<(), AppError> {
        for (name, v) in [
            ("chats_days", self.chats_days),
            ("tickets_days", self.tickets_days),
            ("page_views_days", self.page_views_days),
            ("attachments_days", self.attachments_days),
        ] {
            if v > 3650 {
                return Err(AppError::invalid(format!("{name}: 0 (keep forever) to 3650 days")));
            }
        }
        Ok(())
    }

    pub fn keeps_everything(&self) -> bool {
        *self == Policy::default()
    }

    fn cutoff(days: u32, at: i64) -> Option<i64> {
        (days > 0).then(|| at - days as i64 * DAY_MS)
    }
}

pub fn load(c: &rusqlite::Connection) -> Result<Policy, AppError> {
    Ok(settings::store::get(c, KEY)?.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
}

pub fn save(c: &rusqlite::Connection, p: &Policy) -> Result<(), AppError> {
    settings::store::set(c, KEY, &serde_json::to_string(p).map_err(|e| AppError::internal(e.to_string()))?)
}

pub fn last_run(c: &rusqlite::Connection) -> Result<Option<i64>, AppError> {
    Ok(settings::store::get(c, LAST_RUN)?.and_then(|v| v.parse().ok()))
}

/// When the next run happens: a day after the last one, or now when none ran yet.
pub fn next_run_at(last_run: Option<i64>, now: i64) -> i64 {
    last_run.map(|t| t + EVERY_MS).unwrap_or(now).max(now)
}

/// How much each kind of data a run at `at` would delete.
#[derive(Serialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub chats: i64,
    pub tickets: i64,
    pub page_views: i64,
    pub attachments: i64,
}

pub fn preview(c: &rusqlite::Connection, p: &Policy, at: i64) -> Result<Counts, AppError> {
    let n = |days: u32, f: fn(&rusqlite::Connection, i64) -> Result<i64, AppError>| match Policy::cutoff(days, at) {
        Some(before) => f(c, before),
        None => Ok(0),
    };
    Ok(Counts {
        chats: n(p.chats_days, store::count_chats)?,
        tickets: n(p.tickets_days, store::count_tickets)?,
        page_views: n(p.page_views_days, store::count_page_views)?,
        attachments: n(p.attachments_days, store::count_attachments)?,
    })
}

/// What a run deleted, and in how many write jobs.
#[derive(Serialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub chats: usize,
    pub messages: usize,
    pub tickets: usize,
    pub page_views: usize,
    pub attachments: usize,
    pub deliveries: usize,
    /// Mail-intake rows: of deleted tickets, and of ignored mail past the tickets' period.
    pub incoming_mails: usize,
    /// Automatic-reply ledger rows older than a day (the rule only looks one day back).
    pub auto_replies: usize,
    pub batches: usize,
}

/// Delete everything expired under the stored policy, `batch` rows per write job, and
/// record the run. Cut-offs are fixed at the start, so rows that expire during the run wait
/// for the next one.
pub async fn run(state: &AppState, batch: u32) -> Result<Report, AppError> {
    let now = state.now();
    let policy = state.db.read(load).await?;
    let mut r = Report::default();
    let batch = batch.max(1);
    if let Some(before) = Policy::cutoff(policy.chats_days, now) {
        loop {
            let (m, chats, files) = state.db.write(move |c| store::delete_chats_batch(c, before, batch)).await?;
            r.batches += 1;
            r.messages += m;
            r.chats += chats;
            r.attachments += files;
            if m == 0 && chats < batch as usize {
                break;
            }
        }
    }
    if let Some(before) = Policy::cutoff(policy.tickets_days, now) {
        loop {
            let (t, files, intake) = state.db.write(move |c| store::delete_tickets_batch(c, before, batch)).await?;
            r.batches += 1;
            r.tickets += t;
            r.attachments += files;
            r.incoming_mails += intake;
            if t < batch as usize {
                break;
            }
        }
        loop {
            let n = state.db.write(move |c| store::delete_ignored_mail_batch(c, before, batch)).await?;
            r.batches += 1;
            r.incoming_mails += n;
            if n < batch as usize {
                break;
            }
        }
    }
    if let Some(before) = Policy::cutoff(policy.page_views_days, now) {
        loop {
            let n = state.db.write(move |c| store::delete_page_views_batch(c, before, batch)).await?;
            r.batches += 1;
            r.page_views += n;
            if n < batch as usize {
                break;
            }
        }
    }
    if let Some(before) = Policy::cutoff(policy.attachments_days, now) {
        loop {
            let n = state.db.write(move |c| store::delete_attachments_batch(c, before, batch)).await?;
            r.batches += 1;
            r.attachments += n;
            if n < batch as usize {
                break;
            }
        }
    }
    let log_before = now - DELIVERY_LOG_MS;
    loop {
        let n = state.db.write(move |c| crate::webhooks::store::prune_log(c, log_before, batch)).await?;
        r.batches += 1;
        r.deliveries += n;
        if n < batch as usize {
            break;
        }
    }
    let ledger_before = now - DAY_MS;
    r.auto_replies = state.db.write(move |c| store::prune_auto_replies(c, ledger_before)).await?;
    r.batches += 1;
    let details = serde_json::to_value(&r).map_err(|e| AppError::internal(e.to_string()))?;
    state
        .db
        .write(move |c| {
            settings::store::set(c, LAST_RUN, &now.to_string())?;
            if !policy.keeps_everything() {
                let actor = crate::audit::Actor { agent_id: None, label: "system".into() };
                crate::audit::store::record(c, now, &actor, "retention.run", None, Some(&details))?;
            }
            Ok(())
        })
        .await?;
    if r != (Report { batches: r.batches, ..Default::default() }) {
        tracing::info!(?r, "retention run deleted expired data");
    }
    Ok(r)
}

/// Run when a day has passed since the last run (the scheduler asks every ten minutes).
pub async fn run_if_due(state: &AppState) -> Result<Option<Report>, AppError> {
    let now = state.now();
    let last = state.db.read(last_run).await?;
    if next_run_at(last, now) > now {
        return Ok(None);
    }
    run(state, BATCH).await.map(Some)
}
