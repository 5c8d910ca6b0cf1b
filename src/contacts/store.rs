use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Contact;
use crate::auth::{normalize_email, validate_email};
use crate::error::AppError;

fn from_row(r: &Row) -> rusqlite::Result<Contact> {
    Ok(Contact { id: r.get(0)?, email: r.get(1)?, name: r.get(2)?, phone: r.get(3)?, created_at: r.get(4)? })
}

const COLS: &str = "SELECT id, email, name, phone, created_at FROM contacts";

pub fn get(conn: &Connection, id: i64) -> Result<Option<Contact>, AppError> {
    Ok(conn.query_row(&format!("{COLS} WHERE id = ?1"), [id], from_row).optional()?)
}

/// The contact for this email, created when new; a known contact gets a missing name filled.
/// Without an email a new nameless-or-named contact is created (merged later when an email
/// turns up, see [`attach_email`]).
pub fn upsert(conn: &Connection, email: Option<&str>, name: Option<&str>, now: i64) -> Result<i64, AppError> {
    let name = name.map(|n| crate::text::single_line(n, 100)).filter(|n| !n.is_empty());
    let name = name.as_deref();
    if let Some(e) = email.map(str::trim).filter(|e| !e.is_empty()) {
        validate_email(e)?;
        let norm = normalize_email(e);
        if let Some(id) = conn.query_row("SELECT id FROM contacts WHERE email_norm = ?1", [&norm], |r| r.get::<_, i64>(0)).optional()? {
            if let Some(n) = name {
                conn.execute("UPDATE contacts SET name = coalesce(name, ?2), updated_at = ?3 WHERE id = ?1", params![id, n, now])?;
            }
            return Ok(id);
        }
        conn.execute(
            "INSERT INTO contacts (email, email_norm, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![e, norm, name, now],
        )?;
        return Ok(conn.last_insert_rowid());
    }
    conn.execute("INSERT INTO contacts (name, created_at, updated_at) VALUES (?1, ?2, ?2)", params![name, now])?;
    Ok(conn.last_insert_rowid())
}

/// Give a contact an email. If another contact already has it, the two are merged into that
/// one (tickets and visitors move over) and its id is returned.
pub fn attach_email(conn: &Connection, id: i64, email: &str, now: i64) -> Result<i64, AppError> {
    validate_email(email)?;
    let norm = normalize_email(email);
    let existing = conn.query_row("SELECT id FROM contacts WHERE email_norm = ?1", [&norm], |r| r.get::<_, i64>(0)).optional()?;
    match existing {
        Some(other) if other == id => Ok(id),
        Some(other) => {
            conn.execute("UPDATE tickets SET contact_id = ?2 WHERE contact_id = ?1", params![id, other])?;
            conn.execute("UPDATE visitors SET contact_id = ?2 WHERE contact_id = ?1", params![id, other])?;
            conn.execute("UPDATE ticket_messages SET contact_id = ?2 WHERE contact_id = ?1", params![id, other])?;
            conn.execute(
                "UPDATE contacts SET name = coalesce(name, (SELECT name FROM contacts WHERE id = ?1)),
                                     phone = coalesce(phone, (SELECT phone FROM contacts WHERE id = ?1)), updated_at = ?3 WHERE id = ?2",
                params![id, other, now],
            )?;
            conn.execute("DELETE FROM contacts WHERE id = ?1", [id])?;
            Ok(other)
        }
        None => {
            conn.execute(
                "UPDATE contacts SET email = ?2, email_norm = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, email.trim(), norm, now],
            )?;
            Ok(id)
        }
    }
}

pub fn update(conn: &Connection, id: i64, name: Option<&str>, phone: Option<&str>, now: i64) -> Result<(), AppError> {
    let (name, phone) = (name.map(|n| crate::text::single_line(n, 100)), phone.map(|p| crate::text::single_line(p, 40)));
    conn.execute(
        "UPDATE contacts SET name = coalesce(?2, name), phone = coalesce(?3, phone), updated_at = ?4 WHERE id = ?1",
        params![id, name, phone, now],
    )?;
    Ok(())
}

pub fn search(conn: &Connection, q: Option<&str>, limit: u32) -> Result<Vec<Contact>, AppError> {
    let pattern = q.map(|q| format!("%{}%", q.trim().replace(['%', '_'], "")));
    let mut st = conn.prepare(&format!("{COLS} WHERE ?1 IS NULL OR email LIKE ?1 OR name LIKE ?1 ORDER BY id DESC LIMIT ?2"))?;
    Ok(st.query_map(params![pattern, limit], from_row)?.collect::<rusqlite::Result<_>>()?)
}
