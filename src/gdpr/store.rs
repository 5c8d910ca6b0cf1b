//! SQL for GDPR export and erase: find everything that belongs to one contact, read it as
//! plain JSON objects (every column, so a column added later is exported without a change
//! here), and delete it.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::error::AppError;

/// The ids of everything that belongs to one contact.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    pub contact_id: i64,
    pub email_norm: Option<String>,
    /// Widget identities linked to the contact or that gave its address.
    pub visitors: Vec<i64>,
    pub conversations: Vec<i64>,
    /// Tickets of the contact, of its visitors, or made from its chats.
    pub tickets: Vec<i64>,
    /// Messages the contact wrote into other people's tickets.
    pub foreign_ticket_messages: Vec<i64>,
    /// Files in the contact's chats and tickets, or uploaded by its visitors.
    pub attachments: Vec<i64>,
    /// Mail-intake rows (`inbound_mail`) of messages they sent, or that became part of
    /// their tickets.
    pub inbound_mail: Vec<i64>,
}

pub fn contact_by_email(c: &Connection, email_norm: &str) -> Result<Option<i64>, AppError> {
    Ok(c.query_row("SELECT id FROM contacts WHERE email_norm = ?1", [email_norm], |r| r.get(0)).optional()?)
}

fn ids(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<i64>, AppError> {
    let mut st = c.prepare_cached(sql)?;
    let v = st.query_map(p, |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(v)
}

fn push_unique(into: &mut Vec<i64>, more: Vec<i64>) {
    for id in more {
        if !into.contains(&id) {
            into.push(id);
        }
    }
}

/// Everything of contact `id`. None when there is no such contact.
pub fn scope(c: &Connection, id: i64) -> Result<Option<Scope>, AppError> {
    let Some(email_norm) =
        c.query_row("SELECT email_norm FROM contacts WHERE id = ?1", [id], |r| r.get::<_, Option<String>>(0)).optional()?
    else {
        return Ok(None);
    };
    let mut s = Scope { contact_id: id, email_norm: email_norm.clone(), ..Default::default() };
    s.visitors = ids(c, "SELECT id FROM visitors WHERE contact_id = ?1 ORDER BY id", [id])?;
    if let Some(e) = &email_norm {
        push_unique(&mut s.visitors, ids(c, "SELECT id FROM visitors WHERE email IS NOT NULL AND lower(trim(email)) = ?1", [e])?);
    }
    for v in s.visitors.clone() {
        push_unique(&mut s.conversations, ids(c, "SELECT id FROM conversations WHERE visitor_id = ?1 ORDER BY id", [v])?);
        push_unique(&mut s.tickets, ids(c, "SELECT id FROM tickets WHERE visitor_id = ?1", [v])?);
        push_unique(&mut s.attachments, ids(c, "SELECT id FROM attachments WHERE visitor_id = ?1", [v])?);
    }
    push_unique(&mut s.tickets, ids(c, "SELECT id FROM tickets WHERE contact_id = ?1", [id])?);
    for conv in s.conversations.clone() {
        push_unique(&mut s.tickets, ids(c, "SELECT id FROM tickets WHERE conversation_id = ?1", [conv])?);
        push_unique(
            &mut s.attachments,
            ids(c, "SELECT attachment_id FROM messages WHERE conversation_id = ?1 AND attachment_id IS NOT NULL", [conv])?,
        );
    }
    s.tickets.sort_unstable();
    for t in s.tickets.clone() {
        push_unique(
            &mut s.attachments,
            ids(
                c,
                "SELECT a.attachment_id FROM ticket_message_attachments a JOIN ticket_messages m ON m.id = a.message_id WHERE m.ticket_id = ?1",
                [t],
            )?,
        );
    }
    let foreign = ids(c, "SELECT id FROM ticket_messages WHERE contact_id = ?1 ORDER BY id", [id])?;
    for m in foreign {
        let ticket: i64 = c.query_row("SELECT ticket_id FROM ticket_messages WHERE id = ?1", [m], |r| r.get(0))?;
        if !s.tickets.contains(&ticket) {
            s.foreign_ticket_messages.push(m);
            push_unique(&mut s.attachments, ids(c, "SELECT attachment_id FROM ticket_message_attachments WHERE message_id = ?1", [m])?);
        }
    }
    s.attachments.sort_unstable();
    for t in &s.tickets {
        push_unique(&mut s.inbound_mail, ids(c, "SELECT id FROM inbound_mail WHERE ticket_id = ?1", [t])?);
    }
    for m in &s.foreign_ticket_messages {
        push_unique(&mut s.inbound_mail, ids(c, "SELECT id FROM inbound_mail WHERE ticket_message_id = ?1", [m])?);
    }
    if let Some(e) = &email_norm {
        // Intake stores the lower-cased From address (also of mail that was ignored).
        push_unique(&mut s.inbound_mail, ids(c, "SELECT id FROM inbound_mail WHERE sender = ?1", [e])?);
    }
    s.inbound_mail.sort_unstable();
    Ok(Some(s))
}

/// Rows of `sql` as JSON objects keyed by column name. BLOB columns are left out (they are
/// hashes and file bytes; files travel separately in the export).
pub fn rows(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, AppError> {
    let mut st = c.prepare_cached(sql)?;
    let names: Vec<String> = st.column_names().map(str::to_string).collect();
    let mut out = Vec::new();
    let mut q = st.query(p)?;
    while let Some(r) = q.next()? {
        let mut obj = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let v = match r.get_ref(i)? {
                ValueRef::Null => serde_json::Value::Null,
                ValueRef::Integer(n) => n.into(),
                ValueRef::Real(f) => f.into(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                ValueRef::Blob(_) => continue,
            };
            obj.insert(name.clone(), v);
        }
        out.push(obj);
    }
    Ok(out)
}

pub type Rows = Vec<serde_json::Map<String, serde_json::Value>>;

pub fn contact_row(c: &Connection, id: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM contacts WHERE id = ?1", [id])
}
pub fn visitor_rows(c: &Connection, id: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM visitors WHERE id = ?1", [id])
}
pub fn page_view_rows(c: &Connection, visitor: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM page_views WHERE visitor_id = ?1 ORDER BY at, id", [visitor])
}
pub fn conversation_rows(c: &Connection, id: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM conversations WHERE id = ?1", [id])
}
/// A chat's rating by the visitor (W8) and its tags.
pub fn rating_rows(c: &Connection, conversation: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM chat_ratings WHERE conversation_id = ?1", [conversation])
}
pub fn conversation_tags(c: &Connection, conversation: i64) -> Result<Vec<String>, AppError> {
    let mut st = c.prepare("SELECT tag FROM conversation_tags WHERE conversation_id = ?1 ORDER BY tag")?;
    let tags = st.query_map([conversation], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(tags)
}
/// Agents' notes on the contact (the visitor panel, C5).
pub fn contact_note_rows(c: &Connection, contact: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM contact_notes WHERE contact_id = ?1 ORDER BY created_at, id", [contact])
}
/// Invitations shown to one of their visitors (W9).
pub fn invitation_rows(c: &Connection, visitor: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM invitations WHERE visitor_id = ?1 ORDER BY id", [visitor])
}
pub fn message_rows(c: &Connection, conversation: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM messages WHERE conversation_id = ?1 ORDER BY seq", [conversation])
}
pub fn ticket_rows(c: &Connection, id: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM tickets WHERE id = ?1", [id])
}
pub fn ticket_tags(c: &Connection, ticket: i64) -> Result<Vec<String>, AppError> {
    let mut st = c.prepare_cached("SELECT tag FROM ticket_tags WHERE ticket_id = ?1 ORDER BY tag")?;
    Ok(st.query_map([ticket], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}
pub fn ticket_message_rows(c: &Connection, ticket: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM ticket_messages WHERE ticket_id = ?1 ORDER BY created_at, id", [ticket])
}
pub fn ticket_message_row(c: &Connection, id: i64) -> Result<Rows, AppError> {
    rows(c, "SELECT * FROM ticket_messages WHERE id = ?1", [id])
}
pub fn message_attachment_ids(c: &Connection, ticket_message: i64) -> Result<Vec<i64>, AppError> {
    ids(c, "SELECT attachment_id FROM ticket_message_attachments WHERE message_id = ?1 ORDER BY attachment_id", [ticket_message])
}
/// Mail to the contact: the outbox rows of its tickets, and any addressed to its email.
pub fn mail_rows(c: &Connection, s: &Scope) -> Result<Rows, AppError> {
    let mut out = Vec::new();
    for id in outbox_ids(c, s)? {
        out.extend(rows(c, "SELECT * FROM outbox WHERE id = ?1", [id])?);
    }
    Ok(out)
}
/// Mail from the contact as mail intake recorded it (one row per incoming message).
pub fn inbound_mail_rows(c: &Connection, s: &Scope) -> Result<Rows, AppError> {
    let mut out = Vec::new();
    for id in &s.inbound_mail {
        out.extend(rows(c, "SELECT * FROM inbound_mail WHERE id = ?1", [id])?);
    }
    Ok(out)
}
/// The ledger row of automatic replies sent to the contact's address.
pub fn auto_reply_rows(c: &Connection, s: &Scope) -> Result<Rows, AppError> {
    match &s.email_norm {
        Some(e) => rows(c, "SELECT * FROM auto_reply_log WHERE sender = ?1", [e]),
        None => Ok(Vec::new()),
    }
}
/// (id, blob id, file name, content type, size, created_at)
pub type AttachmentMeta = (i64, i64, String, String, i64, i64);
pub fn attachment_meta(c: &Connection, id: i64) -> Result<Option<AttachmentMeta>, AppError> {
    Ok(c.query_row("SELECT id, blob_id, file_name, content_type, size, created_at FROM attachments WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    })
    .optional()?)
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn outbox_ids(c: &Connection, s: &Scope) -> Result<Vec<i64>, AppError> {
    let mut out = Vec::new();
    for t in &s.tickets {
        push_unique(&mut out, ids(c, "SELECT id FROM outbox WHERE ticket_id = ?1", [t])?);
    }
    if let Some(e) = &s.email_norm {
        // Addresses are stored as JSON arrays of strings: match the quoted address.
        let pattern = format!("%\"{}\"%", like_escape(e));
        push_unique(
            &mut out,
            ids(
                c,
                "SELECT id FROM outbox WHERE lower(to_addrs) LIKE ?1 ESCAPE '\\' OR lower(coalesce(cc_addrs, '')) LIKE ?1 ESCAPE '\\'",
                [pattern],
            )?,
        );
    }
    out.sort_unstable();
    Ok(out)
}

/// Run `f` inside one read transaction, so everything it reads is one consistent snapshot.
pub fn in_read_tx<T>(c: &Connection, f: impl FnOnce() -> Result<T, AppError>) -> Result<T, AppError> {
    c.execute_batch("BEGIN")?;
    let r = f();
    let end = c.execute_batch(if r.is_ok() { "COMMIT" } else { "ROLLBACK" });
    let v = r?;
    end?;
    Ok(v)
}

/// What an erase removed (counts only: the audit log records these, never the data).
#[derive(serde::Serialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct Erased {
    pub visitors: usize,
    pub page_views: usize,
    pub conversations: usize,
    pub messages: usize,
    pub tickets: usize,
    pub ticket_messages: usize,
    pub mails: usize,
    pub incoming_mails: usize,
    pub auto_replies: usize,
    pub attachments: usize,
    pub blobs: usize,
}

fn in_list(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// Delete everything in `s`, inside the caller's write transaction, with `secure_delete` on so
/// the freed pages are zeroed rather than left readable in the file.
pub fn erase(c: &Connection, s: &Scope) -> Result<Erased, AppError> {
    c.pragma_update(None, "secure_delete", "ON")?;
    let r = erase_rows(c, s);
    let _ = c.pragma_update(None, "secure_delete", "OFF");
    r
}

fn erase_rows(c: &Connection, s: &Scope) -> Result<Erased, AppError> {
    let mut e = Erased::default();
    let blobs: Vec<i64> = {
        let mut v = Vec::new();
        for a in &s.attachments {
            push_unique(&mut v, ids(c, "SELECT blob_id FROM attachments WHERE id = ?1", [a])?);
        }
        v
    };
    for id in outbox_ids(c, s)? {
        e.mails += c.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
    }
    for id in &s.inbound_mail {
        e.incoming_mails += c.execute("DELETE FROM inbound_mail WHERE id = ?1", [id])?;
    }
    if let Some(addr) = &s.email_norm {
        e.auto_replies += c.execute("DELETE FROM auto_reply_log WHERE sender = ?1", [addr])?;
    }
    for m in &s.foreign_ticket_messages {
        e.ticket_messages += c.execute("DELETE FROM ticket_messages WHERE id = ?1", [m])?;
    }
    if !s.tickets.is_empty() {
        let list = in_list(s.tickets.len());
        // A ticket of someone else merged into one of these keeps its own thread, not the link.
        c.execute(
            &format!("UPDATE tickets SET merged_into = NULL WHERE merged_into IN ({list}) AND id NOT IN ({list})"),
            params_from_iter(s.tickets.iter().chain(s.tickets.iter())),
        )?;
        for t in &s.tickets {
            e.ticket_messages += c.execute("DELETE FROM ticket_messages WHERE ticket_id = ?1", [t])?;
        }
        for t in s.tickets.iter().rev() {
            e.tickets += c.execute("DELETE FROM tickets WHERE id = ?1", [t])?;
        }
    }
    for conv in &s.conversations {
        e.messages += c.execute("DELETE FROM messages WHERE conversation_id = ?1", [conv])?;
        e.conversations += c.execute("DELETE FROM conversations WHERE id = ?1", [conv])?;
    }
    for a in &s.attachments {
        e.attachments += c.execute(
            "DELETE FROM attachments WHERE id = ?1
               AND NOT EXISTS (SELECT 1 FROM messages WHERE attachment_id = ?1)
               AND NOT EXISTS (SELECT 1 FROM ticket_message_attachments WHERE attachment_id = ?1)",
            [a],
        )?;
    }
    for v in &s.visitors {
        // A file of theirs still used in someone else's thread stays, without the uploader.
        c.execute("UPDATE attachments SET visitor_id = NULL WHERE visitor_id = ?1", [v])?;
        e.page_views += c.execute("DELETE FROM page_views WHERE visitor_id = ?1", [v])?;
        e.visitors += c.execute("DELETE FROM visitors WHERE id = ?1", [v])?;
    }
    for b in &blobs {
        e.blobs += c.execute("DELETE FROM blobs WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM attachments WHERE blob_id = ?1)", [b])?;
    }
    c.execute("DELETE FROM contacts WHERE id = ?1", [s.contact_id])?;
    Ok(e)
}

/// Rewrite the full-text indexes so deleted text no longer lingers in their segments (an FTS5
/// delete only records a tombstone until segments merge).
pub fn purge_search_index(c: &Connection) -> Result<(), AppError> {
    // Chat messages still waiting for the batched indexer go in first (they are whatever the
    // erase left), so the rewritten index is complete.
    crate::db::fts::catch_up_messages(c)?;
    c.pragma_update(None, "secure_delete", "ON")?;
    let r = c.execute_batch(
        "INSERT INTO messages_fts (messages_fts) VALUES ('optimize');
         INSERT INTO ticket_fts (ticket_fts) VALUES ('optimize');",
    );
    let _ = c.pragma_update(None, "secure_delete", "OFF");
    r?;
    Ok(())
}
