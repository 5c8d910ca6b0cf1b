//! SQL for bans.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Ban;
use crate::error::AppError;

pub struct NewRow<'a> {
    pub visitor_id: Option<i64>,
    pub ip: Option<&'a str>,
    /// The range's first and last address ([`super::Cidr::bounds`]).
    pub ip_range: Option<([u8; 16], [u8; 16])>,
    pub reason: Option<&'a str>,
    pub conversation_id: Option<i64>,
    pub created_at: i64,
    pub created_by: Option<i64>,
    pub created_by_name: &'a str,
    pub expires_at: Option<i64>,
}

pub fn insert(c: &Connection, b: &NewRow) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO bans (visitor_id, ip, ip_from, ip_to, reason, conversation_id, created_at, created_by, created_by_name, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            b.visitor_id,
            b.ip,
            b.ip_range.map(|r| r.0.to_vec()),
            b.ip_range.map(|r| r.1.to_vec()),
            b.reason,
            b.conversation_id,
            b.created_at,
            b.created_by,
            b.created_by_name,
            b.expires_at
        ],
    )?;
    Ok(c.last_insert_rowid())
}

const BAN: &str = "SELECT b.id, b.visitor_id, v.name, b.ip, b.reason, b.conversation_id, b.created_at, b.created_by,
        coalesce(a.name, b.created_by_name), b.expires_at, (b.expires_at IS NULL OR b.expires_at > ?1)
    FROM bans b LEFT JOIN visitors v ON v.id = b.visitor_id LEFT JOIN agents a ON a.id = b.created_by";

fn ban(r: &Row) -> rusqlite::Result<Ban> {
    Ok(Ban {
        id: r.get(0)?,
        visitor_id: r.get(1)?,
        visitor_name: r.get(2)?,
        ip: r.get(3)?,
        reason: r.get(4)?,
        conversation_id: r.get(5)?,
        created_at: r.get(6)?,
        created_by: r.get(7)?,
        created_by_name: r.get(8)?,
        expires_at: r.get(9)?,
        active: r.get(10)?,
    })
}

pub fn get(c: &Connection, id: i64, now: i64) -> Result<Option<Ban>, AppError> {
    Ok(c.query_row(&format!("{BAN} WHERE b.id = ?2"), params![now, id], ban).optional()?)
}

/// Bans newest first; expired ones only with `include_expired`.
pub fn list(c: &Connection, now: i64, include_expired: bool, limit: u32) -> Result<Vec<Ban>, AppError> {
    let mut st = c.prepare(&format!("{BAN} WHERE ?2 OR b.expires_at IS NULL OR b.expires_at > ?1 ORDER BY b.id DESC LIMIT ?3"))?;
    let rows = st.query_map(params![now, include_expired, limit], ban)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn delete(c: &Connection, id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM bans WHERE id = ?1", [id])?;
    Ok(())
}

/// A ban in force on this visitor's token.
pub fn visitor_banned(c: &Connection, visitor_id: i64, now: i64) -> Result<bool, AppError> {
    let mut st =
        c.prepare_cached("SELECT EXISTS (SELECT 1 FROM bans WHERE visitor_id = ?1 AND (expires_at IS NULL OR expires_at > ?2))")?;
    Ok(st.query_row(params![visitor_id, now], |r| r.get(0))?)
}

/// A ban in force whose range holds this address (`super::address_key`).
pub fn address_banned(c: &Connection, key: &[u8; 16], now: i64) -> Result<bool, AppError> {
    let mut st = c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM bans WHERE ip_from <= ?1 AND ip_to >= ?1 AND (expires_at IS NULL OR expires_at > ?2))",
    )?;
    Ok(st.query_row(params![&key[..], now], |r| r.get(0))?)
}
