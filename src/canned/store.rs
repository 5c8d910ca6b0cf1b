use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Canned, CannedInput};
use crate::error::AppError;

fn from_row(r: &Row) -> rusqlite::Result<Canned> {
    Ok(Canned {
        id: r.get(0)?,
        department_id: r.get(1)?,
        owner_id: r.get(2)?,
        category: r.get(3)?,
        shortcut: r.get(4)?,
        title: r.get(5)?,
        body: r.get(6)?,
        body_long: r.get(7)?,
        hotkey: r.get(8)?,
    })
}

const COLS: &str = "SELECT id, department_id, owner_id, category, shortcut, title, body, body_long, hotkey FROM canned_responses";

/// What an agent may use: their own, shared ones of their departments, and global ones.
/// `all_shared` (supervisors, admins) widens shared to every department.
pub fn visible(conn: &Connection, agent_id: i64, all_shared: bool) -> Result<Vec<Canned>, AppError> {
    let mut st = conn.prepare(&format!(
        "{COLS} WHERE owner_id = ?1
            OR (owner_id IS NULL AND (?2 OR department_id IS NULL
                OR department_id IN (SELECT department_id FROM department_members WHERE agent_id = ?1)))
         ORDER BY category, shortcut, id"
    ))?;
    Ok(st.query_map(params![agent_id, all_shared], from_row)?.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Canned>, AppError> {
    Ok(conn.query_row(&format!("{COLS} WHERE id = ?1"), [id], from_row).optional()?)
}

pub fn insert(conn: &Connection, c: &CannedInput, owner: Option<i64>, now: i64) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO canned_responses (department_id, owner_id, category, shortcut, title, body, body_long, hotkey, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![c.department_id, owner, c.category, c.shortcut, c.title, c.body, c.body_long, c.hotkey, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, id: i64, c: &CannedInput, owner: Option<i64>, now: i64) -> Result<(), AppError> {
    conn.execute(
        "UPDATE canned_responses SET department_id = ?2, category = ?3, shortcut = ?4, title = ?5, body = ?6, body_long = ?7, hotkey = ?8, updated_at = ?9, owner_id = ?10 WHERE id = ?1",
        params![id, c.department_id, c.category, c.shortcut, c.title, c.body, c.body_long, c.hotkey, now, owner],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, id: i64) -> Result<(), AppError> {
    conn.execute("DELETE FROM canned_responses WHERE id = ?1", [id])?;
    Ok(())
}
