-- Tags on chats (SPEC C9) and visitor bans (SPEC C11, W10).

-- A chat's tags: the same vocabulary as ticket_tags (lowercase, 1-40 characters, at most 20).
CREATE TABLE conversation_tags (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    tag             TEXT    NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX conversation_tags_tag ON conversation_tags(tag);

-- Tags with a meaning of their own, for chats and tickets alike. `builtin` tags are always
-- offered; a tag with `exclude_from_reports` marks a chat or ticket that analytics leave out
-- ("non-target": spam, wrong number, job seekers).
CREATE TABLE tag_flags (
    tag                  TEXT    PRIMARY KEY,
    builtin              INTEGER NOT NULL DEFAULT 0,
    exclude_from_reports INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tag_flags (tag, builtin, exclude_from_reports) VALUES ('non-target', 1, 1);

-- What reports leave out: every chat and ticket carrying a tag marked exclude_from_reports.
CREATE VIEW report_excluded_conversations AS
    SELECT DISTINCT g.conversation_id FROM conversation_tags g JOIN tag_flags f ON f.tag = g.tag WHERE f.exclude_from_reports = 1;
CREATE VIEW report_excluded_tickets AS
    SELECT DISTINCT g.ticket_id FROM ticket_tags g JOIN tag_flags f ON f.tag = g.tag WHERE f.exclude_from_reports = 1;

-- A ban refuses a visitor the widget: by their identity token (visitor_id), by address or
-- range (ip: "address/prefix", IPv4 or IPv6, normalized, for display; ip_from..ip_to: the same
-- range as 16-byte big-endian addresses, IPv4 as ::ffff:a.b.c.d, so a hello's check is one
-- comparison in SQL instead of parsing every range), or both. In force until expires_at
-- (the app clock), or for good when it is NULL; lifting a ban deletes its row (the audit log
-- keeps both acts).
CREATE TABLE bans (
    id              INTEGER PRIMARY KEY,
    visitor_id      INTEGER REFERENCES visitors(id) ON DELETE CASCADE,
    ip              TEXT,
    ip_from         BLOB,
    ip_to           BLOB,
    reason          TEXT,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    created_by      INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_by_name TEXT    NOT NULL,
    expires_at      INTEGER,
    CHECK (visitor_id IS NOT NULL OR ip IS NOT NULL)
);
CREATE INDEX bans_visitor ON bans(visitor_id);
CREATE INDEX bans_range ON bans(ip_from, ip_to);
