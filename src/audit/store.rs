use rusqlite::{Connection, params};

use super::{Actor, Entry};
use crate::error::AppError;

pub fn record(
    conn: &Connection,
    now: i64,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    details: Option<&serde_json::Value>,
) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor_id, actor, action, target, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now, actor.agent_id, actor.label, action, target, details.map(|d| d.to_string())],
    )?;
    Ok(())
}

/// Newest first; `before` pages backwards by id.
pub fn list(conn: &Connection, limit: u32, before: Option<i64>) -> Result<Vec<Entry>, AppError> {
    let mut st = conn.prepare(
        "SELECT id, at, actor, action, target, details FROM audit_log
         WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = st.query_map(params![before.unwrap_or(i64::MAX), limit], |r| {
        let details: Option<String> = r.get(5)?;
        Ok(Entry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            details: details.and_then(|d| serde_json::from_str(&d).ok()),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
