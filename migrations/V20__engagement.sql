-- Visitor engagement (SPEC C13, W9, C5): the live visitors list's visit facts, proactive
-- invitations (manual and by rule) with their outcome for reports, notes on contacts.

-- When the current visit began (a visit ends after 30 minutes away) and when the current page
-- was opened (time on page, for invitation rules). NULL on rows from before: first_seen_at /
-- last_seen_at stand in.
ALTER TABLE visitors ADD COLUMN visit_started_at INTEGER;
ALTER TABLE visitors ADD COLUMN page_started_at INTEGER;

-- Automatic invitation rules: every condition set must hold. `url_pattern` and
-- `referrer_pattern` are substrings with `*` as a wildcard (case-insensitive).
CREATE TABLE invitation_rules (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    enabled             INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    url_pattern         TEXT,
    min_seconds_on_page INTEGER NOT NULL DEFAULT 0 CHECK (min_seconds_on_page >= 0),
    min_visits          INTEGER NOT NULL DEFAULT 0 CHECK (min_visits >= 0),
    referrer_pattern    TEXT,
    department_id       INTEGER REFERENCES departments(id) ON DELETE CASCADE,
    body                TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
);

-- Every invitation shown to a visitor and what became of it: accepted (the visitor answered:
-- the chat), closed (the visitor closed it), ignored (neither, until it expired or they left).
CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    visitor_id      INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    agent_id        INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    agent_name      TEXT    NOT NULL,
    rule_id         INTEGER REFERENCES invitation_rules(id) ON DELETE SET NULL,  -- NULL: by hand
    department_id   INTEGER REFERENCES departments(id) ON DELETE SET NULL,
    body            TEXT    NOT NULL,
    page_url        TEXT,
    status          TEXT    NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'accepted', 'ignored', 'closed')),
    sent_at         INTEGER NOT NULL,
    answered_at     INTEGER,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL
);
CREATE INDEX invitations_visitor ON invitations(visitor_id, sent_at);
CREATE INDEX invitations_sent ON invitations(sent_at);
CREATE INDEX invitations_pending ON invitations(status) WHERE status = 'sent';

-- Agents' notes on a contact (the visitor panel).
CREATE TABLE contact_notes (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    agent_id   INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX contact_notes_contact ON contact_notes(contact_id, created_at);
