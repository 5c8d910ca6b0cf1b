//! SQL for sessions, API tokens and one-time links (invitations, password resets).

use rusqlite::{Connection, OptionalExtension, params};

use super::{Role, Scope};
use crate::error::AppError;

pub struct SessionRow {
    pub session_id: i64,
    pub agent_id: i64,
    pub role: Role,
    pub email: String,
    pub name: String,
    pub disabled: bool,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

pub fn create_session(
    conn: &Connection,
    agent_id: i64,
    hash: &[u8],
    now: i64,
    expires_at: i64,
    ip: &str,
    user_agent: &str,
) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, agent_id, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
        params![hash, agent_id, now, expires_at, ip, user_agent],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn find_session(conn: &Connection, hash: &[u8]) -> Result<Option<SessionRow>, AppError> {
    Ok(conn
        .query_row(
            "SELECT s.id, s.agent_id, a.role, a.email, a.disabled, s.last_seen_at, s.expires_at, a.name
             FROM sessions s JOIN agents a ON a.id = s.agent_id WHERE s.token_hash = ?1",
            [hash],
            |r| {
                Ok(SessionRow {
                    session_id: r.get(0)?,
                    agent_id: r.get(1)?,
                    role: Role::parse(&r.get::<_, String>(2)?).unwrap_or(Role::Agent),
                    email: r.get(3)?,
                    disabled: r.get(4)?,
                    last_seen_at: r.get(5)?,
                    expires_at: r.get(6)?,
                    name: r.get(7)?,
                })
            },
        )
        .optional()?)
}

pub fn touch_session(conn: &Connection, session_id: i64, now: i64) -> Result<(), AppError> {
    conn.execute("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2", params![session_id, now])?;
    Ok(())
}

pub fn delete_session(conn: &Connection, session_id: i64) -> Result<(), AppError> {
    conn.execute("DELETE FROM sessions WHERE id = ?1", [session_id])?;
    Ok(())
}

/// Ends every session of an agent, optionally keeping one (the caller's own).
pub fn delete_agent_sessions(conn: &Connection, agent_id: i64, keep: Option<i64>) -> Result<usize, AppError> {
    Ok(conn.execute("DELETE FROM sessions WHERE agent_id = ?1 AND id IS NOT ?2", params![agent_id, keep])?)
}

pub fn delete_expired_sessions(conn: &Connection, now: i64, idle_ms: i64) -> Result<usize, AppError> {
    Ok(conn.execute("DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2", params![now, now - idle_ms])?)
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub last_used_at: Option<i64>,
}

pub fn find_token(conn: &Connection, hash: &[u8]) -> Result<Option<TokenRow>, AppError> {
    Ok(conn
        .query_row("SELECT id, name, scope, last_used_at FROM api_tokens WHERE token_hash = ?1", [hash], |r| {
            Ok(TokenRow {
                id: r.get(0)?,
                name: r.get(1)?,
                scope: Scope::parse(&r.get::<_, String>(2)?).unwrap_or(Scope::Metrics),
                last_used_at: r.get(3)?,
            })
        })
        .optional()?)
}

pub fn touch_token(conn: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    conn.execute("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", params![id, now])?;
    Ok(())
}

pub fn create_token(conn: &Connection, name: &str, scope: Scope, hash: &[u8], created_by: Option<i64>, now: i64) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO api_tokens (name, scope, token_hash, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, scope.as_str(), hash, created_by, now],
    )?;
    Ok(conn.last_insert_rowid())
}

#[derive(serde::Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub fn list_tokens(conn: &Connection) -> Result<Vec<TokenInfo>, AppError> {
    let mut st = conn.prepare("SELECT id, name, scope, created_at, last_used_at FROM api_tokens ORDER BY id")?;
    let rows = st.query_map([], |r| {
        Ok(TokenInfo { id: r.get(0)?, name: r.get(1)?, scope: r.get(2)?, created_at: r.get(3)?, last_used_at: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn delete_token(conn: &Connection, id: i64) -> Result<bool, AppError> {
    Ok(conn.execute("DELETE FROM api_tokens WHERE id = ?1", [id])? > 0)
}

/// Whether a session still stands (not deleted, not expired, agent enabled). Sockets poll this.
pub fn session_valid(conn: &Connection, session_id: i64, now: i64, idle_ms: i64) -> Result<bool, AppError> {
    Ok(crate::db::count(
        conn,
        "SELECT count(*) FROM sessions s JOIN agents a ON a.id = s.agent_id
         WHERE s.id = ?1 AND a.disabled = 0 AND s.expires_at > ?2 AND s.last_seen_at > ?2 - ?3",
        params![session_id, now, idle_ms],
    )? > 0)
}

/// Of these sessions, the ones that no longer stand (deleted, expired, agent disabled): one
/// query for every open console socket, however many (the server's session sweep).
pub fn invalid_sessions(conn: &Connection, ids: &[i64], now: i64, idle_ms: i64) -> Result<Vec<i64>, AppError> {
    let ids = serde_json::to_string(ids).map_err(|e| AppError::internal(e.to_string()))?;
    let mut st = conn.prepare_cached(
        "SELECT j.value FROM json_each(?1) j WHERE NOT EXISTS (
             SELECT 1 FROM sessions s JOIN agents a ON a.id = s.agent_id
             WHERE s.id = j.value AND a.disabled = 0 AND s.expires_at > ?2 AND s.last_seen_at > ?2 - ?3)",
    )?;
    Ok(st.query_map(params![ids, now, idle_ms], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Stored console sessions (the metrics gauge).
pub fn count_sessions(conn: &Connection) -> Result<i64, AppError> {
    crate::db::count(conn, "SELECT count(*) FROM sessions", [])
}

// ---------------------------------------------------------------- one-time links

/// (link id, agent id, kind, expires at, used at)
pub type LinkRow = (i64, i64, String, i64, Option<i64>);

/// Store a new link; earlier unused links of the agent of the same kind stop working.
pub fn create_link(conn: &Connection, agent_id: i64, kind: &str, hash: &[u8], now: i64, expires_at: i64) -> Result<i64, AppError> {
    conn.execute("UPDATE auth_links SET used_at = ?3 WHERE agent_id = ?1 AND kind = ?2 AND used_at IS NULL", params![agent_id, kind, now])?;
    conn.execute(
        "INSERT INTO auth_links (agent_id, kind, token_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![agent_id, kind, hash, now, expires_at],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A second step waiting for its answer (see `auth::totp`).
pub struct Challenge {
    pub id: i64,
    pub agent_id: i64,
    pub purpose: String,
    pub expires_at: i64,
    pub attempts: i64,
}

pub fn create_challenge(conn: &Connection, hash: &[u8], agent_id: i64, purpose: &str, now: i64, expires_at: i64) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO login_challenges (token_hash, agent_id, purpose, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash, agent_id, purpose, now, expires_at],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn find_link(conn: &Connection, hash: &[u8]) -> Result<Option<LinkRow>, AppError> {
    Ok(conn
        .query_row("SELECT id, agent_id, kind, expires_at, used_at FROM auth_links WHERE token_hash = ?1", [hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?)
}

pub fn find_challenge(conn: &Connection, hash: &[u8]) -> Result<Option<Challenge>, AppError> {
    Ok(conn
        .query_row("SELECT id, agent_id, purpose, expires_at, attempts FROM login_challenges WHERE token_hash = ?1", [hash], |r| {
            Ok(Challenge { id: r.get(0)?, agent_id: r.get(1)?, purpose: r.get(2)?, expires_at: r.get(3)?, attempts: r.get(4)? })
        })
        .optional()?)
}

/// Use a link: true only for the first caller (the link was unused and unexpired).
pub fn use_link(conn: &Connection, id: i64, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute("UPDATE auth_links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2", params![id, now])? == 1)
}

/// When the agent's latest link of this kind was made (to space out reset mails).
pub fn last_link_at(conn: &Connection, agent_id: i64, kind: &str) -> Result<Option<i64>, AppError> {
    Ok(conn
        .query_row("SELECT max(created_at) FROM auth_links WHERE agent_id = ?1 AND kind = ?2", params![agent_id, kind], |r| r.get(0))
        .optional()?
        .flatten())
}

pub fn count_challenge_attempt(conn: &Connection, id: i64) -> Result<(), AppError> {
    conn.execute("UPDATE login_challenges SET attempts = attempts + 1 WHERE id = ?1", [id])?;
    Ok(())
}

pub fn delete_challenge(conn: &Connection, id: i64) -> Result<(), AppError> {
    conn.execute("DELETE FROM login_challenges WHERE id = ?1", [id])?;
    Ok(())
}

pub fn delete_agent_challenges(conn: &Connection, agent_id: i64) -> Result<(), AppError> {
    conn.execute("DELETE FROM login_challenges WHERE agent_id = ?1", [agent_id])?;
    Ok(())
}

pub fn delete_expired_challenges(conn: &Connection, now: i64) -> Result<usize, AppError> {
    Ok(conn.execute("DELETE FROM login_challenges WHERE expires_at <= ?1", [now])?)
}

/// Replaces an agent's recovery codes with these hashes (none: removes them).
pub fn replace_recovery_codes(conn: &Connection, agent_id: i64, hashes: &[Vec<u8>], now: i64) -> Result<(), AppError> {
    conn.execute("DELETE FROM recovery_codes WHERE agent_id = ?1", [agent_id])?;
    let mut st = conn.prepare_cached("INSERT INTO recovery_codes (agent_id, code_hash, created_at) VALUES (?1, ?2, ?3)")?;
    for h in hashes {
        st.execute(params![agent_id, h, now])?;
    }
    Ok(())
}

/// Marks the agent's unused recovery code with this hash as used; false when there is none.
pub fn use_recovery_code(conn: &Connection, agent_id: i64, hash: &[u8], now: i64) -> Result<bool, AppError> {
    Ok(conn.execute(
        "UPDATE recovery_codes SET used_at = ?3
         WHERE id = (SELECT id FROM recovery_codes WHERE agent_id = ?1 AND code_hash = ?2 AND used_at IS NULL LIMIT 1)",
        params![agent_id, hash, now],
    )? > 0)
}

pub fn unused_recovery_codes(conn: &Connection, agent_id: i64) -> Result<i64, AppError> {
    crate::db::count(conn, "SELECT count(*) FROM recovery_codes WHERE agent_id = ?1 AND used_at IS NULL", [agent_id])
}
