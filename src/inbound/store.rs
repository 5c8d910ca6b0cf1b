//! SQL of the mail intake: seen messages, the lookups threading needs, the IMAP cursor and the
//! automatic-reply ledger.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::AppError;

/// Whether a message with this dedupe key (Message-ID or content hash) was seen before, by
/// intake or as a message of any ticket (our own replies included). Returns the kind of the
/// ticket message that carries it (`reply` for ours), or `seen` for intake-only rows.
pub fn seen(c: &Connection, key: &str) -> Result<Option<String>, AppError> {
    let in_thread: Option<String> =
        c.query_row("SELECT kind FROM ticket_messages WHERE message_id = ?1", [key], |r| r.get(0)).optional()?;
    if in_thread.is_some() {
        return Ok(in_thread);
    }
    let intake: Option<i64> = c.query_row("SELECT id FROM inbound_mail WHERE dedupe_key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(intake.map(|_| "seen".to_string()))
}

/// The ticket (number, after following merges) whose thread stores this Message-ID, and whether
/// the message is one of our replies.
pub fn ticket_of_message_id(c: &Connection, message_id: &str) -> Result<Option<(i64, bool)>, AppError> {
    let found: Option<(i64, String)> = c
        .query_row("SELECT m.ticket_id, m.kind FROM ticket_messages m WHERE m.message_id = ?1", [message_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((ticket_id, kind)) = found else { return Ok(None) };
    Ok(final_number(c, ticket_id)?.map(|n| (n, kind == "reply")))
}

/// The number of the ticket a ticket was (perhaps repeatedly) merged into, or its own.
pub fn final_number(c: &Connection, mut ticket_id: i64) -> Result<Option<i64>, AppError> {
    for _ in 0..32 {
        let row: Option<(i64, Option<i64>)> =
            c.query_row("SELECT number, merged_into FROM tickets WHERE id = ?1", [ticket_id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match row {
            None => return Ok(None),
            Some((n, None)) => return Ok(Some(n)),
            Some((_, Some(into))) => ticket_id = into,
        }
    }
    Ok(None)
}

/// Ticket id for a number, following merges; None when there is no such ticket.
pub fn final_number_of(c: &Connection, number: i64) -> Result<Option<i64>, AppError> {
    let id: Option<i64> = c.query_row("SELECT id FROM tickets WHERE number = ?1", [number], |r| r.get(0)).optional()?;
    match id {
        Some(id) => final_number(c, id),
        None => Ok(None),
    }
}

/// (the requester's address, every other address on the ticket).
pub type People = (Option<String>, Vec<String>);

/// The requester's address and every other address on the ticket: recipients and CCs of its
/// replies and the To/Cc people of the mail it received.
pub fn ticket_people(c: &Connection, number: i64) -> Result<Option<People>, AppError> {
    let row: Option<(i64, Option<String>)> = c
        .query_row(
            "SELECT t.id, ct.email FROM tickets t LEFT JOIN contacts ct ON ct.id = t.contact_id WHERE t.number = ?1",
            [number],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, requester)) = row else { return Ok(None) };
    let mut people: Vec<String> = Vec::new();
    let mut st = c.prepare_cached(
        "SELECT to_addrs, cc_addrs FROM ticket_messages WHERE ticket_id = ?1 AND (to_addrs IS NOT NULL OR cc_addrs IS NOT NULL)",
    )?;
    let rows = st.query_map([id], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?)))?;
    for row in rows {
        let (to, cc) = row?;
        for list in [to, cc].into_iter().flatten() {
            people.extend(serde_json::from_str::<Vec<String>>(&list).unwrap_or_default());
        }
    }
    let mut st = c.prepare_cached("SELECT cc_addrs FROM inbound_mail WHERE ticket_id = ?1 AND cc_addrs IS NOT NULL")?;
    for list in st.query_map([id], |r| r.get::<_, String>(0))? {
        people.extend(serde_json::from_str::<Vec<String>>(&list?).unwrap_or_default());
    }
    let mut people: Vec<String> = people.into_iter().map(|p| p.trim().to_lowercase()).collect();
    people.sort();
    people.dedup();
    Ok(Some((requester.map(|r| r.to_lowercase()), people)))
}

pub struct Record<'a> {
    pub dedupe_key: &'a str,
    pub ticket_id: Option<i64>,
    pub ticket_message_id: Option<i64>,
    pub sender: &'a str,
    pub cc: &'a [String],
    pub automatic: Option<&'a str>,
    pub outcome: &'a str,
    pub thread_rule: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub via: &'a str,
    pub size: i64,
    pub now: i64,
}

pub fn record(c: &Connection, r: &Record) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO inbound_mail (dedupe_key, ticket_id, ticket_message_id, sender, cc_addrs, automatic, outcome, thread_rule, reason, via, size, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            r.dedupe_key,
            r.ticket_id,
            r.ticket_message_id,
            r.sender,
            (!r.cc.is_empty()).then(|| serde_json::to_string(r.cc).unwrap_or_default()),
            r.automatic,
            r.outcome,
            r.thread_rule,
            r.reason,
            r.via,
            r.size,
            r.now
        ],
    )?;
    Ok(c.last_insert_rowid())
}

/// The automatic-mail class of a ticket message that came in by mail (None: a person wrote it,
/// or it did not come by mail).
pub fn automatic_of(c: &Connection, ticket_message_id: i64) -> Result<Option<String>, AppError> {
    Ok(c.query_row("SELECT automatic FROM inbound_mail WHERE ticket_message_id = ?1", [ticket_message_id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Intake rows, newest first (tests and the status page).
#[derive(Debug, Clone, serde::Serialize)]
pub struct InboundRow {
    pub dedupe_key: String,
    pub ticket_id: Option<i64>,
    pub sender: Option<String>,
    pub automatic: Option<String>,
    pub outcome: String,
    pub thread_rule: Option<String>,
    pub reason: Option<String>,
    pub via: String,
}

pub fn recent(c: &Connection, limit: u32) -> Result<Vec<InboundRow>, AppError> {
    let mut st = c.prepare_cached(
        "SELECT dedupe_key, ticket_id, sender, automatic, outcome, thread_rule, reason, via FROM inbound_mail ORDER BY id DESC LIMIT ?1",
    )?;
    Ok(st
        .query_map([limit], |r| {
            Ok(InboundRow {
                dedupe_key: r.get(0)?,
                ticket_id: r.get(1)?,
                sender: r.get(2)?,
                automatic: r.get(3)?,
                outcome: r.get(4)?,
                thread_rule: r.get(5)?,
                reason: r.get(6)?,
                via: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- the IMAP cursor

/// (UIDVALIDITY, last imported UID) of a mailbox.
pub fn cursor(c: &Connection, mailbox: &str) -> Result<Option<(u32, u32)>, AppError> {
    Ok(c.query_row("SELECT uid_validity, last_uid FROM imap_cursor WHERE mailbox = ?1", [mailbox], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub fn set_cursor(c: &Connection, mailbox: &str, uid_validity: u32, last_uid: u32, now: i64) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO imap_cursor (mailbox, uid_validity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        params![mailbox, uid_validity, last_uid, now],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- automatic replies

/// When we last sent an automatic reply to this sender.
pub fn last_auto_reply(c: &Connection, sender: &str) -> Result<Option<i64>, AppError> {
    Ok(c.query_row("SELECT sent_at FROM auto_reply_log WHERE sender = ?1", [sender], |r| r.get(0)).optional()?)
}

pub fn set_auto_reply(c: &Connection, sender: &str, now: i64) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO auto_reply_log (sender, sent_at) VALUES (?1, ?2) ON CONFLICT (sender) DO UPDATE SET sent_at = excluded.sent_at",
        params![sender, now],
    )?;
    Ok(())
}
