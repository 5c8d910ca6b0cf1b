use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Contact;
use crate::auth::policy::{ChatFacts, ContactFacts, TicketFacts};
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

/// Contacts matching `q` (email or name) that the viewer may see: supervisors all; others those
/// with a ticket or chat they may see. The SQL mirror of `Viewer::may_view_contact`.
pub fn search(
    conn: &Connection,
    q: Option<&str>,
    v: crate::tickets::store::Viewer,
    agents_see_colleagues: bool,
    limit: u32,
) -> Result<Vec<Contact>, AppError> {
    let pattern = q.map(|q| format!("%{}%", q.trim().replace(['%', '_'], "")));
    let visibility = if v.sees_all {
        String::new()
    } else {
        format!(
            "AND (EXISTS (SELECT 1 FROM tickets t WHERE t.contact_id = contacts.id AND {})
                  OR EXISTS (SELECT 1 FROM conversations c JOIN visitors vi ON vi.id = c.visitor_id
                             WHERE vi.contact_id = contacts.id AND (c.status = 'queued' OR c.agent_id = ?4 OR ?5)))",
            crate::tickets::store::visible("?3", "?4")
        )
    };
    let mut st =
        conn.prepare(&format!("{COLS} WHERE (?1 IS NULL OR email LIKE ?1 OR name LIKE ?1) {visibility} ORDER BY id DESC LIMIT ?2"))?;
    let rows = if v.sees_all {
        st.query_map(params![pattern, limit], from_row)?.collect::<rusqlite::Result<_>>()?
    } else {
        st.query_map(params![pattern, limit, false, v.agent_id, agents_see_colleagues], from_row)?.collect::<rusqlite::Result<_>>()?
    };
    Ok(rows)
}

/// The contact with this normalized email.
pub fn id_by_email(conn: &Connection, email_norm: &str) -> Result<Option<i64>, AppError> {
    Ok(conn.query_row("SELECT id FROM contacts WHERE email_norm = ?1", [email_norm], |r| r.get(0)).optional()?)
}

/// The ids of the contact's tickets (merged ones included).
pub fn ticket_ids(conn: &Connection, id: i64) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare_cached("SELECT id FROM tickets WHERE contact_id = ?1 ORDER BY id")?;
    Ok(st.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// What the access rules need about every ticket and chat of a contact.
pub fn facts(conn: &Connection, id: i64) -> Result<ContactFacts, AppError> {
    let mut st = conn.prepare_cached("SELECT agent_id, department_id FROM tickets WHERE contact_id = ?1")?;
    let tickets =
        st.query_map([id], |r| Ok(TicketFacts { agent_id: r.get(0)?, department_id: r.get(1)? }))?.collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare_cached(
        "SELECT c.agent_id, c.status FROM conversations c JOIN visitors v ON v.id = c.visitor_id WHERE v.contact_id = ?1",
    )?;
    let chats = st
        .query_map([id], |r| Ok(ChatFacts { agent_id: r.get(0)?, status: crate::chat::Status::parse(&r.get::<_, String>(1)?) }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ContactFacts { tickets, chats })
}
