//! SQL for the shared tag vocabulary (chat tags themselves live in `chat::store`, ticket tags
//! in `tickets::store`).

use rusqlite::{Connection, params};

use crate::error::AppError;

/// Tags with flags: (tag, builtin, exclude_from_reports).
pub fn flags(conn: &Connection) -> Result<Vec<(String, bool, bool)>, AppError> {
    let mut st = conn.prepare_cached("SELECT tag, builtin, exclude_from_reports FROM tag_flags ORDER BY tag")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get::<_, i64>(2)? != 0)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Tags in use on chats, with counts. `restrict_to_agent`: only that agent's chats and the
/// queue (an agent who may not see colleagues' chats); None: every chat.
pub fn chat_tags_in_use(conn: &Connection, restrict_to_agent: Option<i64>, limit: u32) -> Result<Vec<(String, i64)>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT g.tag, count(*) FROM conversation_tags g JOIN conversations c ON c.id = g.conversation_id
         WHERE ?1 IS NULL OR c.agent_id = ?1 OR c.status = 'queued'
         GROUP BY g.tag ORDER BY count(*) DESC, g.tag LIMIT ?2",
    )?;
    let rows = st.query_map(params![restrict_to_agent, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
