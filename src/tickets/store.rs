//! SQL for tickets, their threads, tags, the outbox, the widget's view of them and saved views.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Kind, Source, Status};
use crate::error::AppError;
use crate::realtime::protocol::AttachmentInfo;

#[derive(Serialize, Debug, Clone)]
pub struct ContactRef {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A ticket as lists show it.
#[derive(Serialize, Debug, Clone)]
pub struct Ticket {
    #[serde(skip)]
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub source: String,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub contact: Option<ContactRef>,
    pub conversation_id: Option<i64>,
    pub merged_into: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub solved_at: Option<i64>,
    pub last_customer_message_at: Option<i64>,
    pub tags: Vec<String>,
}

const TICKET_COLS: &str = "SELECT t.id, t.number, t.subject, t.status, t.source, t.department_id, d.name, t.agent_id, a.name,
        t.contact_id, c.name, c.email, t.conversation_id, (SELECT number FROM tickets m WHERE m.id = t.merged_into),
        t.snoozed_until, t.created_at, t.updated_at, t.solved_at, t.last_customer_message_at,
        (SELECT group_concat(tag, char(31)) FROM ticket_tags g WHERE g.ticket_id = t.id)
    FROM tickets t LEFT JOIN departments d ON d.id = t.department_id LEFT JOIN agents a ON a.id = t.agent_id
    LEFT JOIN contacts c ON c.id = t.contact_id";

fn ticket(r: &Row) -> rusqlite::Result<Ticket> {
    let contact_id: Option<i64> = r.get(9)?;
    let tags: Option<String> = r.get(19)?;
    let mut tags: Vec<String> = tags.map(|t| t.split('\u{1f}').map(str::to_string).collect()).unwrap_or_default();
    tags.sort();
    Ok(Ticket {
        id: r.get(0)?,
        number: r.get(1)?,
        subject: r.get(2)?,
        status: Status::parse(&r.get::<_, String>(3)?).unwrap_or(Status::Open),
        source: r.get(4)?,
        department_id: r.get(5)?,
        department_name: r.get(6)?,
        agent_id: r.get(7)?,
        agent_name: r.get(8)?,
        contact: match contact_id {
            Some(id) => Some(ContactRef { id, name: r.get(10)?, email: r.get(11)? }),
            None => None,
        },
        conversation_id: r.get(12)?,
        merged_into: r.get(13)?,
        snoozed_until: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        solved_at: r.get(17)?,
        last_customer_message_at: r.get(18)?,
        tags,
    })
}

pub fn by_number(conn: &Connection, number: i64) -> Result<Option<Ticket>, AppError> {
    Ok(conn.query_row(&format!("{TICKET_COLS} WHERE t.number = ?1"), [number], ticket).optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<Ticket>, AppError> {
    Ok(conn.query_row(&format!("{TICKET_COLS} WHERE t.id = ?1"), [id], ticket).optional()?)
}

pub struct NewTicket<'a> {
    pub subject: &'a str,
    pub status: Status,
    pub source: Source,
    pub department_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub visitor_id: Option<i64>,
    pub now: i64,
}

/// Insert with the next human number (#1001 onwards). The writer is single-threaded, so the
/// max+1 read and the insert cannot interleave with another ticket's.
pub fn insert(conn: &Connection, t: &NewTicket) -> Result<(i64, i64), AppError> {
    let number: i64 = conn.query_row("SELECT coalesce(max(number), 1000) + 1 FROM tickets", [], |r| r.get(0))?;
    conn.execute(
        "INSERT INTO tickets (number, subject, status, source, department_id, agent_id, contact_id, conversation_id, visitor_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![number, t.subject, t.status.as_str(), t.source.as_str(), t.department_id, t.agent_id, t.contact_id, t.conversation_id, t.visitor_id, t.now],
    )?;
    Ok((conn.last_insert_rowid(), number))
}

pub struct NewMessage<'a> {
    pub ticket_id: i64,
    pub kind: Kind,
    pub agent_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub body: &'a str,
    pub body_html: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub to: &'a [String],
    pub cc: &'a [String],
    pub message_id: Option<&'a str>,
    pub now: i64,
}

pub fn add_message(conn: &Connection, m: &NewMessage) -> Result<i64, AppError> {
    let json = |v: &[String]| (!v.is_empty()).then(|| serde_json::to_string(v).unwrap_or_default());
    conn.execute(
        "INSERT INTO ticket_messages (ticket_id, kind, agent_id, contact_id, body, body_html, subject, to_addrs, cc_addrs, message_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![m.ticket_id, m.kind.as_str(), m.agent_id, m.contact_id, m.body, m.body_html, m.subject, json(m.to), json(m.cc), m.message_id, m.now],
    )?;
    let id = conn.last_insert_rowid();
    let (customer, reply) = (m.kind == Kind::Customer, m.kind == Kind::Reply);
    conn.execute(
        "UPDATE tickets SET updated_at = ?2,
            last_customer_message_at = CASE WHEN ?3 THEN ?2 ELSE last_customer_message_at END,
            last_agent_reply_at = CASE WHEN ?4 THEN ?2 ELSE last_agent_reply_at END,
            first_reply_at = CASE WHEN ?4 AND first_reply_at IS NULL THEN ?2 ELSE first_reply_at END
         WHERE id = ?1",
        params![m.ticket_id, m.now, customer, reply],
    )?;
    Ok(id)
}

/// A system line of the thread (status changes, merges, …) with its translatable event.
pub fn add_system(conn: &Connection, ticket_id: i64, event: &crate::events::SystemEvent, now: i64) -> Result<i64, AppError> {
    let body = event.english();
    let id = add_message(
        conn,
        &NewMessage {
            ticket_id,
            kind: Kind::System,
            agent_id: None,
            contact_id: None,
            body: &body,
            body_html: None,
            subject: None,
            to: &[],
            cc: &[],
            message_id: None,
            now,
        },
    )?;
    conn.execute("UPDATE ticket_messages SET event = ?2 WHERE id = ?1", params![id, event.to_json()])?;
    Ok(id)
}

/// An internal note with its attachments.
pub fn add_note(
    conn: &Connection,
    ticket_id: i64,
    agent_id: Option<i64>,
    body: &str,
    attachments: &[i64],
    now: i64,
) -> Result<i64, AppError> {
    let id = add_message(
        conn,
        &NewMessage {
            ticket_id,
            kind: Kind::Note,
            agent_id,
            contact_id: None,
            body,
            body_html: None,
            subject: None,
            to: &[],
            cc: &[],
            message_id: None,
            now,
        },
    )?;
    attach(conn, id, attachments)?;
    Ok(id)
}

pub fn attach(conn: &Connection, message_id: i64, attachment_ids: &[i64]) -> Result<(), AppError> {
    let mut st = conn.prepare("INSERT OR IGNORE INTO ticket_message_attachments (message_id, attachment_id) VALUES (?1, ?2)")?;
    for a in attachment_ids {
        st.execute(params![message_id, a])?;
    }
    Ok(())
}

#[derive(Serialize, Debug, Clone)]
pub struct ThreadMessage {
    pub id: i64,
    pub kind: Kind,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub contact_id: Option<i64>,
    pub body: String,
    pub body_html: Option<String>,
    pub subject: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub message_id: Option<String>,
    pub created_at: i64,
    pub attachments: Vec<AttachmentInfo>,
    /// For system lines: `{"code", …params}` for the console to translate.
    pub event: Option<serde_json::Value>,
}

pub fn thread(conn: &Connection, ticket_id: i64) -> Result<Vec<ThreadMessage>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT m.id, m.kind, m.agent_id, a.name, m.contact_id, m.body, m.body_html, m.subject, m.to_addrs, m.cc_addrs, m.message_id, m.created_at, m.event
         FROM ticket_messages m LEFT JOIN agents a ON a.id = m.agent_id WHERE m.ticket_id = ?1 ORDER BY m.created_at, m.id",
    )?;
    let parse = |s: Option<String>| -> Vec<String> { s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default() };
    let mut msgs: Vec<ThreadMessage> = st
        .query_map([ticket_id], |r| {
            Ok(ThreadMessage {
                id: r.get(0)?,
                kind: Kind::parse(&r.get::<_, String>(1)?),
                agent_id: r.get(2)?,
                agent_name: r.get(3)?,
                contact_id: r.get(4)?,
                body: r.get(5)?,
                body_html: r.get(6)?,
                subject: r.get(7)?,
                to: parse(r.get(8)?),
                cc: parse(r.get(9)?),
                message_id: r.get(10)?,
                created_at: r.get(11)?,
                attachments: vec![],
                event: r.get::<_, Option<String>>(12)?.and_then(|e| serde_json::from_str(&e).ok()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare_cached(
        "SELECT x.message_id, t.token, t.file_name, t.content_type, t.size FROM ticket_message_attachments x
         JOIN attachments t ON t.id = x.attachment_id JOIN ticket_messages m ON m.id = x.message_id WHERE m.ticket_id = ?1",
    )?;
    let rows = st.query_map([ticket_id], |r| {
        let (token, name): (String, String) = (r.get(1)?, r.get(2)?);
        Ok((
            r.get::<_, i64>(0)?,
            AttachmentInfo { url: crate::chat::files::file_url(&token, &name), token, name, content_type: r.get(3)?, size: r.get(4)? },
        ))
    })?;
    for row in rows {
        let (mid, a) = row?;
        if let Some(m) = msgs.iter_mut().find(|m| m.id == mid) {
            m.attachments.push(a);
        }
    }
    Ok(msgs)
}

pub fn set_status(conn: &Connection, id: i64, status: Status, now: i64) -> Result<(), AppError> {
    conn.execute(
        "UPDATE tickets SET status = ?2, updated_at = ?3, snoozed_until = NULL,
            solved_at = CASE WHEN ?2 = 'solved' THEN ?3 ELSE NULL END WHERE id = ?1",
        params![id, status.as_str(), now],
    )?;
    Ok(())
}

pub fn snooze(conn: &Connection, id: i64, until: i64, now: i64) -> Result<(), AppError> {
    conn.execute(
        "UPDATE tickets SET status = 'pending', snoozed_until = ?2, updated_at = ?3, solved_at = NULL WHERE id = ?1",
        params![id, until, now],
    )?;
    Ok(())
}

/// Snoozed tickets whose time has come go back to Open. Returns their numbers.
pub fn wake_snoozed(conn: &Connection, now: i64) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare("UPDATE tickets SET status = 'open', snoozed_until = NULL, updated_at = ?1 WHERE snoozed_until IS NOT NULL AND snoozed_until <= ?1 RETURNING number")?;
    Ok(st.query_map([now], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

pub fn set_assignment(
    conn: &Connection,
    id: i64,
    agent_id: Option<Option<i64>>,
    department_id: Option<Option<i64>>,
    now: i64,
) -> Result<(), AppError> {
    if let Some(a) = agent_id {
        conn.execute("UPDATE tickets SET agent_id = ?2, updated_at = ?3 WHERE id = ?1", params![id, a, now])?;
    }
    if let Some(d) = department_id {
        conn.execute("UPDATE tickets SET department_id = ?2, updated_at = ?3 WHERE id = ?1", params![id, d, now])?;
    }
    Ok(())
}

pub fn set_subject(conn: &Connection, id: i64, subject: &str, now: i64) -> Result<(), AppError> {
    conn.execute("UPDATE tickets SET subject = ?2, updated_at = ?3 WHERE id = ?1", params![id, subject, now])?;
    Ok(())
}

pub fn set_contact(conn: &Connection, id: i64, contact_id: i64) -> Result<(), AppError> {
    conn.execute("UPDATE tickets SET contact_id = ?2 WHERE id = ?1", params![id, contact_id])?;
    Ok(())
}

pub fn set_tags(conn: &Connection, id: i64, tags: &[String]) -> Result<(), AppError> {
    conn.execute("DELETE FROM ticket_tags WHERE ticket_id = ?1", [id])?;
    let mut st = conn.prepare("INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?1, ?2)")?;
    for t in tags {
        st.execute(params![id, t])?;
    }
    Ok(())
}

/// The oldest open, unassigned, not snoozed ticket in the given departments (or without a
/// department), assigned to `agent_id` in the same statement. None when the pool is empty.
pub fn take_next(conn: &Connection, agent_id: i64, departments: &[i64], now: i64) -> Result<Option<i64>, AppError> {
    let depts = serde_json::to_string(departments).unwrap_or_else(|_| "[]".into());
    Ok(conn
        .query_row(
            "UPDATE tickets SET agent_id = ?1, updated_at = ?3 WHERE id = (
                SELECT id FROM tickets WHERE status = 'open' AND agent_id IS NULL AND snoozed_until IS NULL
                  AND (department_id IS NULL OR department_id IN (SELECT value FROM json_each(?2)))
                ORDER BY created_at, id LIMIT 1)
             RETURNING number",
            params![agent_id, depts, now],
            |r| r.get(0),
        )
        .optional()?)
}

/// Filters of the ticket list (T6). Every field is optional.
#[derive(Debug, Default, Clone, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub status: Option<String>,
    pub department_id: Option<i64>,
    /// An agent id, or "me" / "none" in the HTTP query (resolved before reaching here).
    pub agent_id: Option<i64>,
    #[serde(default)]
    pub unassigned: bool,
    pub tag: Option<String>,
    pub contact_id: Option<i64>,
    pub customer: Option<String>,
    pub q: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    #[serde(default)]
    pub include_snoozed: bool,
    /// Only snoozed tickets (they are Pending, and hidden from the plain Pending list).
    #[serde(default)]
    pub only_snoozed: bool,
}

/// Visibility of the caller: supervisors see all; agents their departments, their own
/// tickets and tickets without a department.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub agent_id: i64,
    pub sees_all: bool,
}

/// SQL condition for "the viewer may see ticket t", with the viewer's flags bound as `sup`
/// (sees all) and `me` (agent id) parameters.
pub(crate) fn visible(sup: &str, me: &str) -> String {
    format!(
        "({sup} OR t.agent_id = {me} OR t.department_id IS NULL
          OR t.department_id IN (SELECT department_id FROM department_members WHERE agent_id = {me}))"
    )
}

/// The WHERE clause of list and count. `text_clause` narrows by text: either the full
/// FTS match on `?8`, or a JSON list of candidate ticket ids in `?8` (search, below).
/// Supervisors skip the visibility test entirely, which keeps their queries index-only.
fn filter_sql(v: Viewer, text_clause: &str) -> String {
    let visibility = if v.sees_all { String::new() } else { format!("AND {}", visible("?10", "?11")) };
    format!(
        "(?1 IS NULL OR t.status = ?1)
         AND (?1 IS NOT 'pending' OR ?12 = 1 OR (?12 = 0 AND t.snoozed_until IS NULL) OR (?12 = 2 AND t.snoozed_until IS NOT NULL))
         AND (?2 IS NULL OR t.department_id = ?2)
         AND (?3 IS NULL OR t.agent_id = ?3)
         AND (NOT ?4 OR t.agent_id IS NULL)
         AND (?5 IS NULL OR t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = ?5))
         AND (?6 IS NULL OR t.contact_id = ?6)
         AND (?7 IS NULL OR t.contact_id IN (SELECT id FROM contacts WHERE email LIKE ?7 OR name LIKE ?7))
         AND {text_clause}
         AND (?9 IS NULL OR t.created_at >= ?9)
         AND (?13 IS NULL OR t.created_at < ?13)
         AND t.merged_into IS NULL
         {visibility}"
    )
}

const FTS_CLAUSE: &str = "(?8 IS NULL OR t.id IN (SELECT m.ticket_id FROM ticket_fts JOIN ticket_messages m ON m.id = ticket_fts.rowid WHERE ticket_fts MATCH ?8))";

fn filter_params(f: &Filter, v: Viewer) -> [rusqlite::types::Value; 13] {
    use rusqlite::types::Value as V;
    let text = |s: &Option<String>| s.clone().map(V::Text).unwrap_or(V::Null);
    let int = |i: Option<i64>| i.map(V::Integer).unwrap_or(V::Null);
    let customer = f.customer.as_ref().filter(|c| !c.trim().is_empty()).map(|c| format!("%{}%", c.trim().replace(['%', '_'], "")));
    let fts = f.q.as_deref().and_then(crate::db::fts::query);
    [
        text(&f.status),
        int(f.department_id),
        int(f.agent_id),
        V::Integer(f.unassigned as i64),
        text(&f.tag),
        int(f.contact_id),
        text(&customer),
        text(&fts),
        int(f.from),
        V::Integer(v.sees_all as i64),
        V::Integer(v.agent_id),
        // 0: hide snoozed from Pending, 1: include them, 2: only them.
        V::Integer(if f.only_snoozed { 2 } else { f.include_snoozed as i64 }),
        int(f.to),
    ]
}

pub fn list(
    conn: &Connection,
    f: &Filter,
    v: Viewer,
    oldest_first: bool,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Ticket>, AppError> {
    if let Some(fts) = f.q.as_deref().and_then(crate::db::fts::query) {
        return search(conn, f, v, &fts, limit as usize);
    }
    let order = if oldest_first { "t.created_at, t.id" } else { "t.id DESC" };
    let cursor = match (before, oldest_first) {
        (Some(_), false) => "AND t.number < ?14",
        (Some(_), true) => "AND t.number > ?14",
        (None, _) => "AND ?14 IS NULL",
    };
    let sql = format!("{TICKET_COLS} WHERE {} {cursor} ORDER BY {order} LIMIT ?15", filter_sql(v, FTS_CLAUSE));
    let mut p: Vec<rusqlite::types::Value> = filter_params(f, v).to_vec();
    p.push(before.map(rusqlite::types::Value::Integer).unwrap_or(rusqlite::types::Value::Null));
    p.push(rusqlite::types::Value::Integer(limit as i64));
    let mut st = conn.prepare_cached(&sql)?;
    Ok(st.query_map(rusqlite::params_from_iter(p), ticket)?.collect::<rusqlite::Result<_>>()?)
}

/// Most matching messages scanned per search; beyond it the result is what was found so far.
const SEARCH_SCAN_LIMIT: usize = 100_000;

/// Full-text search, most recently matched tickets first. Matching messages are read from the
/// index newest first in chunks, and each chunk's tickets are checked against the other filters,
/// until the page is full. A common word thus costs a few chunks instead of materializing every
/// match (which took ~150 ms on a million messages).
fn search(conn: &Connection, f: &Filter, v: Viewer, fts: &str, limit: usize) -> Result<Vec<Ticket>, AppError> {
    let mut hits = conn.prepare_cached(
        "SELECT m.ticket_id, m.id FROM ticket_fts JOIN ticket_messages m ON m.id = ticket_fts.rowid
         WHERE ticket_fts MATCH ?1 AND ticket_fts.rowid < ?2 ORDER BY ticket_fts.rowid DESC LIMIT 2000",
    )?;
    let mut narrow = conn.prepare_cached(&format!("{TICKET_COLS} WHERE {}", filter_sql(v, "t.id IN (SELECT value FROM json_each(?8))")))?;
    let mut out: Vec<Ticket> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let (mut below, mut scanned) = (i64::MAX, 0usize);
    while out.len() < limit && scanned < SEARCH_SCAN_LIMIT {
        let rows: Vec<(i64, i64)> =
            hits.query_map(params![fts, below], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let Some(&(_, last)) = rows.last() else { break };
        below = last;
        scanned += rows.len();
        let fresh: Vec<i64> = rows.into_iter().map(|(t, _)| t).filter(|t| seen.insert(*t)).collect();
        if fresh.is_empty() {
            continue;
        }
        let mut p = filter_params(f, v);
        p[7] = rusqlite::types::Value::Text(serde_json::to_string(&fresh).unwrap_or_else(|_| "[]".into()));
        let mut found: std::collections::HashMap<i64, Ticket> =
            narrow.query_map(rusqlite::params_from_iter(p), ticket)?.map(|t| t.map(|t| (t.id, t))).collect::<rusqlite::Result<_>>()?;
        for id in fresh {
            if let Some(t) = found.remove(&id) {
                out.push(t);
                if out.len() == limit {
                    break;
                }
            }
        }
    }
    Ok(out)
}

pub fn count(conn: &Connection, f: &Filter, v: Viewer) -> Result<i64, AppError> {
    let sql = format!("SELECT count(*) FROM tickets t WHERE {}", filter_sql(v, FTS_CLAUSE));
    let mut st = conn.prepare_cached(&sql)?;
    Ok(st.query_row(rusqlite::params_from_iter(filter_params(f, v)), |r| r.get(0))?)
}

/// Counts per status for the caller's visible tickets (sidebar counters).
/// Snoozed tickets are Pending but hidden from the Pending list; they are counted apart so the
/// counters match the lists.
const STATUS_OR_SNOOZED: &str = "CASE WHEN t.snoozed_until IS NOT NULL THEN 'snoozed' ELSE t.status END";

pub fn status_counts(conn: &Connection, v: Viewer) -> Result<Vec<(String, i64)>, AppError> {
    let row = |r: &Row| Ok((r.get(0)?, r.get(1)?));
    let rows = if v.sees_all {
        // Two index-only counts instead of grouping every ticket by the CASE (a table scan):
        // statuses in the order of `tickets_status_merged`, the few snoozed ones through the
        // partial index `tickets_snoozed` (V28), then snoozed moved out of their status.
        let mut st = conn.prepare_cached("SELECT status, count(*) FROM tickets WHERE merged_into IS NULL GROUP BY status")?;
        let mut counts: Vec<(String, i64)> = st.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
        let mut st = conn.prepare_cached(
            "SELECT status, count(*) FROM tickets WHERE snoozed_until IS NOT NULL AND merged_into IS NULL GROUP BY status",
        )?;
        let snoozed: Vec<(String, i64)> = st.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
        for (status, n) in &snoozed {
            if let Some(c) = counts.iter_mut().find(|(s, _)| s == status) {
                c.1 -= n;
            }
        }
        counts.retain(|(_, n)| *n > 0);
        let snoozed: i64 = snoozed.iter().map(|(_, n)| n).sum();
        if snoozed > 0 {
            counts.push(("snoozed".into(), snoozed));
        }
        counts
    } else {
        let sql = format!(
            "SELECT {STATUS_OR_SNOOZED}, count(*) FROM tickets t WHERE t.merged_into IS NULL AND {} GROUP BY 1",
            visible("?1", "?2")
        );
        let mut st = conn.prepare_cached(&sql)?;
        st.query_map(params![false, v.agent_id], row)?.collect::<rusqlite::Result<_>>()?
    };
    Ok(rows)
}

/// Tags in use on the tickets the viewer may see, with their counts, most used first
/// (suggestions for editors and filters).
pub fn tags_in_use(conn: &Connection, v: Viewer, limit: u32) -> Result<Vec<(String, i64)>, AppError> {
    let row = |r: &Row| Ok((r.get(0)?, r.get(1)?));
    if v.sees_all {
        let mut st = conn.prepare_cached("SELECT tag, count(*) FROM ticket_tags GROUP BY tag ORDER BY count(*) DESC, tag LIMIT ?1")?;
        return Ok(st.query_map([limit], row)?.collect::<rusqlite::Result<_>>()?);
    }
    let mut st = conn.prepare_cached(&format!(
        "SELECT g.tag, count(*) FROM ticket_tags g JOIN tickets t ON t.id = g.ticket_id WHERE {}
         GROUP BY g.tag ORDER BY count(*) DESC, g.tag LIMIT ?3",
        visible("?1", "?2")
    ))?;
    Ok(st.query_map(params![false, v.agent_id, limit], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Move every message of `from` into `into` (merge, T9).
pub fn move_all_messages(conn: &Connection, from: i64, into: i64) -> Result<usize, AppError> {
    Ok(conn.execute("UPDATE ticket_messages SET ticket_id = ?2 WHERE ticket_id = ?1", params![from, into])?)
}

pub fn move_message(conn: &Connection, message_id: i64, into: i64) -> Result<(), AppError> {
    conn.execute("UPDATE ticket_messages SET ticket_id = ?2 WHERE id = ?1", params![message_id, into])?;
    Ok(())
}

pub fn mark_merged(conn: &Connection, from: i64, into: i64, now: i64) -> Result<(), AppError> {
    conn.execute(
        "UPDATE tickets SET merged_into = ?2, status = 'solved', solved_at = ?3, updated_at = ?3 WHERE id = ?1",
        params![from, into, now],
    )?;
    Ok(())
}

/// (ticket id, kind) of a thread message.
pub fn message_owner(conn: &Connection, message_id: i64) -> Result<Option<(i64, Kind)>, AppError> {
    Ok(conn
        .query_row("SELECT ticket_id, kind FROM ticket_messages WHERE id = ?1", [message_id], |r| {
            Ok((r.get(0)?, Kind::parse(&r.get::<_, String>(1)?)))
        })
        .optional()?)
}

/// Other open or pending tickets of the same contact (T1) that the viewer may see, with their
/// assignees.
pub fn others_of_contact(conn: &Connection, contact_id: i64, except: i64, v: Viewer) -> Result<Vec<Ticket>, AppError> {
    let mut st = conn.prepare_cached(&format!(
        "{TICKET_COLS} WHERE t.contact_id = ?1 AND t.id != ?2 AND t.status IN ('open', 'pending') AND t.merged_into IS NULL
           AND {} ORDER BY t.id DESC LIMIT 20",
        visible("?3", "?4")
    ))?;
    Ok(st.query_map(params![contact_id, except, v.sees_all, v.agent_id], ticket)?.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- outbox

pub struct OutboxMail<'a> {
    pub kind: &'a str,
    pub to: &'a [String],
    pub cc: &'a [String],
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: Option<&'a str>,
    pub ticket_id: Option<i64>,
    pub ticket_message_id: Option<i64>,
    pub auto_submitted: bool,
    pub now: i64,
}

pub fn enqueue_mail(conn: &Connection, m: &OutboxMail) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO outbox (kind, to_addrs, cc_addrs, subject, body_text, body_html, message_id, in_reply_to, references_hdr,
                             ticket_id, ticket_message_id, auto_submitted, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
        params![
            m.kind,
            serde_json::to_string(m.to).unwrap_or_default(),
            (!m.cc.is_empty()).then(|| serde_json::to_string(m.cc).unwrap_or_default()),
            m.subject,
            m.body_text,
            m.body_html,
            m.message_id,
            m.in_reply_to,
            m.references,
            m.ticket_id,
            m.ticket_message_id,
            m.auto_submitted,
            m.now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Message-IDs of a ticket's thread, oldest first (for In-Reply-To / References).
pub fn thread_message_ids(conn: &Connection, ticket_id: i64) -> Result<Vec<String>, AppError> {
    let mut st = conn
        .prepare_cached("SELECT message_id FROM ticket_messages WHERE ticket_id = ?1 AND message_id IS NOT NULL ORDER BY created_at, id")?;
    Ok(st.query_map([ticket_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- the widget

/// The visitor who left a message is now known as this contact (their name and address, when
/// given, fill the visitor's own).
pub fn link_visitor(conn: &Connection, visitor_id: i64, contact_id: i64, name: Option<&str>, email: Option<&str>) -> Result<(), AppError> {
    conn.execute(
        "UPDATE visitors SET contact_id = ?2, name = coalesce(?3, name), email = coalesce(?4, email) WHERE id = ?1",
        params![visitor_id, contact_id, name, email],
    )?;
    Ok(())
}

/// A ticket as the widget lists it.
#[derive(Debug, Clone)]
pub struct VisitorTicketRow {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub created_at: i64,
}

/// A visitor's own tickets, newest first.
pub fn visitor_tickets(conn: &Connection, visitor_id: i64, limit: u32) -> Result<Vec<VisitorTicketRow>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT id, number, subject, status, created_at FROM tickets WHERE visitor_id = ?1 AND merged_into IS NULL ORDER BY id DESC LIMIT ?2",
    )?;
    let row =
        |r: &Row| Ok(VisitorTicketRow { id: r.get(0)?, number: r.get(1)?, subject: r.get(2)?, status: r.get(3)?, created_at: r.get(4)? });
    Ok(st.query_map(params![visitor_id, limit], row)?.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- saved views

/// A saved view as stored: its filters are JSON, read by `tickets::views`.
#[derive(Debug, Clone)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    pub filters: String,
}

fn saved_view(r: &Row) -> rusqlite::Result<SavedView> {
    Ok(SavedView { id: r.get(0)?, name: r.get(1)?, filters: r.get(2)? })
}

/// One of the agent's views; None when it does not exist or is someone else's.
pub fn saved_view_of(conn: &Connection, id: i64, agent_id: i64) -> Result<Option<SavedView>, AppError> {
    Ok(conn
        .query_row("SELECT id, name, filters FROM saved_views WHERE id = ?1 AND agent_id = ?2", params![id, agent_id], saved_view)
        .optional()?)
}

pub fn saved_views(conn: &Connection, agent_id: i64) -> Result<Vec<SavedView>, AppError> {
    let mut st = conn.prepare_cached("SELECT id, name, filters FROM saved_views WHERE agent_id = ?1 ORDER BY position, id")?;
    Ok(st.query_map([agent_id], saved_view)?.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_saved_view(conn: &Connection, agent_id: i64, name: &str, filters: &str, now: i64) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO saved_views (agent_id, name, filters, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![agent_id, name, filters, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Whether the agent had such a view.
pub fn delete_saved_view(conn: &Connection, id: i64, agent_id: i64) -> Result<bool, AppError> {
    Ok(conn.execute("DELETE FROM saved_views WHERE id = ?1 AND agent_id = ?2", params![id, agent_id])? > 0)
}
