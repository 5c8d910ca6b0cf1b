//! SQL for routing: agent status and its history, department chat rules, the snapshot the
//! distribution decision runs on, and the routing settings row.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{AgentLoad, AgentStatus, DeptRules, OfflineBehaviour, RoutingSettings, Snapshot, StatusReason, Waiting, Week};
use crate::error::AppError;

pub const SETTINGS_KEY: &str = "routing";

// ---------------------------------------------------------------- status

pub fn status(conn: &Connection, agent_id: i64) -> Result<Option<AgentStatus>, AppError> {
    let s: Option<String> = conn.query_row("SELECT status FROM agents WHERE id = ?1", [agent_id], |r| r.get(0)).optional()?;
    Ok(s.and_then(|s| AgentStatus::parse(&s)))
}

pub fn chosen_status(conn: &Connection, agent_id: i64) -> Result<Option<AgentStatus>, AppError> {
    let s: Option<String> = conn.query_row("SELECT chosen_status FROM agents WHERE id = ?1", [agent_id], |r| r.get(0)).optional()?;
    Ok(s.and_then(|s| AgentStatus::parse(&s)))
}

/// Set the status and, when it changed, write the history row. A manual change is also
/// remembered as the status login restores. Returns the previous status when it changed.
pub fn set_status(
    conn: &Connection,
    agent_id: i64,
    to: AgentStatus,
    reason: StatusReason,
    now: i64,
) -> Result<Option<AgentStatus>, AppError> {
    let from = status(conn, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if reason == StatusReason::Manual {
        conn.execute("UPDATE agents SET chosen_status = ?2 WHERE id = ?1", params![agent_id, to.as_str()])?;
    }
    if from == to {
        return Ok(None);
    }
    conn.execute("UPDATE agents SET status = ?2 WHERE id = ?1", params![agent_id, to.as_str()])?;
    conn.execute(
        "INSERT INTO agent_status_history (agent_id, from_status, to_status, at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![agent_id, from.as_str(), to.as_str(), now, reason.as_str()],
    )?;
    Ok(Some(from))
}

/// Agents whose status is not offline.
pub fn not_offline(conn: &Connection) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare("SELECT id FROM agents WHERE status != 'offline' ORDER BY id")?;
    Ok(st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub from: String,
    pub to: String,
    pub at: i64,
    pub reason: String,
}

/// An agent's status changes, oldest first (at most the last 500).
pub fn history(conn: &Connection, agent_id: i64) -> Result<Vec<HistoryRow>, AppError> {
    let mut st = conn.prepare(
        "SELECT from_status, to_status, at, reason FROM (
            SELECT * FROM agent_status_history WHERE agent_id = ?1 ORDER BY at DESC, id DESC LIMIT 500
         ) ORDER BY at, id",
    )?;
    Ok(st
        .query_map([agent_id], |r| Ok(HistoryRow { from: r.get(0)?, to: r.get(1)?, at: r.get(2)?, reason: r.get(3)? }))?
        .collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- slots

/// (chat limit, active chats) of an agent.
pub fn load(conn: &Connection, agent_id: i64) -> Result<Option<(i64, i64)>, AppError> {
    Ok(conn
        .query_row(
            "SELECT chat_limit, (SELECT count(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'active')
             FROM agents a WHERE a.id = ?1",
            [agent_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Set the chat limit of several agents; the number of agents changed.
pub fn set_chat_limits(conn: &Connection, agent_ids: &[i64], limit: i64, now: i64) -> Result<usize, AppError> {
    let mut st = conn.prepare_cached("UPDATE agents SET chat_limit = ?2, updated_at = ?3 WHERE id = ?1")?;
    let mut n = 0;
    for id in agent_ids {
        n += st.execute(params![id, limit, now])?;
    }
    Ok(n)
}

// ---------------------------------------------------------------- departments

const RULES: &str =
    "SELECT id, name, visible, priority, timezone, hours, holidays, queue_limit, offline_behaviour, origins FROM departments";

fn json_list(s: Option<String>) -> Vec<String> {
    s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn rules_row(r: &Row) -> rusqlite::Result<DeptRules> {
    let hours: Option<String> = r.get(5)?;
    Ok(DeptRules {
        id: r.get(0)?,
        name: r.get(1)?,
        visible: r.get(2)?,
        priority: r.get(3)?,
        timezone: r.get(4)?,
        hours: hours.and_then(|h| serde_json::from_str(&h).ok()).and_then(|v| Week::from_json(&v).ok()),
        holidays: json_list(r.get(6)?),
        queue_limit: r.get(7)?,
        offline: OfflineBehaviour::parse(&r.get::<_, String>(8)?),
        origins: json_list(r.get(9)?),
    })
}

pub fn departments(conn: &Connection) -> Result<Vec<DeptRules>, AppError> {
    let mut st = conn.prepare_cached(&format!("{RULES} ORDER BY name COLLATE NOCASE, id"))?;
    Ok(st.query_map([], rules_row)?.collect::<rusqlite::Result<_>>()?)
}

pub fn department(conn: &Connection, id: i64) -> Result<Option<DeptRules>, AppError> {
    Ok(conn.query_row(&format!("{RULES} WHERE id = ?1"), [id], rules_row).optional()?)
}

/// Write a department's chat rules (already validated).
pub fn set_department_rules(conn: &Connection, d: &DeptRules) -> Result<(), AppError> {
    let hours = d.hours.as_ref().map(|w| w.to_json().to_string());
    let holidays = (!d.holidays.is_empty()).then(|| serde_json::to_string(&d.holidays).unwrap_or_default());
    let origins = (!d.origins.is_empty()).then(|| serde_json::to_string(&d.origins).unwrap_or_default());
    conn.execute(
        "UPDATE departments SET priority = ?2, timezone = ?3, hours = ?4, holidays = ?5, queue_limit = ?6,
                                offline_behaviour = ?7, origins = ?8 WHERE id = ?1",
        params![d.id, d.priority, d.timezone, hours, holidays, d.queue_limit, d.offline.as_str(), origins],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- snapshot and queue

/// Everything the decision needs, read inside the caller's transaction.
pub fn snapshot(conn: &Connection, now: i64) -> Result<Snapshot, AppError> {
    // active_chats and last_assigned_at are kept by V29's triggers and the departments read in
    // one pass: counting and seeking per agent cost every widget hello hundreds of index
    // lookups (BENCHMARKS P4).
    let mut members: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    let mut st = conn.prepare_cached("SELECT agent_id, department_id FROM department_members ORDER BY agent_id, department_id")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        members.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    let mut st =
        conn.prepare_cached("SELECT id, status, chat_limit, active_chats, last_assigned_at FROM agents WHERE disabled = 0 ORDER BY id")?;
    let agents = st
        .query_map([], |r| {
            let id = r.get(0)?;
            Ok(AgentLoad {
                id,
                status: AgentStatus::parse(&r.get::<_, String>(1)?).unwrap_or(AgentStatus::Offline),
                chat_limit: r.get(2)?,
                active: r.get(3)?,
                last_assigned_at: r.get(4)?,
                departments: members.remove(&id).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st =
        // Waiting since: the transfer that put the chat back into a queue, else its start.
        conn.prepare_cached(
            "SELECT id, department_id, coalesce(queued_at, created_at) AS since FROM conversations WHERE status = 'queued' ORDER BY since, id",
        )?;
    let waiting: Vec<Waiting> = st
        .query_map([], |r| Ok(Waiting { conversation: r.get(0)?, department_id: r.get(1)?, created_at: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    // Only needed for estimates: skipped while nobody waits. Recent chats by their start (the
    // created_at index), so a large archive is never scanned.
    let avg: Option<f64> = if waiting.is_empty() {
        None
    } else {
        conn.prepare_cached(
            "SELECT avg(ended_at - assigned_at) FROM (
                SELECT ended_at, assigned_at FROM conversations
                WHERE created_at >= CAST(?1 AS INTEGER) AND outcome = 'served' AND assigned_at IS NOT NULL ORDER BY created_at DESC LIMIT 200)",
        )?
        .query_row([now - 7 * 86_400_000], |r| r.get(0))?
    };
    Ok(Snapshot { agents, departments: departments(conn)?, waiting, avg_chat_ms: avg.map(|a| a as i64) })
}

/// The department of a conversation (outer None: no such conversation).
pub fn conv_department(conn: &Connection, conversation: i64) -> Result<Option<Option<i64>>, AppError> {
    Ok(conn.query_row("SELECT department_id FROM conversations WHERE id = ?1", [conversation], |r| r.get(0)).optional()?)
}

pub fn set_conv_department(conn: &Connection, conversation: i64, department_id: Option<i64>) -> Result<(), AppError> {
    conn.execute("UPDATE conversations SET department_id = ?2 WHERE id = ?1", params![conversation, department_id])?;
    Ok(())
}

// ---------------------------------------------------------------- settings

pub fn settings(conn: &Connection) -> Result<RoutingSettings, AppError> {
    let raw = crate::settings::store::get(conn, SETTINGS_KEY)?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default())
}

pub fn save_settings(conn: &Connection, s: &RoutingSettings) -> Result<(), AppError> {
    let json = serde_json::to_string(s).map_err(|e| AppError::internal(e.to_string()))?;
    crate::settings::store::set(conn, SETTINGS_KEY, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::store as chat;

    /// V29's triggers keep `agents.active_chats` equal to a fresh count, and `last_assigned_at`
    /// at the agent's latest assignment, through every way a chat changes hands: assign,
    /// reassign (transfer, take-over), requeue, end, delete.
    #[test]
    fn active_chats_follow_every_change_of_a_chat() {
        let (_dir, c) = crate::db::test_connection();
        let agent = |n: i64| {
            let email = format!("a{n}@example.com");
            crate::agents::store::insert(
                &c,
                &crate::agents::store::Insert {
                    email: &email,
                    email_norm: &email,
                    name: "A",
                    role: crate::auth::Role::Agent,
                    password_hash: None,
                    chat_limit: 100,
                    locale: "en",
                    now: 0,
                },
            )
            .unwrap()
        };
        let agents = [agent(1), agent(2), agent(3)];
        let dept = c.query_row("INSERT INTO departments (name, created_at) VALUES ('D', 0) RETURNING id", [], |r| r.get(0)).unwrap();
        let seen = chat::VisitorSeen { ip: "", user_agent: "", timezone: None, language: None };
        let visitor = chat::create_visitor(&c, b"t", 0, &seen).unwrap();
        let last_assigned = std::cell::RefCell::new(std::collections::HashMap::<i64, i64>::new());
        let handoffs = std::cell::RefCell::new(std::collections::HashMap::<i64, Vec<i64>>::new());
        let check = |step: usize| {
            let snap = snapshot(&c, 0).unwrap();
            for a in &snap.agents {
                let counted: i64 = c
                    .query_row("SELECT count(*) FROM conversations WHERE agent_id = ?1 AND status = 'active'", [a.id], |r| r.get(0))
                    .unwrap();
                assert_eq!(a.active, counted, "agent {} after step {step}", a.id);
                assert_eq!(a.last_assigned_at, last_assigned.borrow().get(&a.id).copied(), "agent {} after step {step}", a.id);
            }
            // The reports' handoffs (V30): every agent a chat left, in order, and nothing else.
            let mut stored = std::collections::HashMap::<i64, Vec<i64>>::new();
            let mut st = c.prepare("SELECT conversation_id, agent_id FROM conversation_handoffs ORDER BY conversation_id, rowid").unwrap();
            for row in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).unwrap() {
                let (conv, agent) = row.unwrap();
                stored.entry(conv).or_default().push(agent);
            }
            assert_eq!(stored, *handoffs.borrow(), "handoffs after step {step}");
        };
        // A fixed pseudo-random walk (xorshift), so a failure is reproducible.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n) as usize
        };
        let mut convs: Vec<i64> = Vec::new();
        for step in 0..400 {
            let pick = |i: usize| agents[i % agents.len()];
            match next(6) {
                0 => convs.push(chat::create_conv(&c, visitor, None, step as i64).unwrap()),
                1 if !convs.is_empty() => {
                    let to = pick(next(3));
                    if chat::assign(&c, convs[next(convs.len() as u64)], to, step as i64).unwrap() {
                        last_assigned.borrow_mut().insert(to, step as i64);
                    }
                }
                2 if !convs.is_empty() => {
                    let (id, to) = (convs[next(convs.len() as u64)], pick(next(3)));
                    let from = chat::conv(&c, id).unwrap().and_then(|r| r.agent_id);
                    if chat::reassign(&c, id, from, to, step as i64).unwrap() {
                        last_assigned.borrow_mut().insert(to, step as i64);
                        if let Some(from) = from.filter(|&f| f != to) {
                            handoffs.borrow_mut().entry(id).or_default().push(from);
                        }
                    }
                }
                3 if !convs.is_empty() => {
                    let id = convs[next(convs.len() as u64)];
                    let from = chat::conv(&c, id).unwrap().and_then(|r| r.agent_id);
                    if chat::requeue(&c, id, from, dept, 3).unwrap()
                        && let Some(from) = from
                    {
                        handoffs.borrow_mut().entry(id).or_default().push(from);
                    }
                }
                4 if !convs.is_empty() => {
                    let row = chat::conv(&c, convs[next(convs.len() as u64)]).unwrap().unwrap();
                    chat::end(&c, &row, crate::chat::EndedBy::Agent, 4, 0).unwrap();
                }
                5 if !convs.is_empty() => {
                    let id = convs.swap_remove(next(convs.len() as u64));
                    c.execute("DELETE FROM conversations WHERE id = ?1", [id]).unwrap();
                    handoffs.borrow_mut().remove(&id);
                }
                _ => {}
            }
            check(step);
        }
        // An agent who is deleted takes nothing with them: their chats lose the agent, and their
        // handoffs go (losing the agent is not a handoff).
        c.execute("DELETE FROM agents WHERE id = ?1", [agents[0]]).unwrap();
        for earlier in handoffs.borrow_mut().values_mut() {
            earlier.retain(|&a| a != agents[0]);
        }
        handoffs.borrow_mut().retain(|_, earlier| !earlier.is_empty());
        check(400);
        let total: i64 = c.query_row("SELECT coalesce(sum(active_chats), 0) FROM agents", [], |r| r.get(0)).unwrap();
        let counted: i64 =
            c.query_row("SELECT count(*) FROM conversations WHERE agent_id IS NOT NULL AND status = 'active'", [], |r| r.get(0)).unwrap();
        assert_eq!(total, counted);
    }
}
