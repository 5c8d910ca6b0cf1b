//! SQL for data retention: count what has expired, and delete it one bounded batch at a time
//! (each call is meant to be its own short write job).

use rusqlite::{Connection, params};

use crate::error::AppError;

fn ids(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<i64>, AppError> {
    let mut st = c.prepare_cached(sql)?;
    let v = st.query_map(p, |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(v)
}

// ---------------------------------------------------------------- counts (the preview)

pub fn count_chats(c: &Connection, before: i64) -> Result<i64, AppError> {
    crate::db::count(c, "SELECT count(*) FROM conversations WHERE status = 'ended' AND ended_at < ?1", [before])
}

pub fn count_tickets(c: &Connection, before: i64) -> Result<i64, AppError> {
    crate::db::count(c, "SELECT count(*) FROM tickets WHERE status IN ('solved', 'spam') AND updated_at < ?1", [before])
}

pub fn count_page_views(c: &Connection, before: i64) -> Result<i64, AppError> {
    crate::db::count(c, "SELECT count(*) FROM page_views WHERE at < ?1", [before])
}

pub fn count_attachments(c: &Connection, before: i64) -> Result<i64, AppError> {
    crate::db::count(c, "SELECT count(*) FROM attachments WHERE created_at < ?1", [before])
}

// ---------------------------------------------------------------- batches

/// Delete attachments among `ids` that nothing references any more, then blobs among theirs
/// that no attachment uses. Returns (attachments, blobs) deleted.
fn drop_orphans(c: &Connection, attachment_ids: &[i64]) -> Result<(usize, usize), AppError> {
    let mut blobs = Vec::new();
    let mut gone = 0;
    for &a in attachment_ids {
        let blob = ids(c, "SELECT blob_id FROM attachments WHERE id = ?1", [a])?;
        let n = c.execute(
            "DELETE FROM attachments WHERE id = ?1
               AND NOT EXISTS (SELECT 1 FROM messages WHERE attachment_id = ?1)
               AND NOT EXISTS (SELECT 1 FROM ticket_message_attachments WHERE attachment_id = ?1)",
            [a],
        )?;
        if n > 0 {
            gone += n;
            blobs.extend(blob);
        }
    }
    let mut blobs_gone = 0;
    for b in blobs {
        blobs_gone += c.execute("DELETE FROM blobs WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM attachments WHERE blob_id = ?1)", [b])?;
    }
    Ok((gone, blobs_gone))
}

/// One batch of an expired chat: up to `limit` messages of chats that ended before `before`,
/// then (when no message is left) up to `limit` of those chats themselves, with the files only
/// they used. Returns (messages, chats, files) deleted.
pub fn delete_chats_batch(c: &Connection, before: i64, limit: u32) -> Result<(usize, usize, usize), AppError> {
    let rows: Vec<(i64, Option<i64>)> = {
        let mut st = c.prepare_cached(
            "SELECT m.id, m.attachment_id FROM conversations v JOIN messages m ON m.conversation_id = v.id
             WHERE v.status = 'ended' AND v.ended_at < ?1 LIMIT ?2",
        )?;
        st.query_map(params![before, limit], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
    };
    let mut messages = 0;
    for (id, _) in &rows {
        messages += c.execute("DELETE FROM messages WHERE id = ?1", [id])?;
    }
    let attachments: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
    let (files, _) = drop_orphans(c, &attachments)?;
    let chats = if messages < limit as usize {
        c.execute(
            "DELETE FROM conversations WHERE id IN (
                SELECT v.id FROM conversations v WHERE v.status = 'ended' AND v.ended_at < ?1
                  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = v.id) LIMIT ?2)",
            params![before, limit],
        )?
    } else {
        0
    };
    Ok((messages, chats, files))
}

/// Up to `limit` solved or spam tickets untouched since `before`, with their threads, tags,
/// mail (sent, and the intake rows of mail received) and the files only they used. Returns
/// (tickets, files, intake rows) deleted.
pub fn delete_tickets_batch(c: &Connection, before: i64, limit: u32) -> Result<(usize, usize, usize), AppError> {
    let tickets = ids(c, "SELECT id FROM tickets WHERE status IN ('solved', 'spam') AND updated_at < ?1 LIMIT ?2", params![before, limit])?;
    let mut deleted = 0;
    let mut intake = 0;
    let mut attachments = Vec::new();
    for t in &tickets {
        attachments.extend(ids(
            c,
            "SELECT a.attachment_id FROM ticket_message_attachments a JOIN ticket_messages m ON m.id = a.message_id WHERE m.ticket_id = ?1",
            [t],
        )?);
        c.execute("UPDATE tickets SET merged_into = NULL WHERE merged_into = ?1", [t])?;
        c.execute("DELETE FROM outbox WHERE ticket_id = ?1", [t])?;
        intake += c.execute("DELETE FROM inbound_mail WHERE ticket_id = ?1", [t])?;
        c.execute("DELETE FROM ticket_messages WHERE ticket_id = ?1", [t])?;
        deleted += c.execute("DELETE FROM tickets WHERE id = ?1", [t])?;
    }
    let (files, _) = drop_orphans(c, &attachments)?;
    Ok((deleted, files, intake))
}

/// Up to `limit` intake rows of mail that became no ticket (ignored), received before `before`.
pub fn delete_ignored_mail_batch(c: &Connection, before: i64, limit: u32) -> Result<usize, AppError> {
    Ok(c.execute(
        "DELETE FROM inbound_mail WHERE id IN (SELECT id FROM inbound_mail WHERE ticket_id IS NULL AND received_at < ?1 LIMIT ?2)",
        params![before, limit],
    )?)
}

/// Automatic-reply ledger rows older than `before` (a day ago: the rule looks no further back).
pub fn prune_auto_replies(c: &Connection, before: i64) -> Result<usize, AppError> {
    Ok(c.execute("DELETE FROM auto_reply_log WHERE sent_at < ?1", [before])?)
}

/// Up to `limit` page views older than `before`.
pub fn delete_page_views_batch(c: &Connection, before: i64, limit: u32) -> Result<usize, AppError> {
    Ok(c.execute("DELETE FROM page_views WHERE id IN (SELECT id FROM page_views WHERE at < ?1 LIMIT ?2)", params![before, limit])?)
}

/// Up to `limit` files uploaded before `before`: unlinked from their messages (the text stays)
/// and deleted with their bytes unless the same bytes are still used by a newer file.
pub fn delete_attachments_batch(c: &Connection, before: i64, limit: u32) -> Result<usize, AppError> {
    let old = ids(c, "SELECT id FROM attachments WHERE created_at < ?1 ORDER BY id LIMIT ?2", params![before, limit])?;
    for a in &old {
        c.execute("UPDATE messages SET attachment_id = NULL WHERE attachment_id = ?1", [a])?;
        c.execute("DELETE FROM ticket_message_attachments WHERE attachment_id = ?1", [a])?;
    }
    Ok(drop_orphans(c, &old)?.0)
}
