//! SQL for the outbox as the sending worker, the thread and the mail status page see it.
//! (Ticket replies are written into the outbox by `tickets::store::enqueue_mail`.)

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::AppError;

/// An outbox row as the worker sends it and the status page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    #[serde(skip)]
    pub body_text: String,
    #[serde(skip)]
    pub body_html: Option<String>,
    pub message_id: String,
    #[serde(skip)]
    pub in_reply_to: Option<String>,
    #[serde(skip)]
    pub references: Option<String>,
    #[serde(skip)]
    pub ticket_id: Option<i64>,
    /// The ticket's human number, when the mail belongs to one.
    pub ticket: Option<i64>,
    #[serde(skip)]
    pub ticket_message_id: Option<i64>,
    pub auto_submitted: bool,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLS: &str = "o.id, o.kind, o.to_addrs, o.cc_addrs, o.subject, o.body_text, o.body_html, o.message_id, o.in_reply_to,
    o.references_hdr, o.ticket_id, t.number, o.ticket_message_id, o.auto_submitted, o.status, o.attempts, o.next_attempt_at,
    o.last_error, o.created_at, o.sent_at";
const FROM: &str = "FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id";

fn list_json(s: Option<String>) -> Vec<String> {
    s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn row(r: &Row) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        to: list_json(r.get(2)?),
        cc: list_json(r.get(3)?),
        subject: r.get(4)?,
        body_text: r.get(5)?,
        body_html: r.get(6)?,
        message_id: r.get(7)?,
        in_reply_to: r.get(8)?,
        references: r.get(9)?,
        ticket_id: r.get(10)?,
        ticket: r.get(11)?,
        ticket_message_id: r.get(12)?,
        auto_submitted: r.get(13)?,
        status: r.get(14)?,
        attempts: r.get(15)?,
        next_attempt_at: r.get(16)?,
        last_error: r.get(17)?,
        created_at: r.get(18)?,
        sent_at: r.get(19)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<OutboxRow>, AppError> {
    Ok(conn.query_row(&format!("SELECT {COLS} {FROM} WHERE o.id = ?1"), [id], row).optional()?)
}

/// Take up to `limit` due rows for sending: they become `sending` in this transaction, so a
/// second worker round (or the wake-up after a reply) never picks the same row.
pub fn claim_due(conn: &Connection, now: i64, limit: i64) -> Result<Vec<OutboxRow>, AppError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLS} {FROM} WHERE o.status = 'pending' AND o.next_attempt_at <= ?1 ORDER BY o.next_attempt_at, o.id LIMIT ?2"
    ))?;
    let rows: Vec<OutboxRow> = st.query_map(params![now, limit], row)?.collect::<rusqlite::Result<_>>()?;
    let mut up = conn.prepare_cached("UPDATE outbox SET status = 'sending', claimed_at = ?2 WHERE id = ?1 AND status = 'pending'")?;
    for r in &rows {
        up.execute(params![r.id, now])?;
    }
    Ok(rows.into_iter().map(|mut r| (r.status = "sending".into(), r).1).collect())
}

/// Rows left in `sending` by a process that stopped mid-send go back to the queue (on start).
/// Returns their ids. The SMTP server may have accepted such a mail before the stop: it is
/// then sent again with the same Message-ID (at-least-once; receivers drop the duplicate by it).
pub fn requeue_interrupted(conn: &Connection) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare("SELECT id FROM outbox WHERE status = 'sending'")?;
    let ids: Vec<i64> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    conn.execute("UPDATE outbox SET status = 'pending', claimed_at = NULL WHERE status = 'sending'", [])?;
    Ok(ids)
}

/// The SMTP server accepted the mail. Only a row still `sending` changes (returns whether it did).
pub fn mark_sent(conn: &Connection, id: i64, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL, claimed_at = NULL
         WHERE id = ?1 AND status = 'sending'",
        params![id, now],
    )? == 1)
}

/// An attempt failed: back to the queue for `retry_at`, or `failed` for good when None.
pub fn mark_attempt_failed(conn: &Connection, id: i64, error: &str, retry_at: Option<i64>) -> Result<bool, AppError> {
    Ok(conn.execute(
        "UPDATE outbox SET status = CASE WHEN ?3 IS NULL THEN 'failed' ELSE 'pending' END,
                           next_attempt_at = coalesce(?3, next_attempt_at), attempts = attempts + 1, last_error = ?2, claimed_at = NULL
         WHERE id = ?1 AND status = 'sending'",
        params![id, error, retry_at],
    )? == 1)
}

/// An admin's or agent's "retry": a failed (or waiting) row is due now with a fresh backoff.
/// Returns the row's status before, None when there is no such row.
pub fn retry(conn: &Connection, id: i64, now: i64) -> Result<Option<String>, AppError> {
    let status: Option<String> = conn.query_row("SELECT status FROM outbox WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    if matches!(status.as_deref(), Some("failed") | Some("pending")) {
        conn.execute("UPDATE outbox SET status = 'pending', next_attempt_at = ?2, attempts = 0 WHERE id = ?1", params![id, now])?;
    }
    Ok(status)
}

/// For the status page: the queue (pending, sending) and failures, newest first; `sent` rows
/// only when asked for.
pub fn list(conn: &Connection, status: Option<&str>, limit: i64) -> Result<Vec<OutboxRow>, AppError> {
    let mut st = match status {
        Some(_) => conn.prepare_cached(&format!("SELECT {COLS} {FROM} WHERE o.status = ?1 ORDER BY o.id DESC LIMIT ?2"))?,
        None => conn.prepare_cached(&format!(
            "SELECT {COLS} {FROM} WHERE o.status != 'sent' OR o.last_error IS NOT NULL ORDER BY o.id DESC LIMIT ?2"
        ))?,
    };
    let rows = match status {
        Some(s) => st.query_map(params![s, limit], row)?.collect::<rusqlite::Result<_>>()?,
        None => st.query_map(params![rusqlite::types::Null, limit], row)?.collect::<rusqlite::Result<_>>()?,
    };
    Ok(rows)
}

/// (status, count) over the whole outbox; `sent` counts only since `since`.
pub fn counts(conn: &Connection, since: i64) -> Result<Vec<(String, i64)>, AppError> {
    let mut st =
        conn.prepare_cached("SELECT status, count(*) FROM outbox WHERE status != 'sent' OR sent_at >= ?1 GROUP BY status ORDER BY status")?;
    Ok(st.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// The mail of each thread message of a ticket that has one:
/// (ticket message id, outbox id, status, attempts, next attempt, last error, sent at).
pub type DeliveryRow = (i64, i64, String, i64, i64, Option<String>, Option<i64>);

pub fn deliveries_of_ticket(conn: &Connection, ticket_id: i64) -> Result<Vec<DeliveryRow>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT o.ticket_message_id, o.id, o.status, o.attempts, o.next_attempt_at, o.last_error, o.sent_at
         FROM outbox o JOIN ticket_messages m ON m.id = o.ticket_message_id WHERE m.ticket_id = ?1 ORDER BY o.id",
    )?;
    Ok(st
        .query_map([ticket_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The ticket id behind a human number (merged tickets included).
pub fn ticket_id_of(conn: &Connection, number: i64) -> Result<Option<i64>, AppError> {
    Ok(conn.query_row("SELECT id FROM tickets WHERE number = ?1", [number], |r| r.get(0)).optional()?)
}

/// Files of a thread message, to attach to its mail: (file name, content type, blob id, size).
pub fn message_files(conn: &Connection, ticket_message_id: i64) -> Result<Vec<(String, String, i64, i64)>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT a.file_name, a.content_type, a.blob_id, a.size FROM ticket_message_attachments x
         JOIN attachments a ON a.id = x.attachment_id WHERE x.message_id = ?1 ORDER BY a.id",
    )?;
    Ok(st.query_map([ticket_message_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// A mail that is not a ticket reply (those go through `tickets::store::enqueue_mail`).
pub struct NewMail<'a> {
    pub kind: &'a str,
    pub to: &'a [String],
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub message_id: &'a str,
    pub ticket_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub auto_submitted: bool,
    pub now: i64,
}

pub fn enqueue(conn: &Connection, m: &NewMail) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO outbox (kind, to_addrs, subject, body_text, body_html, message_id, ticket_id, conversation_id, auto_submitted,
                             next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![
            m.kind,
            serde_json::to_string(m.to).unwrap_or_default(),
            m.subject,
            m.body_text,
            m.body_html,
            m.message_id,
            m.ticket_id,
            m.conversation_id,
            m.auto_submitted,
            m.now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The language a customer writes in, as far as we know it: the ticket's visitor's browser
/// language.
pub fn ticket_language(conn: &Connection, ticket_id: i64) -> Result<Option<String>, AppError> {
    Ok(conn
        .query_row("SELECT v.language FROM tickets t JOIN visitors v ON v.id = t.visitor_id WHERE t.id = ?1", [ticket_id], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// Whether a transcript of this conversation already went (or waits) to this address.
pub fn transcript_queued(conn: &Connection, conversation_id: i64, to_json: &str) -> Result<bool, AppError> {
    Ok(crate::db::count(
        conn,
        "SELECT count(*) FROM outbox WHERE kind = 'transcript' AND conversation_id = ?1 AND to_addrs = ?2",
        params![conversation_id, to_json],
    )? > 0)
}

/// The visitor's browser language (`ru-RU`, …) and time zone (`Europe/Warsaw`), as its widget
/// reported them; None where unknown.
pub fn visitor_locale(conn: &Connection, visitor_id: i64) -> Result<(Option<String>, Option<String>), AppError> {
    Ok(conn
        .query_row("SELECT language, timezone FROM visitors WHERE id = ?1", [visitor_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or_default())
}

/// Whether a Message-ID is one of our outgoing mails (for intake: our own mail coming back,
/// a bounce quoting it, a loop).
pub fn is_ours(conn: &Connection, message_id: &str) -> Result<bool, AppError> {
    Ok(crate::db::count(conn, "SELECT count(*) FROM outbox WHERE message_id = ?1", [message_id])? > 0)
}
