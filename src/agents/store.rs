//! SQL for agents (rows carry their department ids; memberships are written by `departments::store`).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Agent;
use crate::auth::Role;
use crate::error::AppError;

const COLUMNS: &str = "a.id, a.email, a.name, a.role, a.disabled, a.locale, a.chat_limit, a.created_at,
    (SELECT group_concat(department_id) FROM department_members m WHERE m.agent_id = a.id),
    a.totp_enabled_at IS NOT NULL, a.status";

fn from_row(r: &Row) -> rusqlite::Result<Agent> {
    let depts: Option<String> = r.get(8)?;
    let mut department_ids: Vec<i64> = depts.unwrap_or_default().split(',').filter_map(|s| s.parse().ok()).collect();
    department_ids.sort_unstable();
    Ok(Agent {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        role: Role::parse(&r.get::<_, String>(3)?).unwrap_or(Role::Agent),
        disabled: r.get(4)?,
        locale: r.get(5)?,
        chat_limit: r.get(6)?,
        created_at: r.get(7)?,
        department_ids,
        totp_enabled: r.get(9)?,
        status: crate::routing::AgentStatus::parse(&r.get::<_, String>(10)?).unwrap_or(crate::routing::AgentStatus::Offline),
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Agent>, AppError> {
    let mut st = conn.prepare(&format!("SELECT {COLUMNS} FROM agents a ORDER BY a.name COLLATE NOCASE, a.id"))?;
    let rows = st.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Agent>, AppError> {
    Ok(conn.prepare_cached(&format!("SELECT {COLUMNS} FROM agents a WHERE a.id = ?1"))?.query_row([id], from_row).optional()?)
}

pub fn find_by_email(conn: &Connection, email_norm: &str) -> Result<Option<Agent>, AppError> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM agents a WHERE a.email_norm = ?1"), [email_norm], from_row).optional()?)
}

/// (agent id, password hash, disabled) for login.
pub fn credentials(conn: &Connection, email_norm: &str) -> Result<Option<(i64, Option<String>, bool)>, AppError> {
    Ok(conn
        .query_row("SELECT id, password_hash, disabled FROM agents WHERE email_norm = ?1", [email_norm], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

pub fn password_hash(conn: &Connection, id: i64) -> Result<Option<String>, AppError> {
    Ok(conn.query_row("SELECT password_hash FROM agents WHERE id = ?1", [id], |r| r.get(0)).optional()?.flatten())
}

pub struct Insert<'a> {
    pub email: &'a str,
    pub email_norm: &'a str,
    pub name: &'a str,
    pub role: Role,
    /// None for an invited agent who has not chosen a password yet (cannot sign in).
    pub password_hash: Option<&'a str>,
    pub chat_limit: i64,
    pub locale: &'a str,
    pub now: i64,
}

pub fn insert(conn: &Connection, a: &Insert) -> Result<i64, AppError> {
    if find_by_email(conn, a.email_norm)?.is_some() {
        return Err(AppError::conflict(format!("an agent with email {} already exists", a.email_norm)));
    }
    conn.execute(
        "INSERT INTO agents (email, email_norm, name, role, password_hash, chat_limit, locale, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![a.email.trim(), a.email_norm, a.name, a.role.as_str(), a.password_hash, a.chat_limit, a.locale, a.now],
    )?;
    Ok(conn.last_insert_rowid())
}

#[expect(clippy::too_many_arguments, reason = "one optional argument per editable column, all named at the call site")]
pub fn update_fields(
    conn: &Connection,
    id: i64,
    name: Option<&str>,
    role: Option<Role>,
    disabled: Option<bool>,
    chat_limit: Option<i64>,
    locale: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    conn.execute(
        "UPDATE agents SET
            name = coalesce(?2, name),
            role = coalesce(?3, role),
            disabled = coalesce(?4, disabled),
            chat_limit = coalesce(?5, chat_limit),
            locale = coalesce(?6, locale),
            updated_at = ?7
         WHERE id = ?1",
        params![id, name, role.map(Role::as_str), disabled, chat_limit, locale, now],
    )?;
    Ok(())
}

pub fn set_password(conn: &Connection, id: i64, hash: &str, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute("UPDATE agents SET password_hash = ?2, updated_at = ?3 WHERE id = ?1", params![id, hash, now])? > 0)
}

pub fn enabled_admins(conn: &Connection) -> Result<i64, AppError> {
    crate::db::count(conn, "SELECT count(*) FROM agents WHERE role = 'admin' AND disabled = 0", [])
}

pub fn any_admin(conn: &Connection) -> Result<bool, AppError> {
    Ok(crate::db::count(conn, "SELECT count(*) FROM agents WHERE role = 'admin'", [])? > 0)
}

/// Enabled agents (the metrics gauge).
pub fn count_enabled(conn: &Connection) -> Result<i64, AppError> {
    crate::db::count(conn, "SELECT count(*) FROM agents WHERE disabled = 0", [])
}

/// An agent's second factor as stored.
#[derive(Default)]
pub struct TotpRow {
    /// Base32; set while enrolling (unconfirmed) and once enabled.
    pub secret: Option<String>,
    pub enabled_at: Option<i64>,
    /// The last 30-second step a code was accepted for.
    pub last_step: Option<i64>,
}

pub fn totp(conn: &Connection, id: i64) -> Result<TotpRow, AppError> {
    Ok(conn
        .query_row("SELECT totp_secret, totp_enabled_at, totp_last_step FROM agents WHERE id = ?1", [id], |r| {
            Ok(TotpRow { secret: r.get(0)?, enabled_at: r.get(1)?, last_step: r.get(2)? })
        })
        .optional()?
        .unwrap_or_default())
}

pub fn set_totp(
    conn: &Connection,
    id: i64,
    secret: Option<&str>,
    enabled_at: Option<i64>,
    last_step: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    conn.execute(
        "UPDATE agents SET totp_secret = ?2, totp_enabled_at = ?3, totp_last_step = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, secret, enabled_at, last_step, now],
    )?;
    Ok(())
}

/// Records the step a code was just accepted for (only ever moves forward).
pub fn set_totp_last_step(conn: &Connection, id: i64, step: i64) -> Result<(), AppError> {
    conn.execute("UPDATE agents SET totp_last_step = max(coalesce(totp_last_step, ?2), ?2) WHERE id = ?1", params![id, step])?;
    Ok(())
}

/// The agent's notification settings (defaults when never set or unreadable).
pub fn notify_prefs(conn: &Connection, id: i64) -> Result<Option<super::NotifyPrefs>, AppError> {
    let raw: Option<Option<String>> = conn.query_row("SELECT notify FROM agents WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    Ok(raw.map(|json| json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default()))
}

pub fn set_notify_prefs(conn: &Connection, id: i64, prefs: &super::NotifyPrefs) -> Result<(), AppError> {
    let json = serde_json::to_string(prefs).map_err(|e| AppError::internal(format!("notify prefs: {e}")))?;
    let n = conn.execute("UPDATE agents SET notify = ?2 WHERE id = ?1", params![id, json])?;
    if n == 0 {
        return Err(AppError::not_found("agent"));
    }
    Ok(())
}
