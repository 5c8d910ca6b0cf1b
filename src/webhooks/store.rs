//! SQL for webhooks and their delivery outbox.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Delivery, Webhook};
use crate::error::AppError;

fn events_column(events: &[String]) -> String {
    format!(",{},", events.join(","))
}

fn webhook_from_row(r: &Row) -> rusqlite::Result<Webhook> {
    let events: String = r.get(2)?;
    Ok(Webhook {
        id: r.get(0)?,
        url: r.get(1)?,
        events: events.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        enabled: r.get(3)?,
        disabled_reason: r.get(4)?,
        disabled_at: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

const HOOK_COLS: &str = "SELECT id, url, events, enabled, disabled_reason, disabled_at, created_at, updated_at FROM webhooks";

pub fn insert(c: &Connection, url: &str, events: &[String], secret: &str, created_by: Option<i64>, now: i64) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO webhooks (url, events, secret, enabled, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)",
        params![url, events_column(events), secret, created_by, now],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn get(c: &Connection, id: i64) -> Result<Option<Webhook>, AppError> {
    Ok(c.query_row(&format!("{HOOK_COLS} WHERE id = ?1"), [id], webhook_from_row).optional()?)
}

pub fn list(c: &Connection) -> Result<Vec<Webhook>, AppError> {
    let mut st = c.prepare(&format!("{HOOK_COLS} ORDER BY id"))?;
    Ok(st.query_map([], webhook_from_row)?.collect::<rusqlite::Result<_>>()?)
}

/// (url, secret, enabled) — what the worker needs to send.
pub fn target(c: &Connection, id: i64) -> Result<Option<(String, String, bool)>, AppError> {
    Ok(c.query_row("SELECT url, secret, enabled FROM webhooks WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

pub fn update(
    c: &Connection,
    id: i64,
    url: Option<&str>,
    events: Option<&[String]>,
    enabled: Option<bool>,
    now: i64,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE webhooks SET url = coalesce(?2, url), events = coalesce(?3, events), enabled = coalesce(?4, enabled),
                disabled_reason = CASE WHEN ?4 = 1 THEN NULL ELSE disabled_reason END,
                disabled_at = CASE WHEN ?4 = 1 THEN NULL ELSE disabled_at END, updated_at = ?5
         WHERE id = ?1",
        params![id, url, events.map(events_column), enabled, now],
    )?;
    Ok(())
}

pub fn set_secret(c: &Connection, id: i64, secret: &str, now: i64) -> Result<(), AppError> {
    c.execute("UPDATE webhooks SET secret = ?2, updated_at = ?3 WHERE id = ?1", params![id, secret, now])?;
    Ok(())
}

/// Switch a webhook off after repeated failure; its pending deliveries are given up.
pub fn disable(c: &Connection, id: i64, reason: &str, now: i64) -> Result<bool, AppError> {
    let n = c.execute(
        "UPDATE webhooks SET enabled = 0, disabled_reason = ?2, disabled_at = ?3, updated_at = ?3 WHERE id = ?1 AND enabled = 1",
        params![id, reason, now],
    )?;
    c.execute(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = coalesce(last_error, 'webhook disabled')
         WHERE webhook_id = ?1 AND status = 'pending'",
        [id],
    )?;
    Ok(n > 0)
}

pub fn delete(c: &Connection, id: i64) -> Result<bool, AppError> {
    Ok(c.execute("DELETE FROM webhooks WHERE id = ?1", [id])? > 0)
}

pub fn any_enabled(c: &Connection) -> Result<bool, AppError> {
    Ok(crate::db::count(c, "SELECT count(*) FROM webhooks WHERE enabled = 1", [])? > 0)
}

pub fn anyone_listens(c: &Connection, event: &str) -> Result<bool, AppError> {
    let mut st = c.prepare_cached("SELECT EXISTS (SELECT 1 FROM webhooks WHERE enabled = 1 AND instr(events, ',' || ?1 || ',') > 0)")?;
    Ok(st.query_row([event], |r| r.get(0))?)
}

/// One pending delivery of `body` per enabled webhook subscribed to `event` — or only to
/// `only` (the "send test" ping, whatever its events). Returns the ids.
pub fn insert_deliveries(c: &Connection, event: &str, body: &str, now: i64, only: Option<i64>) -> Result<Vec<i64>, AppError> {
    let mut st = c.prepare_cached(
        "INSERT INTO webhook_deliveries (webhook_id, event, body, status, attempts, next_attempt_at, created_at)
         SELECT id, ?1, ?2, 'pending', 0, ?3, ?3 FROM webhooks
         WHERE CASE WHEN ?4 IS NULL THEN enabled = 1 AND instr(events, ',' || ?1 || ',') > 0 ELSE id = ?4 END
         RETURNING id",
    )?;
    Ok(st.query_map(params![event, body, now, only], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// A delivery ready to send.
pub struct Due {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub body: String,
    pub attempts: i64,
}

/// Claim up to `limit` due deliveries of enabled webhooks (oldest first): each gets its
/// attempt counted and `next_attempt_at` pushed out by `lease_ms`, so a second worker (or a
/// crash mid-send) cannot send it twice before the lease runs out.
pub fn claim_due(c: &Connection, now: i64, lease_ms: i64, limit: u32, only: Option<i64>) -> Result<Vec<Due>, AppError> {
    let mut st = c.prepare_cached(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?1 + ?2, last_attempt_at = ?1,
                last_status = NULL, last_error = NULL
         WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                      WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND (w.enabled = 1 OR d.id = ?4)
                        AND (?4 IS NULL OR d.id = ?4)
                      ORDER BY d.next_attempt_at, d.id LIMIT ?3)
         RETURNING id, webhook_id, event, body, attempts",
    )?;
    let rows: Vec<(i64, i64, String, String, i64)> = st
        .query_map(params![now, lease_ms, limit, only], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, webhook_id, event, body, attempts) in rows {
        if let Some((url, secret, _)) = target(c, webhook_id)? {
            out.push(Due { id, webhook_id, url, secret, event, body, attempts });
        }
    }
    out.sort_by_key(|d| d.id);
    Ok(out)
}

pub fn mark_delivered(c: &Connection, id: i64, status: u16, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE webhook_deliveries SET status = 'delivered', last_status = ?2, last_error = NULL, delivered_at = ?3 WHERE id = ?1",
        params![id, status, now],
    )?;
    Ok(())
}

/// Record a failed attempt: retry at `retry_at`, or give up (`retry_at` None).
pub fn mark_failed(c: &Connection, id: i64, status: Option<u16>, error: &str, retry_at: Option<i64>) -> Result<(), AppError> {
    c.execute(
        "UPDATE webhook_deliveries SET last_status = ?2, last_error = ?3,
                status = CASE WHEN ?4 IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = coalesce(?4, next_attempt_at)
         WHERE id = ?1",
        params![id, status, error, retry_at],
    )?;
    Ok(())
}

fn delivery_from_row(r: &Row) -> rusqlite::Result<Delivery> {
    let status: String = r.get(3)?;
    let next: i64 = r.get(5)?;
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        event: r.get(2)?,
        next_attempt_at: (status == "pending").then_some(next),
        status,
        attempts: r.get(4)?,
        last_attempt_at: r.get(6)?,
        last_status: r.get(7)?,
        last_error: r.get(8)?,
        created_at: r.get(9)?,
        delivered_at: r.get(10)?,
    })
}

const DELIVERY_COLS: &str = "SELECT id, webhook_id, event, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error,
    created_at, delivered_at FROM webhook_deliveries";

pub fn delivery(c: &Connection, id: i64) -> Result<Option<Delivery>, AppError> {
    Ok(c.query_row(&format!("{DELIVERY_COLS} WHERE id = ?1"), [id], delivery_from_row).optional()?)
}

/// The delivery log of one webhook, newest first; `before` pages backwards by id.
pub fn deliveries(c: &Connection, webhook_id: i64, limit: u32, before: Option<i64>) -> Result<Vec<Delivery>, AppError> {
    let mut st = c.prepare(&format!("{DELIVERY_COLS} WHERE webhook_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"))?;
    Ok(st.query_map(params![webhook_id, before.unwrap_or(i64::MAX), limit], delivery_from_row)?.collect::<rusqlite::Result<_>>()?)
}

/// Drop finished deliveries older than `before` (the log keeps recent history only).
pub fn prune_log(c: &Connection, before: i64, limit: u32) -> Result<usize, AppError> {
    Ok(c.execute(
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE status != 'pending' AND created_at < ?1 LIMIT ?2)",
        params![before, limit],
    )?)
}
