-- Full-text index of ticket subjects and thread text (SQLite FTS5; search code owns it).
CREATE VIRTUAL TABLE ticket_fts USING fts5(body, content = 'ticket_messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket_messages BEGIN
    INSERT INTO ticket_fts (rowid, body) VALUES (new.id, coalesce(new.subject, '') || ' ' || new.body);
END;
CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket_messages BEGIN
    INSERT INTO ticket_fts (ticket_fts, rowid, body) VALUES ('delete', old.id, coalesce(old.subject, '') || ' ' || old.body);
END;
CREATE TRIGGER ticket_fts_update AFTER UPDATE OF body, subject ON ticket_messages BEGIN
    INSERT INTO ticket_fts (ticket_fts, rowid, body) VALUES ('delete', old.id, coalesce(old.subject, '') || ' ' || old.body);
    INSERT INTO ticket_fts (rowid, body) VALUES (new.id, coalesce(new.subject, '') || ' ' || new.body);
END;
