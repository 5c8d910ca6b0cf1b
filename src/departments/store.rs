use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Department;
use crate::error::AppError;

const COLS: &str = "SELECT id, name, visible, created_at, subject_rule, next_only, reply_template FROM departments";

fn from_row(r: &Row) -> rusqlite::Result<Department> {
    Ok(Department {
        id: r.get(0)?,
        name: r.get(1)?,
        visible: r.get(2)?,
        created_at: r.get(3)?,
        subject_rule: r.get(4)?,
        next_only: r.get(5)?,
        reply_template: r.get(6)?,
        chat: Default::default(),
        prechat: None,
    })
}

/// Fill in the chat routing rules (`routing::store` owns those columns).
fn with_chat(conn: &Connection, mut d: Department) -> Result<Department, AppError> {
    if let Some(r) = crate::routing::store::department(conn, d.id)? {
        d.chat = crate::routing::ChatRules::from(&r);
    }
    d.prechat = crate::widget::store::prechat_form(conn, d.id)?;
    Ok(d)
}

pub fn list(conn: &Connection) -> Result<Vec<Department>, AppError> {
    let mut st = conn.prepare(&format!("{COLS} ORDER BY name COLLATE NOCASE"))?;
    let rows: Vec<Department> = st.query_map([], from_row)?.collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|d| with_chat(conn, d)).collect()
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Department>, AppError> {
    conn.query_row(&format!("{COLS} WHERE id = ?1"), [id], from_row).optional()?.map(|d| with_chat(conn, d)).transpose()
}

fn name_taken(conn: &Connection, name: &str, except: i64) -> Result<bool, AppError> {
    Ok(crate::db::count(conn, "SELECT count(*) FROM departments WHERE name = ?1 AND id != ?2", params![name, except])? > 0)
}

pub fn insert(conn: &Connection, name: &str, visible: bool, now: i64) -> Result<i64, AppError> {
    if name_taken(conn, name, 0)? {
        return Err(AppError::conflict(format!("a department named {name:?} exists")));
    }
    conn.execute("INSERT INTO departments (name, visible, created_at) VALUES (?1, ?2, ?3)", params![name, visible, now])?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, id: i64, name: Option<&str>, visible: Option<bool>) -> Result<(), AppError> {
    if let Some(n) = name
        && name_taken(conn, n, id)?
    {
        return Err(AppError::conflict(format!("a department named {n:?} exists")));
    }
    conn.execute(
        "UPDATE departments SET name = coalesce(?2, name), visible = coalesce(?3, visible) WHERE id = ?1",
        params![id, name, visible],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, id: i64) -> Result<(), AppError> {
    conn.execute("DELETE FROM departments WHERE id = ?1", [id])?;
    Ok(())
}

/// Ticket options (T2, T5, T7). `Some("")` clears a text option.
pub fn set_ticket_options(
    conn: &Connection,
    id: i64,
    subject_rule: Option<&str>,
    next_only: Option<bool>,
    reply_template: Option<&str>,
) -> Result<(), AppError> {
    let blank_to_null = |v: Option<&str>| v.map(|s| if s.trim().is_empty() { None } else { Some(s.to_string()) });
    if let Some(rule) = blank_to_null(subject_rule) {
        conn.execute("UPDATE departments SET subject_rule = ?2 WHERE id = ?1", params![id, rule])?;
    }
    if let Some(n) = next_only {
        conn.execute("UPDATE departments SET next_only = ?2 WHERE id = ?1", params![id, n])?;
    }
    if let Some(t) = blank_to_null(reply_template) {
        conn.execute("UPDATE departments SET reply_template = ?2 WHERE id = ?1", params![id, t])?;
    }
    Ok(())
}

// ---------------------------------------------------------------- members (agent ↔ department)

pub fn set_of_agent(conn: &Connection, agent_id: i64, department_ids: &[i64]) -> Result<(), AppError> {
    for d in department_ids {
        let exists: bool = conn.query_row("SELECT count(*) > 0 FROM departments WHERE id = ?1", [d], |r| r.get(0))?;
        if !exists {
            return Err(AppError::invalid(format!("department_ids: no department {d}")));
        }
    }
    conn.execute("DELETE FROM department_members WHERE agent_id = ?1", [agent_id])?;
    let mut st = conn.prepare("INSERT OR IGNORE INTO department_members (department_id, agent_id) VALUES (?1, ?2)")?;
    for d in department_ids {
        st.execute(params![d, agent_id])?;
    }
    Ok(())
}

/// The departments an agent belongs to.
pub fn of_agent(conn: &Connection, agent_id: i64) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare_cached("SELECT department_id FROM department_members WHERE agent_id = ?1")?;
    Ok(st.query_map([agent_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Every member of a department (disabled agents too), by id.
pub fn member_ids(conn: &Connection, department_id: i64) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare_cached("SELECT agent_id FROM department_members WHERE department_id = ?1 ORDER BY agent_id")?;
    Ok(st.query_map([department_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Make exactly `agent_ids` the members of a department; every id must be an agent.
pub fn set_members(conn: &Connection, department_id: i64, agent_ids: &[i64]) -> Result<(), AppError> {
    for a in agent_ids {
        let exists: bool = conn.query_row("SELECT count(*) > 0 FROM agents WHERE id = ?1", [a], |r| r.get(0))?;
        if !exists {
            return Err(AppError::invalid(format!("agent_ids: no agent {a}")));
        }
    }
    conn.execute("DELETE FROM department_members WHERE department_id = ?1", [department_id])?;
    let mut st = conn.prepare("INSERT OR IGNORE INTO department_members (department_id, agent_id) VALUES (?1, ?2)")?;
    for a in agent_ids {
        st.execute(params![department_id, a])?;
    }
    Ok(())
}

/// Enabled members of a department as (agent id, name), by name.
pub fn members(conn: &Connection, department_id: i64) -> Result<Vec<(i64, String)>, AppError> {
    let mut st = conn.prepare(
        "SELECT a.id, a.name FROM agents a JOIN department_members m ON m.agent_id = a.id
         WHERE m.department_id = ?1 AND a.disabled = 0 ORDER BY a.name",
    )?;
    Ok(st.query_map([department_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- overview

/// Open, pending, and open-unassigned tickets of a department (merged tickets excluded).
pub fn ticket_counts(conn: &Connection, department_id: i64) -> Result<(i64, i64, i64), AppError> {
    Ok(conn.query_row(
        "SELECT count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'pending'),
                count(*) FILTER (WHERE status = 'open' AND agent_id IS NULL)
         FROM tickets WHERE department_id = ?1 AND merged_into IS NULL",
        [department_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

// ---- ticket options (moved from tickets)

/// The department's ticket options; None when there is no such department.
pub fn ticket_options(conn: &Connection, id: i64) -> Result<Option<super::TicketOptions>, AppError> {
    Ok(conn
        .query_row("SELECT subject_rule, next_only, reply_template FROM departments WHERE id = ?1", [id], |r| {
            Ok(super::TicketOptions { subject_rule: r.get(0)?, next_only: r.get(1)?, reply_template: r.get(2)? })
        })
        .optional()?)
}
