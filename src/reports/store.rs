//! SQL for reports: the stored facts the figures are computed from, the monitor's live
//! counts, the CSV exports' rows and the per-user metric choice.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::daily::{ChatFact as DailyChatFact, DayFacts};
use super::{CHAT_CHANNEL, ChatFact, InvitationFact, TicketFact, Timeline};
use crate::chat::{EndedBy, Outcome};
use crate::error::AppError;
use crate::routing::AgentStatus;

// Read as borrowed text (no string per row: a year's report reads 100,000 of them).
fn ended_by(s: Option<&str>) -> Option<EndedBy> {
    match s? {
        "agent" => Some(EndedBy::Agent),
        "visitor" => Some(EndedBy::Visitor),
        "timeout" => Some(EndedBy::Timeout),
        _ => Some(EndedBy::System),
    }
}

fn outcome(s: Option<&str>) -> Option<Outcome> {
    match s? {
        "served" => Some(Outcome::Served),
        "cancelled" => Some(Outcome::Cancelled),
        "missed" => Some(Outcome::Missed),
        _ => None,
    }
}

/// Which of a period's chats or tickets a report needs: all, or only those with a tag (the
/// tags report counts nothing else), or for tickets only the offline messages created in it (the
/// heatmap's). Fewer rows read; the figures are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    All,
    Tagged,
    Offline,
}

/// Chats that started in `[start, end)`, oldest first: read from the covering index
/// `conversations_report` (V27) alone, without visiting the rows. With [`Needed::Tagged`] the
/// walk starts from the chat tags instead (in no particular order).
pub fn chats(conn: &Connection, start: i64, end: i64, needed: Needed) -> Result<Vec<ChatFact>, AppError> {
    let mut st = conn.prepare_cached(if needed == Needed::Tagged {
        "SELECT c.id, c.department_id, c.agent_id, c.created_at, c.assigned_at, c.first_agent_reply_at, c.ended_at, c.ended_by,
                c.outcome, c.response_sum_ms, c.responses
         FROM (SELECT DISTINCT conversation_id FROM conversation_tags) t CROSS JOIN conversations c ON c.id = t.conversation_id
         WHERE c.created_at >= ?1 AND c.created_at < ?2"
    } else {
        "SELECT id, department_id, agent_id, created_at, assigned_at, first_agent_reply_at, ended_at, ended_by, outcome,
                response_sum_ms, responses
         FROM conversations WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at, id"
    })?;
    let rows = st.query_map(params![start, end], |r| {
        let agent: Option<i64> = r.get(2)?;
        Ok(ChatFact {
            id: r.get(0)?,
            department_id: r.get(1)?,
            agent_id: agent,
            handlers: vec![],
            channel: CHAT_CHANNEL,
            created_at: r.get(3)?,
            assigned_at: r.get(4)?,
            first_agent_reply_at: r.get(5)?,
            ended_at: r.get(6)?,
            ended_by: ended_by(r.get_ref(7)?.as_str_or_null()?),
            outcome: outcome(r.get_ref(8)?.as_str_or_null()?),
            tags: vec![],
            rating: None,
            response_sum_ms: r.get(9)?,
            responses: r.get::<_, i64>(10)? as u64,
        })
    })?;
    let mut out: Vec<ChatFact> = rows.collect::<rusqlite::Result<_>>()?;
    // Their tags (C9) and the visitors' ratings (W8, good = 5, bad = 1 on the report's 1–5
    // scale, so CSAT is the share of good ones), one query each, joined here.
    let mut tags = tags_by_id(
        conn,
        "SELECT t.conversation_id, t.tag FROM conversation_tags t JOIN conversations c ON c.id = t.conversation_id
         WHERE c.created_at >= ?1 AND c.created_at < ?2 ORDER BY t.tag",
        start,
        end,
    )?;
    let mut ratings: HashMap<i64, u8> = HashMap::new();
    let mut st = conn.prepare_cached(
        "SELECT r.conversation_id, r.rating FROM chat_ratings r JOIN conversations c ON c.id = r.conversation_id
         WHERE c.created_at >= ?1 AND c.created_at < ?2",
    )?;
    for row in st.query_map(params![start, end], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, rating) = row?;
        ratings.insert(id, if rating == "good" { 5 } else { 1 });
    }
    // The agents a moved chat had before its current one (V30), oldest first: only moved
    // chats have rows, so this reads a few, not one per chat.
    let mut handoffs: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut st = conn.prepare_cached(
        "SELECT h.conversation_id, h.agent_id FROM conversation_handoffs h JOIN conversations c ON c.id = h.conversation_id
         WHERE c.created_at >= ?1 AND c.created_at < ?2 ORDER BY h.conversation_id, h.rowid",
    )?;
    for row in st.query_map(params![start, end], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (id, agent) = row?;
        handoffs.entry(id).or_default().push(agent);
    }
    for c in &mut out {
        c.tags = tags.remove(&c.id).unwrap_or_default();
        c.rating = ratings.get(&c.id).copied();
        if let Some(mut earlier) = handoffs.remove(&c.id) {
            earlier.extend(c.agent_id);
            c.handlers = earlier;
        }
    }
    Ok(out)
}

/// Tickets that bear on `[start, end)`: created before its end and not solved before its
/// start (created, solved or in the backlog within it), with their tags; read from the covering
/// index `tickets_report` (V27) alone. [`Needed::Tagged`] and [`Needed::Offline`]: only the
/// tickets created in the period with a tag, or from the offline form.
pub fn tickets(conn: &Connection, start: i64, end: i64, needed: Needed) -> Result<Vec<TicketFact>, AppError> {
    let mut st = conn.prepare_cached(match needed {
        Needed::All => {
            "SELECT id, department_id, agent_id, source, status, created_at, first_reply_at, solved_at
             FROM tickets WHERE created_at < ?2 AND (solved_at IS NULL OR solved_at >= ?1) AND merged_into IS NULL"
        }
        Needed::Tagged => {
            "SELECT t.id, t.department_id, t.agent_id, t.source, t.status, t.created_at, t.first_reply_at, t.solved_at
             FROM (SELECT DISTINCT ticket_id FROM ticket_tags) g CROSS JOIN tickets t ON t.id = g.ticket_id
             WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.merged_into IS NULL"
        }
        Needed::Offline => {
            "SELECT id, department_id, agent_id, source, status, created_at, first_reply_at, solved_at
             FROM tickets WHERE created_at >= ?1 AND created_at < ?2 AND merged_into IS NULL AND source = 'offline'"
        }
    })?;
    let mut out: Vec<TicketFact> = st
        .query_map(params![start, end], |r| {
            Ok(TicketFact {
                id: r.get(0)?,
                department_id: r.get(1)?,
                agent_id: r.get(2)?,
                source: r.get(3)?,
                status: r.get(4)?,
                created_at: r.get(5)?,
                first_reply_at: r.get(6)?,
                solved_at: r.get(7)?,
                tags: vec![],
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    let mut st = conn.prepare_cached(if needed == Needed::All {
        "SELECT g.ticket_id, g.tag FROM ticket_tags g JOIN tickets t ON t.id = g.ticket_id
         WHERE t.created_at < ?2 AND (t.solved_at IS NULL OR t.solved_at >= ?1) AND t.merged_into IS NULL"
    } else {
        "SELECT g.ticket_id, g.tag FROM ticket_tags g JOIN tickets t ON t.id = g.ticket_id
         WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.merged_into IS NULL"
    })?;
    for row in st.query_map(params![start, end], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, tag) = row?;
        tags.entry(id).or_default().push(tag);
    }
    for t in &mut out {
        if let Some(v) = tags.remove(&t.id) {
            t.tags = v;
        }
    }
    Ok(out)
}

/// Invitations sent in `[start, end)` (SPEC W9), with the tags of the chats they began.
pub fn invitations(conn: &Connection, start: i64, end: i64) -> Result<Vec<InvitationFact>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT id, sent_at, department_id, agent_id, status = 'accepted' FROM invitations WHERE sent_at >= ?1 AND sent_at < ?2",
    )?;
    let mut ids = Vec::new();
    let mut out: Vec<InvitationFact> = st
        .query_map(params![start, end], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                InvitationFact { sent_at: r.get(1)?, department_id: r.get(2)?, agent_id: r.get(3)?, accepted: r.get(4)?, tags: vec![] },
            ))
        })?
        .map(|row| {
            row.map(|(id, f)| {
                ids.push(id);
                f
            })
        })
        .collect::<rusqlite::Result<_>>()?;
    let mut tags = tags_by_id(
        conn,
        "SELECT i.id, t.tag FROM invitations i JOIN conversation_tags t ON t.conversation_id = i.conversation_id
         WHERE i.sent_at >= ?1 AND i.sent_at < ?2 ORDER BY t.tag",
        start,
        end,
    )?;
    for (f, id) in out.iter_mut().zip(&ids) {
        f.tags = tags.remove(id).unwrap_or_default();
    }
    Ok(out)
}

/// Every agent's status timeline over `[start, end)`: the status before `start` (the last
/// change before it, else the first change's `from`, else the current status) and the changes
/// inside.
pub fn timelines(conn: &Connection, start: i64, end: i64) -> Result<Vec<Timeline>, AppError> {
    let parse = |s: String| AgentStatus::parse(&s).unwrap_or(AgentStatus::Offline);
    let mut st = conn.prepare_cached(
        "SELECT a.id, a.status,
                (SELECT h.to_status FROM agent_status_history h WHERE h.agent_id = a.id AND h.at < ?1 ORDER BY h.at DESC, h.id DESC LIMIT 1),
                (SELECT h.from_status FROM agent_status_history h WHERE h.agent_id = a.id AND h.at >= ?1 ORDER BY h.at, h.id LIMIT 1)
         FROM agents a ORDER BY a.id",
    )?;
    let mut out: Vec<Timeline> = st
        .query_map(params![start], |r| {
            let (id, current, before, first_from): (i64, String, Option<String>, Option<String>) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            Ok(Timeline { agent_id: id, initial: parse(before.or(first_from).unwrap_or(current)), changes: vec![] })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let index: HashMap<i64, usize> = out.iter().enumerate().map(|(i, t)| (t.agent_id, i)).collect();
    let mut st = conn
        .prepare_cached("SELECT agent_id, at, to_status FROM agent_status_history WHERE at >= ?1 AND at < ?2 ORDER BY agent_id, at, id")?;
    for row in st.query_map(params![start, end], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))? {
        let (agent, at, to) = row?;
        if let Some(&i) = index.get(&agent) {
            out[i].changes.push((at, parse(to)));
        }
    }
    Ok(out)
}

/// Agent names by id (rows of the agents report).
pub fn agent_names(conn: &Connection) -> Result<HashMap<i64, String>, AppError> {
    let mut st = conn.prepare_cached("SELECT id, name FROM agents")?;
    Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- monitor

/// A waiting chat: department and start.
pub fn waiting(conn: &Connection) -> Result<Vec<(Option<i64>, i64)>, AppError> {
    let mut st = conn.prepare_cached("SELECT department_id, created_at FROM conversations WHERE status = 'queued'")?;
    Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// Chats in progress by department.
pub fn in_progress(conn: &Connection) -> Result<Vec<(Option<i64>, i64)>, AppError> {
    let mut st = conn.prepare_cached("SELECT department_id, count(*) FROM conversations WHERE status = 'active' GROUP BY department_id")?;
    Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// Today's outcomes: (served, missed, cancelled) of chats that ended since `since`.
pub fn outcomes_since(conn: &Connection, since: i64) -> Result<(u64, u64, u64), AppError> {
    Ok(conn.query_row(
        "SELECT coalesce(sum(outcome = 'served'), 0), coalesce(sum(outcome = 'missed'), 0), coalesce(sum(outcome = 'cancelled'), 0)
         FROM conversations WHERE created_at >= ?1 AND status = 'ended'",
        [since],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64)),
    )?)
}

// ---------------------------------------------------------------- exports

/// One row of the conversations export.
pub struct ConvExport {
    pub id: i64,
    pub department: Option<String>,
    pub agent: Option<String>,
    pub visitor_name: Option<String>,
    pub visitor_email: Option<String>,
    pub status: String,
    pub outcome: Option<String>,
    pub ended_by: Option<String>,
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub first_agent_reply_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub messages: i64,
    pub page_url: Option<String>,
}

/// Up to `limit` conversations that started in `[start, end)` after the key `after`
/// (created_at, id), in that order: a keyset walk along the `created_at` index.
pub fn conversations_page(conn: &Connection, after: (i64, i64), end: i64, limit: i64) -> Result<Vec<ConvExport>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT c.id, d.name, a.name, v.name, v.email, c.status, c.outcome, c.ended_by, c.created_at, c.assigned_at,
                c.first_agent_reply_at, c.ended_at, c.last_seq, c.page_url
         FROM conversations c LEFT JOIN departments d ON d.id = c.department_id LEFT JOIN agents a ON a.id = c.agent_id
         JOIN visitors v ON v.id = c.visitor_id
         WHERE (c.created_at, c.id) > (?1, ?2) AND c.created_at < ?3 ORDER BY c.created_at, c.id LIMIT ?4",
    )?;
    let rows = st.query_map(params![after.0, after.1, end, limit], |r| {
        Ok(ConvExport {
            id: r.get(0)?,
            department: r.get(1)?,
            agent: r.get(2)?,
            visitor_name: r.get(3)?,
            visitor_email: r.get(4)?,
            status: r.get(5)?,
            outcome: r.get(6)?,
            ended_by: r.get(7)?,
            created_at: r.get(8)?,
            assigned_at: r.get(9)?,
            first_agent_reply_at: r.get(10)?,
            ended_at: r.get(11)?,
            messages: r.get(12)?,
            page_url: r.get(13)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub struct TicketExport {
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub source: String,
    pub department: Option<String>,
    pub agent: Option<String>,
    pub customer_email: Option<String>,
    pub created_at: i64,
    pub first_reply_at: Option<i64>,
    pub solved_at: Option<i64>,
    pub tags: Option<String>,
}

/// Up to `limit` tickets created in `[start, end)` after the key `after` (created_at, id).
pub fn tickets_page(conn: &Connection, after: (i64, i64), end: i64, limit: i64) -> Result<Vec<(i64, TicketExport)>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT t.id, t.number, t.subject, t.status, t.source, d.name, a.name, c.email, t.created_at, t.first_reply_at, t.solved_at,
                (SELECT group_concat(tag, ' ') FROM (SELECT tag FROM ticket_tags g WHERE g.ticket_id = t.id ORDER BY tag))
         FROM tickets t LEFT JOIN departments d ON d.id = t.department_id LEFT JOIN agents a ON a.id = t.agent_id
         LEFT JOIN contacts c ON c.id = t.contact_id
         WHERE (t.created_at, t.id) > (?1, ?2) AND t.created_at < ?3 ORDER BY t.created_at, t.id LIMIT ?4",
    )?;
    let rows = st.query_map(params![after.0, after.1, end, limit], |r| {
        Ok((
            r.get(0)?,
            TicketExport {
                number: r.get(1)?,
                subject: r.get(2)?,
                status: r.get(3)?,
                source: r.get(4)?,
                department: r.get(5)?,
                agent: r.get(6)?,
                customer_email: r.get(7)?,
                created_at: r.get(8)?,
                first_reply_at: r.get(9)?,
                solved_at: r.get(10)?,
                tags: r.get(11)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- preferences and settings

fn metrics_key(agent_id: i64) -> String {
    format!("report_metrics:{agent_id}")
}

/// The metrics an agent chose to see on the reports page (None: the default set).
pub fn chosen_metrics(conn: &Connection, agent_id: i64) -> Result<Option<Vec<String>>, AppError> {
    Ok(crate::settings::store::get(conn, &metrics_key(agent_id))?.and_then(|v| serde_json::from_str(&v).ok()))
}

pub fn set_chosen_metrics(conn: &Connection, agent_id: i64, metrics: &[String]) -> Result<(), AppError> {
    let json = serde_json::to_string(metrics).map_err(|e| AppError::internal(e.to_string()))?;
    crate::settings::store::set(conn, &metrics_key(agent_id), &json)
}

pub const SETTINGS_KEY: &str = "reports";

pub fn settings(conn: &Connection) -> Result<super::monitor::ReportSettings, AppError> {
    Ok(crate::settings::store::get(conn, SETTINGS_KEY)?.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
}

pub fn save_settings(conn: &Connection, s: &super::monitor::ReportSettings) -> Result<(), AppError> {
    let json = serde_json::to_string(s).map_err(|e| AppError::internal(e.to_string()))?;
    crate::settings::store::set(conn, SETTINGS_KEY, &json)
}

// ---------------------------------------------------------------- the daily summary
//
// The facts of one agent's local day (`reports::daily::DayFacts`), who gets a summary, and the
// ledger that sends it at most once per agent and day.

/// The facts of agent `agent`'s day `[start, end)` (ms); `ratings` are the visitors' ratings
/// given that day to chats the agent served (true = good).
pub fn daily_facts(conn: &Connection, agent: i64, start: i64, end: i64) -> Result<DayFacts, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT coalesce(assigned_at, created_at), first_agent_reply_at, outcome FROM conversations
         WHERE agent_id = ?1 AND coalesce(assigned_at, created_at) >= ?2 AND coalesce(assigned_at, created_at) < ?3
         ORDER BY 1",
    )?;
    let chats = st
        .query_map(params![agent, start, end], |r| Ok(DailyChatFact { start: r.get(0)?, first_reply_at: r.get(1)?, outcome: r.get(2)? }))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut st = conn.prepare_cached(
        "SELECT created_at FROM ticket_messages WHERE agent_id = ?1 AND kind = 'reply' AND created_at >= ?2 AND created_at < ?3
         ORDER BY created_at",
    )?;
    let replies_at = st.query_map(params![agent, start, end], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    let (tickets_opened, tickets_solved, tickets_open) = conn.query_row(
        "SELECT coalesce(sum(created_at >= ?2 AND created_at < ?3), 0),
                coalesce(sum(status = 'solved' AND solved_at >= ?2 AND solved_at < ?3), 0),
                coalesce(sum(status IN ('open', 'pending')), 0)
         FROM tickets WHERE agent_id = ?1 AND merged_into IS NULL",
        params![agent, start, end],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut st = conn.prepare_cached(
        "SELECT rating = 'good' FROM chat_ratings WHERE agent_id = ?1 AND rated_at >= ?2 AND rated_at < ?3 ORDER BY rated_at",
    )?;
    let ratings = st.query_map(params![agent, start, end], |r| r.get(0))?.collect::<rusqlite::Result<Vec<bool>>>()?;
    Ok(DayFacts { chats, ratings, tickets_opened, tickets_solved, tickets_open, replies_at })
}

/// An agent who gets summaries: (id, email, name, locale).
pub type DailyRecipient = (i64, String, String, String);

/// Enabled agents who did not opt out, by id.
pub fn daily_recipients(conn: &Connection) -> Result<Vec<DailyRecipient>, AppError> {
    let mut st = conn.prepare_cached("SELECT id, email, name, locale FROM agents WHERE disabled = 0 AND daily_summary = 1 ORDER BY id")?;
    Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// One agent as a recipient (also when opted out or disabled: the CLI's dry run shows anyone).
pub fn daily_recipient(conn: &Connection, agent: i64) -> Result<Option<DailyRecipient>, AppError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT id, email, name, locale FROM agents WHERE id = ?1", [agent], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?)
}

/// How many agents who get summaries have no ledger entry for `day` yet (the scheduler reads
/// this before it takes the writer).
pub fn daily_missing(conn: &Connection, day: &str) -> Result<i64, AppError> {
    crate::db::count(
        conn,
        "SELECT count(*) FROM agents a WHERE a.disabled = 0 AND a.daily_summary = 1
         AND NOT EXISTS (SELECT 1 FROM daily_summaries s WHERE s.agent_id = a.id AND s.day = ?1)",
        [day],
    )
}

/// Take the ledger entry of (agent, day): true when this call took it (nobody made that
/// summary before). Runs in the transaction that queues the mail.
pub fn daily_claim(conn: &Connection, agent: i64, day: &str, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute(
        "INSERT INTO daily_summaries (agent_id, day, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (agent_id, day) DO NOTHING",
        params![agent, day, now],
    )? == 1)
}

/// The mail that carries the (agent, day) summary.
pub fn daily_set_outbox(conn: &Connection, agent: i64, day: &str, outbox_id: i64) -> Result<(), AppError> {
    conn.execute("UPDATE daily_summaries SET outbox_id = ?3 WHERE agent_id = ?1 AND day = ?2", params![agent, day, outbox_id])?;
    Ok(())
}

/// Whether the agent gets the daily summary (their profile's switch).
pub fn daily_opted_in(conn: &Connection, agent: i64) -> Result<bool, AppError> {
    Ok(crate::db::count(conn, "SELECT count(*) FROM agents WHERE id = ?1 AND daily_summary = 1", [agent])? > 0)
}

pub fn daily_set_opted_in(conn: &Connection, agent: i64, on: bool) -> Result<(), AppError> {
    conn.execute("UPDATE agents SET daily_summary = ?2 WHERE id = ?1", params![agent, on])?;
    Ok(())
}

/// Tags grouped by the id in the first column of `sql` (`id, tag` rows for a `[?1, ?2)` range,
/// in tag order): one query, joined to its rows by the caller.
fn tags_by_id(conn: &Connection, sql: &str, start: i64, end: i64) -> Result<HashMap<i64, Vec<String>>, AppError> {
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    let mut st = conn.prepare_cached(sql)?;
    for row in st.query_map(params![start, end], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, tag) = row?;
        tags.entry(id).or_default().push(tag);
    }
    Ok(tags)
}
