//! SQL for the reports. The daily summary's lookups are the `daily_*` functions: the facts of
//! one agent's local day (`reports::daily::DayFacts`), who gets a summary, and the ledger that
//! sends it at most once per agent and day.

use rusqlite::{Connection, params};

use super::daily::{ChatFact, DayFacts};
use crate::error::AppError;

/// The facts of agent `agent`'s day `[start, end)` (ms). Chat ratings are not stored yet, so
/// `ratings` stays empty (the summary says "no ratings").
pub fn daily_facts(conn: &Connection, agent: i64, start: i64, end: i64) -> Result<DayFacts, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT coalesce(assigned_at, created_at), first_agent_reply_at, outcome FROM conversations
         WHERE agent_id = ?1 AND coalesce(assigned_at, created_at) >= ?2 AND coalesce(assigned_at, created_at) < ?3
         ORDER BY 1",
    )?;
    let chats = st
        .query_map(params![agent, start, end], |r| Ok(ChatFact { start: r.get(0)?, first_reply_at: r.get(1)?, outcome: r.get(2)? }))?
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
    Ok(DayFacts { chats, ratings: vec![], tickets_opened, tickets_solved, tickets_open, replies_at })
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
