-- The message path (SPEC P2): chat messages are no longer indexed for full-text search by a
-- trigger inside each message's insert. The writer indexes them in batches when it is idle
-- (db::fts::index_messages): rows with id > `upto` go into messages_fts, and `upto` moves in
-- the same transaction as those index rows, so a crash leaves either both or neither; the
-- next start catches up. Every row up to here was indexed by the old trigger.
CREATE TABLE fts_progress (
    name TEXT    PRIMARY KEY,
    upto INTEGER NOT NULL
);
INSERT INTO fts_progress (name, upto) VALUES ('messages', coalesce((SELECT max(id) FROM messages), 0));

DROP TRIGGER messages_fts_insert;
-- Deleting or changing a row that is not in the index yet must not touch the index (an FTS5
-- 'delete' of text it never indexed corrupts it); the indexer picks the new text up later.
DROP TRIGGER messages_fts_delete;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT upto FROM fts_progress WHERE name = 'messages') BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
WHEN old.id <= (SELECT upto FROM fts_progress WHERE name = 'messages') BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
