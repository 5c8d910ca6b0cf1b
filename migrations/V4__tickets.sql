-- Ticket desk: contacts, tickets and their threads, the mail outbox, canned responses, views.

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    email      TEXT,
    email_norm TEXT UNIQUE,                          -- lower-cased; the merge key across chat and mail
    name       TEXT,
    phone      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

ALTER TABLE visitors ADD COLUMN contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL;

-- Department options for tickets: subject rule (T2), Next-only (T5), default reply template (T7).
ALTER TABLE departments ADD COLUMN subject_rule TEXT;
ALTER TABLE departments ADD COLUMN next_only INTEGER NOT NULL DEFAULT 0 CHECK (next_only IN (0, 1));
ALTER TABLE departments ADD COLUMN reply_template TEXT;

CREATE TABLE tickets (
    id                       INTEGER PRIMARY KEY,
    number                   INTEGER NOT NULL UNIQUE,  -- the human number: #1001, #1002, …
    subject                  TEXT    NOT NULL,
    status                   TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'solved', 'spam')),
    source                   TEXT    NOT NULL CHECK (source IN ('manual', 'chat', 'offline', 'email', 'api', 'callback')),
    department_id            INTEGER REFERENCES departments(id) ON DELETE SET NULL,
    agent_id                 INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    contact_id               INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    conversation_id          INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    visitor_id               INTEGER REFERENCES visitors(id) ON DELETE SET NULL,
    merged_into              INTEGER REFERENCES tickets(id),
    snoozed_until            INTEGER,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    solved_at                INTEGER,
    last_customer_message_at INTEGER,
    last_agent_reply_at      INTEGER,
    first_reply_at           INTEGER
);
CREATE INDEX tickets_status ON tickets(status, created_at);
CREATE INDEX tickets_queue ON tickets(status, agent_id, department_id, created_at);
CREATE INDEX tickets_agent ON tickets(agent_id, status);
CREATE INDEX tickets_contact ON tickets(contact_id);
CREATE INDEX tickets_updated ON tickets(updated_at);

CREATE TABLE ticket_tags (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    tag       TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, tag)
) WITHOUT ROWID;
CREATE INDEX ticket_tags_tag ON ticket_tags(tag);

CREATE TABLE ticket_messages (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('customer', 'reply', 'note', 'transcript', 'system')),
    agent_id    INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    contact_id  INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    body        TEXT    NOT NULL,                      -- plain text (always present)
    body_html   TEXT,                                  -- sanitized HTML, when the source had it
    subject     TEXT,
    to_addrs    TEXT,                                  -- JSON arrays of addresses (mail)
    cc_addrs    TEXT,
    message_id  TEXT,                                  -- RFC 5322 Message-ID (ours or the sender's)
    created_at  INTEGER NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, created_at, id);
CREATE UNIQUE INDEX ticket_messages_message_id ON ticket_messages(message_id) WHERE message_id IS NOT NULL;

CREATE TABLE ticket_message_attachments (
    message_id    INTEGER NOT NULL REFERENCES ticket_messages(id) ON DELETE CASCADE,
    attachment_id INTEGER NOT NULL REFERENCES attachments(id),
    PRIMARY KEY (message_id, attachment_id)
) WITHOUT ROWID;

-- Every outgoing mail is a row here, written in the transaction of its cause (SPEC E1).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,                  -- ticket_reply, offline_answer, transcript, invitation, summary, …
    to_addrs        TEXT    NOT NULL,                  -- JSON array
    cc_addrs        TEXT,
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT,
    message_id      TEXT    NOT NULL UNIQUE,           -- stable across retries
    in_reply_to     TEXT,
    references_hdr  TEXT,
    ticket_id       INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    ticket_message_id INTEGER REFERENCES ticket_messages(id) ON DELETE SET NULL,
    auto_submitted  INTEGER NOT NULL DEFAULT 0 CHECK (auto_submitted IN (0, 1)),
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

CREATE TABLE canned_responses (
    id            INTEGER PRIMARY KEY,
    department_id INTEGER REFERENCES departments(id) ON DELETE CASCADE,  -- NULL: all departments
    owner_id      INTEGER REFERENCES agents(id) ON DELETE CASCADE,       -- NULL: shared
    category      TEXT    NOT NULL DEFAULT '',
    shortcut      TEXT    NOT NULL,                   -- typed as #shortcut
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,                   -- the short variant
    body_long     TEXT,                               -- optional long variant
    hotkey        TEXT,                               -- e.g. "Alt+1"
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX canned_scope ON canned_responses(owner_id, department_id);

CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    filters    TEXT    NOT NULL,                       -- JSON of the ticket list query
    position   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
