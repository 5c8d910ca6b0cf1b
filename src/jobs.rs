//! Background jobs as plain functions: the scheduler, the CLI and tests call the same code.

use rusqlite::Connection;

use crate::error::AppError;

/// Drop expired sessions. Returns how many were removed.
pub fn cleanup(conn: &Connection, now: i64, session_idle_ms: i64) -> Result<usize, AppError> {
    let n = crate::auth::store::delete_expired_sessions(conn, now, session_idle_ms)?;
    if n > 0 {
        tracing::debug!(removed = n, "expired sessions removed");
    }
    Ok(n)
}
