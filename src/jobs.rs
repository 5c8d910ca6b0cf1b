//! Background jobs as plain functions (mail sending is `mail::send_due`): the scheduler, the CLI and tests call the same code.
//! [`run_once`] is one scheduler round; `startup` only owns the timer that calls it.

use rusqlite::Connection;

use crate::error::AppError;
use crate::realtime::Audience;
use crate::state::AppState;

/// How often the scheduler runs a round.
pub const ROUND: std::time::Duration = std::time::Duration::from_secs(30);

/// Drop expired sessions and uploads abandoned half-way (older than an hour). Returns how
/// many sessions and blobs were removed.
pub fn cleanup(conn: &Connection, now: i64, session_idle_ms: i64) -> Result<(usize, usize), AppError> {
    let sessions = crate::auth::store::delete_expired_sessions(conn, now, session_idle_ms)?;
    let blobs = crate::chat::files::store::delete_unsealed_blobs(conn, now - 3_600_000)?;
    if sessions + blobs > 0 {
        tracing::debug!(sessions, blobs, "cleanup removed stale rows");
    }
    Ok((sessions, blobs))
}

/// Rows per write job when deleting orphan uploads, so chat messages commit in between.
pub const ORPHAN_BATCH: usize = 32;

/// Uploads never sent (SPEC S5): up to `batch` attachments older than `grace_ms` that no chat
/// or ticket message refers to, then up to `batch` sealed blobs no attachment points at (a
/// blob shared by content stays while any attachment uses it). Returns (attachments, blobs).
pub fn delete_orphan_uploads(conn: &Connection, now: i64, grace_ms: i64, batch: usize) -> Result<(usize, usize), AppError> {
    use crate::chat::files::store;
    let attachments = store::delete_unsent_attachments(conn, now - grace_ms, batch)?;
    let blobs = store::delete_unreferenced_blobs(conn, batch)?;
    if attachments + blobs > 0 {
        tracing::info!(attachments, blobs, "deleted uploads never sent in a message");
    }
    Ok((attachments, blobs))
}

/// Names stored before names were normalized (bidi controls, zero-width characters) are
/// cleaned like new ones. Returns how many changed.
pub fn normalize_file_names(conn: &Connection) -> Result<usize, AppError> {
    use crate::chat::files::{clean_file_name, store};
    let fixes = store::names_to_fix(conn, clean_file_name)?;
    for (id, name) in &fixes {
        store::rename_attachment(conn, *id, name)?;
    }
    Ok(fixes.len())
}

/// Snoozed tickets whose time has come go back to Open (SPEC T3). Returns their numbers.
pub fn wake_snoozed(conn: &Connection, now: i64) -> Result<Vec<i64>, AppError> {
    crate::tickets::store::wake_snoozed(conn, now)
}

/// Daily summaries (SPEC E6): once the shop's local time reached the summary time, queue
/// today's summary for every agent who gets one and has none for today yet. Returns the outbox
/// ids queued (the round's mail step sends them).
pub fn daily_summaries(conn: &Connection, shop: &str, host: &str, now: i64) -> Result<Vec<i64>, AppError> {
    crate::mail::summary::queue_due(conn, shop, host, now)
}

/// What one round did (jobs that did not run this round, or failed, stay empty).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Tickets woken from snooze; consoles were told each one changed.
    pub woken: Vec<i64>,
    /// Chats ended because their visitor went quiet.
    pub idle_chats_ended: Vec<i64>,
    /// (sessions, blobs) removed by [`cleanup`].
    pub cleaned: Option<(usize, usize)>,
    /// The daily data-retention run, when it was due this round.
    pub retention: Option<crate::retention::Report>,
    /// The daily backup, when its time had come this round.
    pub backup: Option<crate::backups::LastRun>,
    /// What the mail round did (due outbox rows, retries included); None when the worker was
    /// already sending.
    pub mail: Option<crate::mail::SendReport>,
    /// (attachments, blobs) removed by [`delete_orphan_uploads`].
    pub orphan_uploads: Option<(usize, usize)>,
    /// Agents set offline because their last console socket was gone for the grace time.
    pub auto_offline: Vec<i64>,
    /// Daily summaries queued by [`daily_summaries`] (outbox ids).
    pub summaries: Vec<i64>,
}

/// One scheduler round. `round` counts from 1; every round wakes snoozed tickets, sets agents
/// whose console is gone past the grace time offline, dispatches waiting chats (a safety
/// net: every event that frees a slot dispatches already), queues the daily summaries once
/// their local time came and, last, sends due mail (retries whose backoff passed; new mail is
/// sent at once by the woken worker), odd rounds
/// (every minute) end idle chats (SPEC R5), and every 20th round starting with the first
/// (every ten minutes) runs [`cleanup`], [`delete_orphan_uploads`] (in batches until none
/// are left) and, once a day, data retention ([`crate::retention::run_if_due`]); the first
/// round also runs [`normalize_file_names`]; every round makes the daily backup when its
/// configured time has come ([`crate::backups::run_if_due`]). A failing job is logged and
/// does not stop the others.
pub async fn run_once(state: &AppState, round: u64) -> RoundReport {
    let mut report = RoundReport::default();
    let now = state.now();
    match state.db.write(move |c| wake_snoozed(c, now)).await {
        Ok(woken) => {
            for &number in &woken {
                state.hub.publish(Audience::Agents, crate::realtime::ticket_changed(number)).await;
            }
            report.woken = woken;
        }
        Err(e) => tracing::warn!(error = %e, "waking snoozed tickets failed"),
    }
    report.auto_offline = crate::routing::live::auto_offline(state).await;
    crate::routing::dispatch(state).await;
    if round % 2 == 1 {
        let before = now - state.config.chat_idle_timeout.as_millis() as i64;
        match state.db.read(move |c| crate::chat::store::idle_conversations(c, before)).await {
            Ok(ids) => {
                for id in ids {
                    match crate::chat::end_idle(state, id).await {
                        Ok(()) => report.idle_chats_ended.push(id),
                        Err(e) => tracing::warn!(error = %e, conversation = id, "ending an idle chat failed"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "finding idle chats failed"),
        }
    }
    if round % 20 == 1 {
        let idle = state.config.session_idle.as_millis() as i64;
        match state.db.write(move |c| cleanup(c, now, idle)).await {
            Ok(removed) => report.cleaned = Some(removed),
            Err(e) => tracing::warn!(error = %e, "cleanup job failed"),
        }
        let grace = state.config.upload_grace.as_millis() as i64;
        let mut total = (0, 0);
        loop {
            match state.db.write(move |c| delete_orphan_uploads(c, now, grace, ORPHAN_BATCH)).await {
                Ok((a, b)) => {
                    total = (total.0 + a, total.1 + b);
                    if a < ORPHAN_BATCH && b < ORPHAN_BATCH {
                        report.orphan_uploads = Some(total);
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "deleting orphan uploads failed");
                    break;
                }
            }
        }
        match crate::retention::run_if_due(state).await {
            Ok(r) => report.retention = r,
            Err(e) => tracing::warn!(error = %e, "data retention run failed"),
        }
    }
    if round == 1 {
        match state.db.write(normalize_file_names).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(renamed = n, "file names normalized"),
            Err(e) => tracing::warn!(error = %e, "normalizing file names failed"),
        }
    }
    match crate::backups::run_if_due(state).await {
        Ok(r) => report.backup = r,
        Err(e) => tracing::warn!(error = %e, "scheduled backup failed"),
    }
    let (config, host) = (state.config.clone(), state.public_url.host_str().unwrap_or("localhost").to_string());
    let summaries = match state.db.read(move |c| crate::mail::summary::pending(c, now)).await {
        Ok(false) => Ok(vec![]),
        Ok(true) | Err(_) => {
            state
                .db
                .write(move |c| {
                    let shop = crate::mail::http::shop_name(&crate::mail::settings(c, &config)?);
                    daily_summaries(c, &shop, &host, now)
                })
                .await
        }
    };
    match summaries {
        Ok(ids) => {
            for &id in &ids {
                crate::mail::publish_change(state, id, "pending", None).await;
            }
            report.summaries = ids;
        }
        Err(e) => tracing::warn!(error = %e, "queuing daily summaries failed"),
    }
    // Last, and skipped while the worker is already sending: SMTP timeouts never hold up the rest.
    match crate::mail::send_due_unless_busy(state, now).await {
        Some(Ok(r)) => report.mail = Some(r),
        Some(Err(e)) => tracing::warn!(error = %e, "sending due mail failed"),
        None => {}
    }
    report
}
