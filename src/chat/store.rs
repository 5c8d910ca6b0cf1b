//! SQL for visitors, conversations and messages (attachments: `files/store.rs`).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Conversation, EndedBy, Outcome, PageView, PastConversation, Status, VisitorDetails, VisitorSummary};
use crate::error::AppError;
use crate::realtime::protocol::{AttachmentInfo, Author, MessageOut};

// ---------------------------------------------------------------- visitors

/// The visitor a widget token belongs to: a verified visitor's other devices lead to it through
/// `visitor_tokens` (W12), every other token to the visitor it was made for.
pub fn visitor_by_token(conn: &Connection, hash: &[u8]) -> Result<Option<i64>, AppError> {
    // Cached statements: every widget hello runs these (a reconnect storm, thousands a second).
    let mut st = conn.prepare_cached("SELECT visitor_id FROM visitor_tokens WHERE token_hash = ?1")?;
    if let Some(id) = st.query_row([hash], |r| r.get(0)).optional()? {
        return Ok(Some(id));
    }
    Ok(conn.prepare_cached("SELECT id FROM visitors WHERE token_hash = ?1")?.query_row([hash], |r| r.get(0)).optional()?)
}

pub struct VisitorSeen<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub timezone: Option<&'a str>,
    pub language: Option<&'a str>,
}

pub fn create_visitor(conn: &Connection, hash: &[u8], now: i64, seen: &VisitorSeen) -> Result<i64, AppError> {
    conn.prepare_cached(
        "INSERT INTO visitors (token_hash, first_seen_at, last_seen_at, visit_started_at, ip, user_agent, timezone, language)
         VALUES (?1, ?2, ?2, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![hash, now, seen.ip, seen.user_agent, seen.timezone, seen.language])?;
    Ok(conn.last_insert_rowid())
}

/// A returning visitor: a new visit when they were away for more than 30 minutes.
pub fn touch_visitor(conn: &Connection, id: i64, now: i64, seen: &VisitorSeen) -> Result<(), AppError> {
    conn.prepare_cached(
        "UPDATE visitors SET
            visits = visits + (CASE WHEN last_seen_at < ?2 - 1800000 THEN 1 ELSE 0 END),
            visit_started_at = CASE WHEN last_seen_at < ?2 - 1800000 OR visit_started_at IS NULL THEN ?2 ELSE visit_started_at END,
            current_url = CASE WHEN last_seen_at < ?2 - 1800000 THEN NULL ELSE current_url END,
            last_seen_at = ?2, ip = ?3, user_agent = ?4,
            timezone = coalesce(?5, timezone), language = coalesce(?6, language)
         WHERE id = ?1",
    )?
    .execute(params![id, now, seen.ip, seen.user_agent, seen.timezone, seen.language])?;
    Ok(())
}

/// The visitor's last known address: None when there is no such visitor.
pub fn visitor_ip(conn: &Connection, id: i64) -> Result<Option<Option<String>>, AppError> {
    Ok(conn.query_row("SELECT ip FROM visitors WHERE id = ?1", [id], |r| r.get(0)).optional()?)
}

/// The last known addresses of these visitors: (id, ip).
pub fn visitor_ips(conn: &Connection, ids: &[i64]) -> Result<Vec<(i64, String)>, AppError> {
    let mut st = conn.prepare_cached("SELECT id, ip FROM visitors WHERE id = ?1 AND ip IS NOT NULL")?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(row) = st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()? {
            out.push(row);
        }
    }
    Ok(out)
}

/// The phone number a visitor gave (a callback request).
pub fn set_visitor_phone(conn: &Connection, id: i64, phone: &str) -> Result<(), AppError> {
    conn.execute("UPDATE visitors SET phone = ?2 WHERE id = ?1", params![id, phone])?;
    Ok(())
}

pub fn record_page(
    conn: &Connection,
    visitor_id: i64,
    url: &str,
    title: Option<&str>,
    external_referrer: Option<&str>,
    search_query: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    // Reloads of the same page are not new page views.
    let last: Option<String> =
        conn.prepare_cached("SELECT current_url FROM visitors WHERE id = ?1")?.query_row([visitor_id], |r| r.get(0)).optional()?.flatten();
    if last.as_deref() != Some(url) {
        conn.prepare_cached("INSERT INTO page_views (visitor_id, url, title, at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![visitor_id, url, title, now])?;
        conn.prepare_cached("UPDATE visitors SET page_started_at = ?2 WHERE id = ?1")?.execute(params![visitor_id, now])?;
    }
    conn.prepare_cached("UPDATE visitors SET current_url = ?2, current_title = ?3, last_seen_at = ?4 WHERE id = ?1")?
        .execute(params![visitor_id, url, title, now])?;
    if let Some(r) = external_referrer {
        conn.execute("UPDATE visitors SET referrer = ?2, search_query = ?3 WHERE id = ?1", params![visitor_id, r, search_query])?;
    }
    Ok(())
}

pub fn visitor_details(conn: &Connection, id: i64) -> Result<Option<VisitorDetails>, AppError> {
    let Some(mut v) = conn
        .query_row(
            "SELECT id, name, email, phone, first_seen_at, last_seen_at, visits, ip, user_agent, timezone, language,
                    referrer, search_query, current_url, current_title FROM visitors WHERE id = ?1",
            [id],
            |r| {
                let ua: Option<String> = r.get(8)?;
                let (browser, os) = ua.as_deref().map(super::browser_and_os).unwrap_or((None, None));
                Ok(VisitorDetails {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get(2)?,
                    phone: r.get(3)?,
                    first_seen_at: r.get(4)?,
                    last_seen_at: r.get(5)?,
                    visits: r.get(6)?,
                    ip: r.get(7)?,
                    user_agent: ua,
                    browser,
                    os,
                    timezone: r.get(9)?,
                    language: r.get(10)?,
                    referrer: r.get(11)?,
                    search_query: r.get(12)?,
                    current_url: r.get(13)?,
                    current_title: r.get(14)?,
                    pages: vec![],
                    conversations: vec![],
                    contact: None,
                    links: vec![],
                })
            },
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut st = conn.prepare("SELECT url, title, at FROM page_views WHERE visitor_id = ?1 ORDER BY at DESC, id DESC LIMIT 50")?;
    v.pages = st.query_map([id], |r| Ok(PageView { url: r.get(0)?, title: r.get(1)?, at: r.get(2)? }))?.collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare(
        "SELECT c.id, c.status, c.outcome, c.created_at, a.name, c.agent_id FROM conversations c
         LEFT JOIN agents a ON a.id = c.agent_id WHERE c.visitor_id = ?1 ORDER BY c.created_at DESC LIMIT 50",
    )?;
    v.conversations = st
        .query_map([id], |r| {
            Ok(PastConversation {
                id: r.get(0)?,
                status: Status::parse(&r.get::<_, String>(1)?),
                outcome: outcome_from(r.get(2)?),
                created_at: r.get(3)?,
                agent_name: r.get(4)?,
                agent_id: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(v))
}

fn outcome_from(s: Option<String>) -> Option<Outcome> {
    match s.as_deref() {
        Some("served") => Some(Outcome::Served),
        Some("cancelled") => Some(Outcome::Cancelled),
        Some("missed") => Some(Outcome::Missed),
        _ => None,
    }
}

// ---------------------------------------------------------------- conversations

/// The fields rules need, without joins.
#[derive(Debug, Clone)]
pub struct ConvRow {
    pub id: i64,
    pub visitor_id: i64,
    pub agent_id: Option<i64>,
    pub status: Status,
    pub last_seq: i64,
    pub created_at: i64,
    pub first_agent_reply_at: Option<i64>,
    pub agent_delivered_seq: i64,
    pub agent_read_seq: i64,
    /// The last message the visitor has seen.
    pub visitor_read_seq: i64,
}

fn conv_row(r: &Row) -> rusqlite::Result<ConvRow> {
    Ok(ConvRow {
        id: r.get(0)?,
        visitor_id: r.get(1)?,
        agent_id: r.get(2)?,
        status: Status::parse(&r.get::<_, String>(3)?),
        last_seq: r.get(4)?,
        created_at: r.get(5)?,
        first_agent_reply_at: r.get(6)?,
        agent_delivered_seq: r.get(7)?,
        agent_read_seq: r.get(8)?,
        visitor_read_seq: r.get(9)?,
    })
}

/// The columns [`conv_row`] reads (a macro, so each query below is one literal for
/// `prepare_cached`).
macro_rules! conv_row_sql {
    ($($where:literal)*) => {
        concat!("SELECT id, visitor_id, agent_id, status, last_seq, created_at, first_agent_reply_at, agent_delivered_seq, agent_read_seq, visitor_read_seq FROM conversations ", $($where),*)
    };
}

pub fn conv(conn: &Connection, id: i64) -> Result<Option<ConvRow>, AppError> {
    Ok(conn.prepare_cached(conv_row_sql!("WHERE id = ?1"))?.query_row([id], conv_row).optional()?)
}

// `col = CAST(?1 AS INTEGER)` rather than `col = ?1` where an ORDER BY follows: this SQLite
// (STAT4 enabled) marks a statement comparing a bound variable with an ORDER BY'd index column
// as depending on the value, so the cached statement was parsed and planned again on every run
// (15 % of the writer's time at 5,000 msg/s). Same plan, same index; a test below holds it.

/// The visitor's open conversation, if any.
pub fn open_conv_of(conn: &Connection, visitor_id: i64) -> Result<Option<ConvRow>, AppError> {
    Ok(conn
        .prepare_cached(conv_row_sql!("WHERE visitor_id = CAST(?1 AS INTEGER) AND status != 'ended' ORDER BY id DESC LIMIT 1"))?
        .query_row([visitor_id], conv_row)
        .optional()?)
}

/// The visitor's most recent conversation (open or ended): what a returning visitor sees.
pub fn latest_conv_of(conn: &Connection, visitor_id: i64) -> Result<Option<ConvRow>, AppError> {
    Ok(conn
        .prepare_cached(conv_row_sql!("WHERE visitor_id = CAST(?1 AS INTEGER) ORDER BY id DESC LIMIT 1"))?
        .query_row([visitor_id], conv_row)
        .optional()?)
}

pub fn create_conv(conn: &Connection, visitor_id: i64, page_url: Option<&str>, now: i64) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO conversations (visitor_id, status, created_at, page_url) VALUES (?1, 'queued', ?2, ?3)",
        params![visitor_id, now, page_url],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Assign a queued conversation. False when someone else was faster (or it ended).
pub fn assign(conn: &Connection, id: i64, agent_id: i64, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute(
        "UPDATE conversations SET status = 'active', agent_id = ?2, assigned_at = ?3 WHERE id = ?1 AND status = 'queued'",
        params![id, agent_id, now],
    )? == 1)
}

/// Give an active chat to another agent (transfer, take over). False when it is no longer
/// `from`'s active chat (someone else was faster, or it ended).
pub fn reassign(conn: &Connection, id: i64, from: Option<i64>, to: i64, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute(
        "UPDATE conversations SET agent_id = ?3, assigned_at = ?4 WHERE id = ?1 AND status = 'active' AND agent_id IS ?2",
        params![id, from, to, now],
    )? == 1)
}

/// Put an active chat back into a department's queue (a transfer to a department). It waits
/// from now (`queued_at`): behind chats already waiting, and the visitor's wait notices count
/// from the transfer, not from the chat's start.
pub fn requeue(conn: &Connection, id: i64, from: Option<i64>, department_id: i64, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute(
        "UPDATE conversations SET status = 'queued', agent_id = NULL, assigned_at = NULL, department_id = ?3, queued_at = ?4
         WHERE id = ?1 AND status = 'active' AND agent_id IS ?2",
        params![id, from, department_id, now],
    )? == 1)
}

pub fn end(conn: &Connection, c: &ConvRow, by: EndedBy, now: i64, cancel_window_ms: i64) -> Result<Outcome, AppError> {
    let outcome = super::outcome(c.created_at, now, by, c.first_agent_reply_at, cancel_window_ms);
    conn.execute(
        "UPDATE conversations SET status = 'ended', ended_at = ?2, ended_by = ?3, outcome = ?4 WHERE id = ?1 AND status != 'ended'",
        params![c.id, now, by.as_str(), outcome.as_str()],
    )?;
    Ok(outcome)
}

/// Open conversations whose visitor has been silent since `before` (their last message, or
/// the chat's start when they never wrote after it).
pub fn idle_conversations(conn: &Connection, before: i64) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare(
        "SELECT id FROM conversations WHERE status != 'ended' AND coalesce(last_visitor_message_at, created_at) < ?1 ORDER BY id LIMIT 500",
    )?;
    Ok(st.query_map([before], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

pub fn set_agent_delivered(conn: &Connection, id: i64, seq: i64) -> Result<(), AppError> {
    conn.execute(
        "UPDATE conversations SET agent_delivered_seq = max(agent_delivered_seq, min(?2, last_seq)) WHERE id = ?1",
        params![id, seq],
    )?;
    Ok(())
}

pub fn set_agent_read(conn: &Connection, id: i64, seq: i64) -> Result<(), AppError> {
    conn.execute(
        "UPDATE conversations SET agent_read_seq = max(agent_read_seq, min(?2, last_seq)),
                                  agent_delivered_seq = max(agent_delivered_seq, min(?2, last_seq)) WHERE id = ?1",
        params![id, seq],
    )?;
    Ok(())
}

pub fn set_visitor_read(conn: &Connection, id: i64, seq: i64) -> Result<(), AppError> {
    conn.execute("UPDATE conversations SET visitor_read_seq = max(visitor_read_seq, min(?2, last_seq)) WHERE id = ?1", params![id, seq])?;
    Ok(())
}

const CONV_LIST: &str = "SELECT c.id, c.status, c.outcome, c.visitor_id, v.name, v.email, c.agent_id, a.name, c.department_id,
        c.last_seq, c.created_at, c.assigned_at, c.ended_at, c.last_message_at, c.last_visitor_message_at,
        c.last_agent_message_at, c.agent_delivered_seq, c.agent_read_seq, c.visitor_read_seq, c.page_url,
        (SELECT body FROM messages m WHERE m.conversation_id = c.id AND m.author_kind != 'system' ORDER BY m.seq DESC LIMIT 1),
        (SELECT group_concat(tag, char(31)) FROM conversation_tags g WHERE g.conversation_id = c.id)
    FROM conversations c JOIN visitors v ON v.id = c.visitor_id LEFT JOIN agents a ON a.id = c.agent_id";

fn conversation(r: &Row) -> rusqlite::Result<Conversation> {
    let preview: Option<String> = r.get(20)?;
    let tags: Option<String> = r.get(21)?;
    let mut tags: Vec<String> = tags.map(|t| t.split('\u{1f}').map(str::to_string).collect()).unwrap_or_default();
    tags.sort();
    Ok(Conversation {
        id: r.get(0)?,
        status: Status::parse(&r.get::<_, String>(1)?),
        outcome: outcome_from(r.get(2)?),
        visitor: VisitorSummary { id: r.get(3)?, name: r.get(4)?, email: r.get(5)? },
        agent_id: r.get(6)?,
        agent_name: r.get(7)?,
        department_id: r.get(8)?,
        last_seq: r.get(9)?,
        created_at: r.get(10)?,
        assigned_at: r.get(11)?,
        ended_at: r.get(12)?,
        last_message_at: r.get(13)?,
        last_visitor_message_at: r.get(14)?,
        last_agent_message_at: r.get(15)?,
        agent_delivered_seq: r.get(16)?,
        agent_read_seq: r.get(17)?,
        visitor_read_seq: r.get(18)?,
        page_url: r.get(19)?,
        preview: preview.map(|p| p.chars().take(140).collect()),
        tags,
    })
}

pub fn conversation_view(conn: &Connection, id: i64) -> Result<Option<Conversation>, AppError> {
    Ok(conn.prepare_cached(&format!("{CONV_LIST} WHERE c.id = ?1"))?.query_row([id], conversation).optional()?)
}

pub fn queue(conn: &Connection) -> Result<Vec<Conversation>, AppError> {
    let mut st = conn.prepare(&format!("{CONV_LIST} WHERE c.status = 'queued' ORDER BY coalesce(c.queued_at, c.created_at), c.id"))?;
    Ok(st.query_map([], conversation)?.collect::<rusqlite::Result<_>>()?)
}

pub fn active_of(conn: &Connection, agent_id: i64) -> Result<Vec<Conversation>, AppError> {
    let mut st = conn.prepare(&format!("{CONV_LIST} WHERE c.status = 'active' AND c.agent_id = ?1 ORDER BY c.assigned_at, c.id"))?;
    Ok(st.query_map([agent_id], conversation)?.collect::<rusqlite::Result<_>>()?)
}

/// Active chats of everyone (the Supervised list).
pub fn active_all(conn: &Connection) -> Result<Vec<Conversation>, AppError> {
    let mut st = conn.prepare(&format!("{CONV_LIST} WHERE c.status = 'active' ORDER BY c.assigned_at, c.id"))?;
    Ok(st.query_map([], conversation)?.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Default, Clone)]
pub struct ArchiveFilter {
    pub text: Option<String>,
    pub agent_id: Option<i64>,
    pub visitor: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub restrict_to_agent: Option<i64>,
    pub before_id: Option<i64>,
    /// Only chats carrying this tag.
    pub tag: Option<String>,
    pub limit: u32,
}

pub fn archive(conn: &Connection, f: &ArchiveFilter) -> Result<Vec<Conversation>, AppError> {
    let fts = f.text.as_deref().and_then(crate::db::fts::query);
    let visitor = f.visitor.as_ref().map(|v| format!("%{}%", v.replace(['%', '_'], "")));
    let sql = format!(
        "{CONV_LIST} WHERE c.status = 'ended'
           AND (?1 IS NULL OR c.id IN (SELECT m.conversation_id FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ?1))
           AND (?2 IS NULL OR c.agent_id = ?2)
           AND (?3 IS NULL OR v.name LIKE ?3 OR v.email LIKE ?3)
           AND (?4 IS NULL OR c.created_at >= ?4)
           AND (?5 IS NULL OR c.created_at < ?5)
           AND (?6 IS NULL OR c.agent_id = ?6)
           AND (?7 IS NULL OR c.id < ?7)
           AND (?9 IS NULL OR c.id IN (SELECT conversation_id FROM conversation_tags WHERE tag = ?9))
         ORDER BY c.id DESC LIMIT ?8"
    );
    let mut st = conn.prepare(&sql)?;
    let rows =
        st.query_map(params![fts, f.agent_id, visitor, f.from, f.to, f.restrict_to_agent, f.before_id, f.limit, f.tag], conversation)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Replace a chat's tags.
pub fn set_conv_tags(conn: &Connection, id: i64, tags: &[String]) -> Result<(), AppError> {
    conn.execute("DELETE FROM conversation_tags WHERE conversation_id = ?1", [id])?;
    let mut st = conn.prepare_cached("INSERT OR IGNORE INTO conversation_tags (conversation_id, tag) VALUES (?1, ?2)")?;
    for t in tags {
        st.execute(params![id, t])?;
    }
    Ok(())
}

/// A chat's tags, sorted.
pub fn conv_tags(conn: &Connection, id: i64) -> Result<Vec<String>, AppError> {
    let mut st = conn.prepare_cached("SELECT tag FROM conversation_tags WHERE conversation_id = ?1 ORDER BY tag")?;
    Ok(st.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- messages

pub struct NewMessage<'a> {
    pub conversation: i64,
    pub author_kind: &'static str,
    pub agent_id: Option<i64>,
    pub client_id: Option<&'a str>,
    pub body: &'a str,
    pub attachment_id: Option<i64>,
    /// An internal line (whisper, transfer note): agents only, never the visitor (V18).
    pub internal: bool,
    pub now: i64,
}

/// Insert with the next sequence number, or return the already stored message when the same
/// client id arrives again (a resend after a lost ack). The bool says whether it is new.
///
/// The hot path of chat (SPEC P2): two cached statements. The insert takes `last_seq + 1` from
/// the conversation row and skips a duplicate client id by the table's unique key (no lookup
/// first); the update then moves the conversation's counters. The stored message is rebuilt
/// from what was inserted; only an attachment or an agent's name needs the joined re-read.
pub fn insert_message(conn: &Connection, m: &NewMessage) -> Result<(MessageOut, bool), AppError> {
    // An internal line takes the next seq (agents read it in order) but is no one's message
    // for lists, reply times or first response: the visitor never sees it.
    let inserted: Option<(i64, i64)> = conn
        .prepare_cached(
            "INSERT INTO messages (conversation_id, seq, author_kind, agent_id, client_id, body, attachment_id, created_at, internal)
             SELECT id, last_seq + 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM conversations WHERE id = ?1
             ON CONFLICT (conversation_id, author_kind, client_id) DO NOTHING
             RETURNING id, seq",
        )?
        .query_row(params![m.conversation, m.author_kind, m.agent_id, m.client_id, m.body, m.attachment_id, m.now, m.internal], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((id, seq)) = inserted else {
        // Either the client id was seen before (return that message) or there is no such
        // conversation.
        let existing: Option<i64> = match m.client_id {
            Some(cid) => conn
                .prepare_cached("SELECT seq FROM messages WHERE conversation_id = ?1 AND author_kind = ?2 AND client_id = ?3")?
                .query_row(params![m.conversation, m.author_kind, cid], |r| r.get(0))
                .optional()?,
            None => None,
        };
        let seq = existing.ok_or_else(|| AppError::not_found("conversation"))?;
        let msg = messages_between(conn, m.conversation, seq - 1, seq)?.pop().ok_or_else(|| AppError::internal("message vanished"))?;
        return Ok((msg, false));
    };
    // The conversation's counters move with the message, in this transaction. The response-time
    // counters (`reports::response_turns`, V27): a visitor's message opens a turn unless one is
    // waiting; an agent's answers it. Only an agent's message names the columns of the reports'
    // covering index (`conversations_report`), so other lines leave that index alone.
    let update = match m.author_kind {
        _ if m.internal => "UPDATE conversations SET last_seq = ?3 WHERE id = ?1",
        "visitor" => {
            "UPDATE conversations SET last_seq = ?3, last_message_at = ?2, last_visitor_message_at = ?2,
                awaiting_reply_since = coalesce(awaiting_reply_since, ?2)
             WHERE id = ?1"
        }
        "agent" => {
            "UPDATE conversations SET last_seq = ?3, last_message_at = ?2, last_agent_message_at = ?2,
                first_agent_reply_at = coalesce(first_agent_reply_at, ?2),
                response_sum_ms = response_sum_ms + coalesce(?2 - awaiting_reply_since, 0),
                responses = responses + (awaiting_reply_since IS NOT NULL),
                awaiting_reply_since = NULL
             WHERE id = ?1"
        }
        _ => "UPDATE conversations SET last_seq = ?3, last_message_at = ?2 WHERE id = ?1",
    };
    conn.prepare_cached(update)?.execute(params![m.conversation, m.now, seq])?;
    if m.agent_id.is_some() || m.attachment_id.is_some() {
        let msg = messages_between(conn, m.conversation, seq - 1, seq)?.pop().ok_or_else(|| AppError::internal("message vanished"))?;
        return Ok((msg, true));
    }
    let msg = MessageOut {
        conversation: m.conversation,
        id,
        seq,
        author: Author { kind: author_kind_out(m.author_kind), agent_id: None, name: None },
        body: m.body.to_string(),
        at: m.now,
        client_id: m.client_id.map(str::to_string),
        attachment: None,
        event: None,
        internal: m.internal,
    };
    Ok((msg, true))
}

/// The author kind as frames name it (`internal` is a flag, never a kind).
fn author_kind_out(kind: &str) -> &'static str {
    match kind {
        "visitor" => "visitor",
        "agent" => "agent",
        _ => "system",
    }
}

/// The invitation's text opens an invited chat as the agent's message, but it is no reply to
/// the visitor: first response time and the served outcome count from the agent's next one.
pub fn forget_agent_reply(conn: &Connection, conversation: i64) -> Result<(), AppError> {
    conn.execute("UPDATE conversations SET first_agent_reply_at = NULL, last_agent_message_at = NULL WHERE id = ?1", [conversation])?;
    Ok(())
}

/// A system line (joined, ended, …) with its translatable event.
pub fn insert_system(
    conn: &Connection,
    conversation: i64,
    agent_id: Option<i64>,
    event: &crate::events::SystemEvent,
    now: i64,
) -> Result<MessageOut, AppError> {
    insert_event(conn, conversation, agent_id, event, false, now)
}

/// A system line only agents see (who transferred or took over a chat, with the note).
pub fn insert_internal_system(
    conn: &Connection,
    conversation: i64,
    agent_id: Option<i64>,
    event: &crate::events::SystemEvent,
    now: i64,
) -> Result<MessageOut, AppError> {
    insert_event(conn, conversation, agent_id, event, true, now)
}

fn insert_event(
    conn: &Connection,
    conversation: i64,
    agent_id: Option<i64>,
    event: &crate::events::SystemEvent,
    internal: bool,
    now: i64,
) -> Result<MessageOut, AppError> {
    let body = event.english();
    let (mut m, _) = insert_message(
        conn,
        &NewMessage { conversation, author_kind: "system", agent_id, client_id: None, body: &body, attachment_id: None, internal, now },
    )?;
    let json = event.to_json();
    conn.execute("UPDATE messages SET event = ?2 WHERE id = ?1", params![m.id, json])?;
    m.event = serde_json::from_str(&json).ok();
    Ok(m)
}

/// Messages with `after < seq <= upto`, in order, internal lines included: for agents only.
pub fn messages_between(conn: &Connection, conversation: i64, after: i64, upto: i64) -> Result<Vec<MessageOut>, AppError> {
    messages_in(conn, conversation, after, upto, false)
}

/// Messages with `after < seq <= upto` the visitor may see: no internal line (whispers,
/// transfer notes). Every visitor-facing read (socket replay, transcript mail) uses this.
pub fn visitor_messages_between(conn: &Connection, conversation: i64, after: i64, upto: i64) -> Result<Vec<MessageOut>, AppError> {
    messages_in(conn, conversation, after, upto, true)
}

const MESSAGES_IN: &str = "SELECT m.id, m.seq, m.author_kind, m.agent_id, a.name, m.body, m.created_at, m.client_id,
                t.token, t.file_name, t.content_type, t.size, m.event, m.internal
         FROM messages m LEFT JOIN agents a ON a.id = m.agent_id LEFT JOIN attachments t ON t.id = m.attachment_id
         WHERE m.conversation_id = CAST(?1 AS INTEGER) AND m.seq > ?2 AND m.seq <= ?3 AND (?4 = 0 OR m.internal = 0) ORDER BY m.seq";

fn messages_in(conn: &Connection, conversation: i64, after: i64, upto: i64, public_only: bool) -> Result<Vec<MessageOut>, AppError> {
    let mut st = conn.prepare_cached(MESSAGES_IN)?;
    let rows = st.query_map(params![conversation, after, upto, public_only], |r| {
        let kind: String = r.get(2)?;
        let token: Option<String> = r.get(8)?;
        let attachment = match token {
            Some(token) => {
                let name: String = r.get(9)?;
                Some(AttachmentInfo { url: super::files::file_url(&token, &name), token, name, content_type: r.get(10)?, size: r.get(11)? })
            }
            None => None,
        };
        Ok(MessageOut {
            conversation,
            id: r.get(0)?,
            seq: r.get(1)?,
            author: Author { kind: author_kind_out(&kind), agent_id: r.get(3)?, name: r.get(4)? },
            body: r.get(5)?,
            at: r.get(6)?,
            client_id: r.get(7)?,
            attachment,
            event: r.get::<_, Option<String>>(12)?.and_then(|e| serde_json::from_str(&e).ok()),
            internal: r.get(13)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- attachments

/// One of a contact's chats, with what the access rules need.
#[derive(Debug, Clone)]
pub struct ContactChat {
    pub id: i64,
    pub agent_id: Option<i64>,
    pub status: Status,
    pub created_at: i64,
}

/// A contact's chats, newest first.
pub fn conversations_of_contact(conn: &Connection, contact_id: i64, limit: u32) -> Result<Vec<ContactChat>, AppError> {
    let mut st = conn.prepare(
        "SELECT c.id, c.agent_id, c.status, c.created_at FROM conversations c JOIN visitors v ON v.id = c.visitor_id
         WHERE v.contact_id = ?1 ORDER BY c.id DESC LIMIT ?2",
    )?;
    let rows = st.query_map(params![contact_id, limit], |r| {
        Ok(ContactChat { id: r.get(0)?, agent_id: r.get(1)?, status: Status::parse(&r.get::<_, String>(2)?), created_at: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A visitor's ended chats as (id, created_at), newest first: what a returning visitor sees
/// under "Earlier chats" in the widget.
pub fn ended_convs_of_visitor(conn: &Connection, visitor_id: i64, limit: u32) -> Result<Vec<(i64, i64)>, AppError> {
    let mut st = conn
        .prepare_cached("SELECT id, created_at FROM conversations WHERE visitor_id = ?1 AND status = 'ended' ORDER BY id DESC LIMIT ?2")?;
    let rows = st.query_map(params![visitor_id, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What the access rules need about every chat of a visitor.
pub fn chats_of_visitor(conn: &Connection, visitor_id: i64) -> Result<Vec<crate::auth::policy::ChatFacts>, AppError> {
    let mut st = conn.prepare_cached("SELECT agent_id, status FROM conversations WHERE visitor_id = ?1")?;
    let rows = st.query_map([visitor_id], |r| {
        Ok(crate::auth::policy::ChatFacts { agent_id: r.get(0)?, status: Status::parse(&r.get::<_, String>(1)?) })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message path's statements stay prepared: run many times, none is parsed and planned
    /// again (see the note above `open_conv_of`). Each statement is looked up in the connection's
    /// cache by its text, as `prepare_cached` does.
    #[test]
    fn hot_statements_are_not_prepared_again_on_each_run() {
        let (_dir, c) = crate::db::test_connection();
        let seen = VisitorSeen { ip: "", user_agent: "", timezone: None, language: None };
        let visitor = create_visitor(&c, b"t", 0, &seen).unwrap();
        let conv_id = create_conv(&c, visitor, None, 0).unwrap();
        for i in 0..5 {
            let cid = format!("c{i}");
            let m = NewMessage {
                conversation: conv_id,
                author_kind: "visitor",
                agent_id: None,
                client_id: Some(&cid),
                body: "hi",
                attachment_id: None,
                internal: false,
                now: i,
            };
            assert!(insert_message(&c, &m).unwrap().1);
            assert!(!insert_message(&c, &m).unwrap().1, "a resend is found");
            assert_eq!(open_conv_of(&c, visitor).unwrap().unwrap().id, conv_id);
            assert_eq!(latest_conv_of(&c, visitor).unwrap().unwrap().id, conv_id);
            assert!(conv(&c, conv_id).unwrap().is_some());
            assert_eq!(messages_between(&c, conv_id, 0, i + 1).unwrap().len() as i64, i + 1);
        }
        let hot = [
            conv_row_sql!("WHERE id = ?1"),
            conv_row_sql!("WHERE visitor_id = CAST(?1 AS INTEGER) AND status != 'ended' ORDER BY id DESC LIMIT 1"),
            conv_row_sql!("WHERE visitor_id = CAST(?1 AS INTEGER) ORDER BY id DESC LIMIT 1"),
            MESSAGES_IN,
        ];
        for sql in hot {
            let st = c.prepare_cached(sql).unwrap();
            assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
        }
    }
}
