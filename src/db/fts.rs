//! SQLite FTS5 helpers shared by the chat archive and ticket search, and the chat messages'
//! batched indexer.
//!
//! Chat messages are indexed off the message path (SPEC P2): the writer thread calls
//! [`index_messages`] when its queue is empty (at most every [`INDEX_PAUSE`], and at least every
//! [`INDEX_EVERY`] under constant load), and once at start. Each call indexes the rows after the stored watermark
//! (`fts_progress`) and moves the watermark in the same transaction, so the index never holds
//! a row twice or misses one, whatever crashes when. A search first asks the writer to catch
//! up ([`catch_up_messages`]), so it finds every committed message.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use crate::error::AppError;

/// Rows indexed per transaction: bounds how long a job that arrives meanwhile waits.
pub const INDEX_CHUNK: i64 = 512;
/// The writer indexes at most this often when idle (each run commits and syncs on its own).
pub const INDEX_PAUSE: Duration = Duration::from_millis(200);
/// Under a load that never leaves the writer idle, it still indexes this often.
pub const INDEX_EVERY: Duration = Duration::from_millis(500);

/// Index up to `limit` chat messages after the watermark, inside the caller's transaction.
/// Returns how many were indexed (fewer than `limit`: the index is complete).
pub fn index_messages(c: &Connection, limit: i64) -> Result<i64, AppError> {
    let from: i64 = c.prepare_cached("SELECT upto FROM fts_progress WHERE name = 'messages'")?.query_row([], |r| r.get(0))?;
    let upto: Option<(i64, i64)> = c
        .prepare_cached("SELECT max(id), count(*) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2)")?
        .query_row(rusqlite::params![from, limit], |r| Ok((r.get::<_, Option<i64>>(0)?, r.get(1)?)))
        .optional()?
        .and_then(|(m, n)| m.map(|m| (m, n)));
    let Some((upto, n)) = upto else {
        return Ok(0);
    };
    c.prepare_cached("INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > ?1 AND id <= ?2")?
        .execute(rusqlite::params![from, upto])?;
    c.prepare_cached("UPDATE fts_progress SET upto = ?1 WHERE name = 'messages'")?.execute([upto])?;
    Ok(n)
}

/// Index every message not indexed yet (inside the caller's transaction): before a search,
/// before the index is rewritten, at start.
pub fn catch_up_messages(c: &Connection) -> Result<(), AppError> {
    while index_messages(c, INDEX_CHUNK)? == INDEX_CHUNK {}
    Ok(())
}

/// Whether messages wait to be indexed (cheap: two index lookups).
pub fn messages_pending(c: &Connection) -> Result<bool, AppError> {
    Ok(c.prepare_cached("SELECT coalesce((SELECT max(id) FROM messages), 0) > (SELECT upto FROM fts_progress WHERE name = 'messages')")?
        .query_row([], |r| r.get(0))?)
}

/// Turn user text into an FTS5 query of quoted terms (prefix match on the last one), so
/// operators typed by users are searched as words instead of failing as syntax.
pub fn query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|t| t.chars().filter(|c| c.is_alphanumeric() || *c == '@' || *c == '.' || *c == '-' || *c == '_').collect::<String>())
        .filter(|t| !t.is_empty())
        .take(12)
        .map(|t| format!("\"{t}\""))
        .collect();
    if terms.is_empty() {
        return None;
    }
    let mut q = terms.join(" ");
    q.push('*');
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migrated database with one conversation, opened without a writer (the indexer is
    /// driven by hand here).
    fn chat_db(dir: &std::path::Path) -> Connection {
        let path = dir.join("t.db");
        let (db, _) = crate::db::Db::open(&path, &dir.join("b"), 3).unwrap();
        db.close().unwrap();
        let c = crate::db::open_connection(&path).unwrap();
        c.execute_batch(
            "INSERT INTO visitors (token_hash, first_seen_at, last_seen_at) VALUES (x'01', 0, 0);
             INSERT INTO conversations (visitor_id, status, created_at) VALUES (1, 'queued', 0);",
        )
        .unwrap();
        c
    }

    fn add(c: &Connection, seq: i64, body: &str) -> i64 {
        c.execute(
            "INSERT INTO messages (conversation_id, seq, author_kind, body, created_at) VALUES (1, ?1, 'visitor', ?2, 0)",
            rusqlite::params![seq, body],
        )
        .unwrap();
        c.last_insert_rowid()
    }

    fn hits(c: &Connection, word: &str) -> i64 {
        c.query_row("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?1", [word], |r| r.get(0)).unwrap()
    }

    /// The index is sound in itself; `complete`: it also matches the messages table row for
    /// row (only true once the indexer has caught up).
    fn check_index(c: &Connection, complete: bool) {
        c.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', ?1)", [complete as i64]).unwrap();
    }

    /// Rows wait after the watermark until indexed; each is indexed once, the watermark moves
    /// with them; deleting or editing a row the indexer has not reached leaves the index sound
    /// (an FTS5 'delete' of never-indexed text would corrupt it).
    #[test]
    fn messages_are_indexed_in_batches_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let c = chat_db(dir.path());
        let first = add(&c, 1, "alpha kraken");
        add(&c, 2, "alpha");
        let gone = add(&c, 3, "alpha doomed");
        let edited = add(&c, 4, "alpha draft");
        assert_eq!(hits(&c, "alpha"), 0, "no trigger indexes on insert");
        assert!(messages_pending(&c).unwrap());
        c.execute("DELETE FROM messages WHERE id = ?1", [gone]).unwrap();
        c.execute("UPDATE messages SET body = 'alpha final' WHERE id = ?1", [edited]).unwrap();
        check_index(&c, false);
        assert_eq!(index_messages(&c, 2).unwrap(), 2);
        assert_eq!(hits(&c, "alpha"), 2);
        assert_eq!(index_messages(&c, 2).unwrap(), 1, "the rest");
        assert_eq!(index_messages(&c, 2).unwrap(), 0, "nothing twice");
        assert!(!messages_pending(&c).unwrap());
        assert_eq!((hits(&c, "alpha"), hits(&c, "doomed"), hits(&c, "draft"), hits(&c, "final")), (3, 0, 0, 1));
        check_index(&c, true);
        // Indexed rows: the triggers keep the index in step.
        c.execute("UPDATE messages SET body = 'beta' WHERE id = ?1", [first]).unwrap();
        assert_eq!((hits(&c, "kraken"), hits(&c, "beta")), (0, 1));
        c.execute("DELETE FROM messages WHERE id = ?1", [first]).unwrap();
        assert_eq!(hits(&c, "beta"), 0);
        for seq in 5..1200 {
            add(&c, seq, "gamma");
        }
        catch_up_messages(&c).unwrap();
        assert_eq!(hits(&c, "gamma"), 1195);
        check_index(&c, true);
    }

    #[test]
    fn fts_queries_are_quoted() {
        let cases = [
            ("red shoes", Some("\"red\" \"shoes\"*")),
            ("  ", None),
            ("NEAR(a b) OR \"x", Some("\"NEARa\" \"b\" \"OR\" \"x\"*")),
            ("ann@shop.example", Some("\"ann@shop.example\"*")),
        ];
        for (input, want) in cases {
            assert_eq!(query(input).as_deref(), want, "{input}");
        }
    }
}
