//! SQL for uploaded files: content-addressed blobs stored in chunks, and the attachments
//! (name, type, uploader, capability token) that point at them.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::AppError;

// ---------------------------------------------------------------- blobs

/// A new, still unsealed blob (no hash yet) to receive chunks. Returns its id.
pub fn new_blob(conn: &Connection, now: i64) -> Result<i64, AppError> {
    conn.execute("INSERT INTO blobs (created_at) VALUES (?1)", [now])?;
    Ok(conn.last_insert_rowid())
}

pub fn add_chunk(conn: &Connection, blob_id: i64, idx: i64, data: &[u8]) -> Result<(), AppError> {
    conn.execute("INSERT INTO blob_chunks (blob_id, idx, data) VALUES (?1, ?2, ?3)", params![blob_id, idx, data])?;
    Ok(())
}

/// Drop a blob and (by cascade) its chunks.
pub fn delete_blob(conn: &Connection, blob_id: i64) -> Result<(), AppError> {
    conn.execute("DELETE FROM blobs WHERE id = ?1", [blob_id])?;
    Ok(())
}

/// Seal a fully received blob with its hash and size. When the same bytes are already stored,
/// the new copy is dropped and the existing blob's id returned (one copy per content).
pub fn seal_blob(conn: &Connection, blob_id: i64, sha256: &[u8], size: i64) -> Result<i64, AppError> {
    let existing: Option<i64> = conn.query_row("SELECT id FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?;
    match existing {
        Some(id) => {
            delete_blob(conn, blob_id)?;
            Ok(id)
        }
        None => {
            conn.execute("UPDATE blobs SET sha256 = ?2, size = ?3 WHERE id = ?1", params![blob_id, sha256, size])?;
            Ok(blob_id)
        }
    }
}

/// Up to `len` bytes of chunk `idx` of a blob from byte `offset`, with the chunk's full length
/// (None past the last chunk). Downloads read a file this way, one slice at a time: the rows
/// are 256 KiB, and only the slice reaches the caller.
pub fn chunk_slice(conn: &Connection, blob_id: i64, idx: i64, offset: usize, len: usize) -> Result<Option<(Vec<u8>, usize)>, AppError> {
    Ok(conn
        .prepare_cached("SELECT substr(data, ?3, ?4), length(data) FROM blob_chunks WHERE blob_id = ?1 AND idx = ?2")?
        .query_row(params![blob_id, idx, offset as i64 + 1, len as i64], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))
        .optional()?)
}

/// A blob's bytes, chunks in order, all in memory: for tests and tools only. Serving a file
/// reads it with [`chunk`], one chunk at a time.
pub fn blob_data(conn: &Connection, blob_id: i64, size_hint: usize) -> Result<Vec<u8>, AppError> {
    let mut st = conn.prepare("SELECT data FROM blob_chunks WHERE blob_id = ?1 ORDER BY idx")?;
    let mut data = Vec::with_capacity(size_hint);
    for chunk in st.query_map([blob_id], |r| r.get::<_, Vec<u8>>(0))? {
        data.extend_from_slice(&chunk?);
    }
    Ok(data)
}

/// Drop uploads abandoned half-way: unsealed blobs created before `before`. Returns how many.
pub fn delete_unsealed_blobs(conn: &Connection, before: i64) -> Result<usize, AppError> {
    Ok(conn.execute("DELETE FROM blobs WHERE sha256 IS NULL AND created_at < ?1", [before])?)
}

/// Bytes of stored files: sealed blobs, each content once (what `storage_max` limits).
pub fn stored_bytes(conn: &Connection) -> Result<u64, AppError> {
    let n: i64 = conn.query_row("SELECT coalesce(sum(size), 0) FROM blobs WHERE sha256 IS NOT NULL", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// Delete up to `limit` attachments created before `before` that no chat or ticket message
/// refers to (uploads never sent). Returns how many.
pub fn delete_unsent_attachments(conn: &Connection, before: i64, limit: usize) -> Result<usize, AppError> {
    Ok(conn.execute(
        "DELETE FROM attachments WHERE id IN (
             SELECT a.id FROM attachments a
             WHERE a.created_at < ?1
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.attachment_id = a.id)
               AND NOT EXISTS (SELECT 1 FROM ticket_message_attachments x WHERE x.attachment_id = a.id)
             LIMIT ?2)",
        params![before, limit as i64],
    )?)
}

/// Delete up to `limit` sealed blobs (and their chunks) that no attachment points at any more.
/// Unsealed blobs are uploads still arriving ([`delete_unsealed_blobs`] takes abandoned ones).
pub fn delete_unreferenced_blobs(conn: &Connection, limit: usize) -> Result<usize, AppError> {
    Ok(conn.execute(
        "DELETE FROM blobs WHERE id IN (
             SELECT b.id FROM blobs b
             WHERE b.sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.blob_id = b.id)
             LIMIT ?1)",
        [limit as i64],
    )?)
}

// ---------------------------------------------------------------- attachments

pub struct NewAttachment<'a> {
    pub token: &'a str,
    pub blob_id: i64,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub visitor_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub now: i64,
}

pub fn insert_attachment(conn: &Connection, a: &NewAttachment) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO attachments (token, blob_id, file_name, content_type, size, visitor_id, agent_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![a.token, a.blob_id, a.file_name, a.content_type, a.size, a.visitor_id, a.agent_id, a.now],
    )?;
    Ok(())
}

/// (id, `fix(name)`) of every attachment whose stored name `fix` changes.
pub fn names_to_fix(conn: &Connection, fix: impl Fn(&str) -> String) -> Result<Vec<(i64, String)>, AppError> {
    let mut st = conn.prepare("SELECT id, file_name FROM attachments")?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let name: String = r.get(1)?;
        let fixed = fix(&name);
        if fixed != name {
            out.push((r.get(0)?, fixed));
        }
    }
    Ok(out)
}

pub fn rename_attachment(conn: &Connection, attachment_id: i64, file_name: &str) -> Result<(), AppError> {
    conn.execute("UPDATE attachments SET file_name = ?2 WHERE id = ?1", params![attachment_id, file_name])?;
    Ok(())
}

/// (attachment id, blob id, file name, content type, size)
pub type AttachmentRef = (i64, i64, String, String, i64);

pub fn attachment_by_token(conn: &Connection, token: &str) -> Result<Option<AttachmentRef>, AppError> {
    Ok(conn
        .query_row("SELECT id, blob_id, file_name, content_type, size FROM attachments WHERE token = ?1", [token], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?)
}

/// Whether an attachment was uploaded by this visitor or into a conversation of theirs.
pub fn attachment_owned_by_visitor(conn: &Connection, attachment_id: i64, visitor_id: i64) -> Result<bool, AppError> {
    Ok(crate::db::count(conn, "SELECT count(*) FROM attachments WHERE id = ?1 AND visitor_id = ?2", params![attachment_id, visitor_id])?
        > 0)
}

pub fn attachment_uploaded_by_agent(conn: &Connection, attachment_id: i64, agent_id: i64) -> Result<bool, AppError> {
    Ok(crate::db::count(conn, "SELECT count(*) FROM attachments WHERE id = ?1 AND agent_id = ?2", params![attachment_id, agent_id])? > 0)
}
