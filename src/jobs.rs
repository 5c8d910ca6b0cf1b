//! Background jobs as plain functions: the scheduler, the CLI and tests call the same code.

use rusqlite::Connection;

use crate::error::AppError;

/// Drop expired sessions. Returns how many were removed.
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
