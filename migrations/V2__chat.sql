-- Realtime chat: visitors, conversations, messages, attachments (content-addressed blobs).

CREATE TABLE visitors (
    id             INTEGER PRIMARY KEY,
    token_hash     BLOB    NOT NULL UNIQUE,          -- SHA-256 of the widget's random identity token
    name           TEXT,
    email          TEXT,
    phone          TEXT,
    first_seen_at  INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    visits         INTEGER NOT NULL DEFAULT 1,
    ip             TEXT,
    user_agent     TEXT,
    timezone       TEXT,
    language       TEXT,
    referrer       TEXT,                             -- first external referrer of the current visit
    search_query   TEXT,                             -- from that referrer, when it was a search engine
    current_url    TEXT,
    current_title  TEXT
);

CREATE TABLE page_views (
    id         INTEGER PRIMARY KEY,
    visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    url        TEXT    NOT NULL,
    title      TEXT,
    at         INTEGER NOT NULL
);
CREATE INDEX page_views_visitor ON page_views(visitor_id, at);

CREATE TABLE conversations (
    id                     INTEGER PRIMARY KEY,
    visitor_id             INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    department_id          INTEGER REFERENCES departments(id) ON DELETE SET NULL,
    agent_id               INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    status                 TEXT    NOT NULL CHECK (status IN ('queued', 'active', 'ended')),
    outcome                TEXT    CHECK (outcome IN ('served', 'cancelled', 'missed')),
    ended_by               TEXT    CHECK (ended_by IN ('agent', 'visitor', 'timeout', 'system')),
    last_seq               INTEGER NOT NULL DEFAULT 0,   -- dense per-conversation sequence
    created_at             INTEGER NOT NULL,
    assigned_at            INTEGER,
    first_agent_reply_at   INTEGER,
    ended_at               INTEGER,
    last_message_at        INTEGER,
    last_visitor_message_at INTEGER,
    last_agent_message_at  INTEGER,
    agent_delivered_seq    INTEGER NOT NULL DEFAULT 0,   -- highest seq the agent's console received
    agent_read_seq         INTEGER NOT NULL DEFAULT 0,
    visitor_read_seq       INTEGER NOT NULL DEFAULT 0,
    page_url               TEXT                          -- where the chat started
);
CREATE INDEX conversations_status ON conversations(status, created_at);
CREATE INDEX conversations_agent ON conversations(agent_id, status);
CREATE INDEX conversations_visitor ON conversations(visitor_id, created_at);
CREATE INDEX conversations_created ON conversations(created_at);

-- Uploaded bytes, stored once per content (SHA-256) and written in chunks so a large upload
-- is many small write jobs that chat messages interleave with.
CREATE TABLE blobs (
    id         INTEGER PRIMARY KEY,
    sha256     BLOB    UNIQUE,                       -- NULL while the upload is still arriving
    size       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE blob_chunks (
    blob_id INTEGER NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,
    idx     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (blob_id, idx)
) WITHOUT ROWID;

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    token           TEXT    NOT NULL UNIQUE,         -- unguessable id used in URLs and frames
    blob_id         INTEGER NOT NULL REFERENCES blobs(id),
    file_name       TEXT    NOT NULL,
    content_type    TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    visitor_id      INTEGER REFERENCES visitors(id) ON DELETE CASCADE,
    agent_id        INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    author_kind     TEXT    NOT NULL CHECK (author_kind IN ('visitor', 'agent', 'system')),
    agent_id        INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    client_id       TEXT,                            -- the sender's idempotency key
    body            TEXT    NOT NULL,
    attachment_id   INTEGER REFERENCES attachments(id),
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, author_kind, client_id)
);
