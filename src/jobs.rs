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

/// Snoozed tickets whose time has come go back to Open (SPEC T3). Returns their numbers.
pub fn wake_snoozed(conn: &Connection, now: i64) -> Result<Vec<i64>, AppError> {
    crate::tickets::store::wake_snoozed(conn, now)
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
    /// What the mail round did (due outbox rows, retries included); None when the worker was
    /// already sending.
    pub mail: Option<crate::mail::SendReport>,
}

/// One scheduler round. `round` counts from 1; every round wakes snoozed tickets and sends due
/// mail (retries whose backoff passed; new mail is sent at once by the woken worker), odd rounds
/// (every minute) end idle chats (SPEC R5), and every 20th round starting with the first
/// (every ten minutes) runs [`cleanup`]. A failing job is logged and does not stop the others.
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
    }
    // Last, and skipped while the worker is already sending: SMTP timeouts never hold up the rest.
    match crate::mail::send_due_unless_busy(state, now).await {
        Some(Ok(r)) => report.mail = Some(r),
        Some(Err(e)) => tracing::warn!(error = %e, "sending due mail failed"),
        None => {}
    }
    report
}
