use rusqlite::{Connection, OptionalExtension, params};

use crate::error::AppError;

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, AppError> {
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, key: &str) -> Result<(), AppError> {
    conn.execute("DELETE FROM settings WHERE key = ?1", [key])?;
    Ok(())
}

/// Facts of the console's first-steps checklist: how many agents are enabled, and whether a
/// widget was ever seen on this server's own `/demo` page, and on any other site (the snippet
/// is in place). `own` is this server's origin (`https://support.shop.example`).
pub fn onboarding_facts(conn: &Connection, own: &str) -> Result<(i64, bool, bool), AppError> {
    let agents = crate::db::count(conn, "SELECT count(*) FROM agents WHERE disabled = 0", [])?;
    let demo =
        crate::db::count(conn, "SELECT EXISTS (SELECT 1 FROM page_views WHERE substr(url, 1, length(?1) + 5) = ?1 || '/demo')", [own])?
            == 1;
    let elsewhere =
        crate::db::count(conn, "SELECT EXISTS (SELECT 1 FROM page_views WHERE substr(url, 1, length(?1) + 1) <> ?1 || '/')", [own])? == 1;
    Ok((agents, demo, elsewhere))
}
