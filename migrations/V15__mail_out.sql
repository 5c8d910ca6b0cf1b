-- Outgoing mail (SPEC E1/E2): the outbox gains the 'sending' state (claimed by the worker,
-- before the SMTP server answered), when it was claimed, and the language it was written in.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.

CREATE TABLE outbox_new (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL,                -- ticket_reply, offline_answer, transcript, invitation, password_reset, test, …
    to_addrs          TEXT    NOT NULL,                -- JSON array
    cc_addrs          TEXT,
    subject           TEXT    NOT NULL,
    body_text         TEXT    NOT NULL,
    body_html         TEXT,
    message_id        TEXT    NOT NULL UNIQUE,         -- stable across retries
    in_reply_to       TEXT,
    references_hdr    TEXT,
    ticket_id         INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    ticket_message_id INTEGER REFERENCES ticket_messages(id) ON DELETE SET NULL,
    auto_submitted    INTEGER NOT NULL DEFAULT 0 CHECK (auto_submitted IN (0, 1)),
    status            TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    sent_at           INTEGER,
    claimed_at        INTEGER,                         -- when the worker took it ('sending')
    conversation_id   INTEGER REFERENCES conversations(id) ON DELETE SET NULL
);

INSERT INTO outbox_new (id, kind, to_addrs, cc_addrs, subject, body_text, body_html, message_id, in_reply_to, references_hdr,
                        ticket_id, ticket_message_id, auto_submitted, status, attempts, next_attempt_at, last_error, created_at, sent_at)
    SELECT id, kind, to_addrs, cc_addrs, subject, body_text, body_html, message_id, in_reply_to, references_hdr,
           ticket_id, ticket_message_id, auto_submitted, status, attempts, next_attempt_at, last_error, created_at, sent_at
    FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_ticket_message ON outbox(ticket_message_id);

-- One-time links that let an agent set a password: invitations and password resets.
-- Only the SHA-256 of the token is stored; a link works once and until it expires.
CREATE TABLE auth_links (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('invitation', 'password_reset')),
    token_hash BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX auth_links_agent ON auth_links(agent_id, kind, created_at);
