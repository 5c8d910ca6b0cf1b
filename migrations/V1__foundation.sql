-- Foundation schema: people, access and the audit trail.
-- Conventions for every later migration:
--   * times are INTEGER milliseconds since the Unix epoch (UTC);
--   * ids are INTEGER PRIMARY KEY (portable: BIGSERIAL/IDENTITY on PostgreSQL);
--   * booleans are INTEGER 0/1 with CHECK constraints;
--   * no SQLite-only SQL here except what db/ and search code own (FTS tables).

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL,
    email_norm    TEXT    NOT NULL UNIQUE,          -- lower-cased, trimmed: the login key
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    password_hash TEXT,                              -- argon2id PHC string; NULL until an invited agent sets one
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    locale        TEXT    NOT NULL DEFAULT 'en',
    chat_limit    INTEGER NOT NULL DEFAULT 3 CHECK (chat_limit BETWEEN 0 AND 100),
    totp_secret   TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE departments (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    visible    INTEGER NOT NULL DEFAULT 1 CHECK (visible IN (0, 1)),  -- shown to visitors
    created_at INTEGER NOT NULL
);

CREATE TABLE department_members (
    department_id INTEGER NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
    agent_id      INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (department_id, agent_id)
);
CREATE INDEX department_members_agent ON department_members(agent_id);

-- Only SHA-256 hashes of session and API tokens are stored: a leaked database grants nothing.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB    NOT NULL UNIQUE,
    agent_id     INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,                   -- absolute expiry
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_agent ON sessions(agent_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('admin', 'inbound', 'metrics')),
    token_hash   BLOB    NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor_id INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    actor    TEXT    NOT NULL,                       -- "agent:3 ann@example.com", "cli", "setup"
    action   TEXT    NOT NULL,                       -- "agent.create", "department.delete", ...
    target   TEXT,
    details  TEXT                                    -- JSON
);
CREATE INDEX audit_log_at ON audit_log(at);

-- Small server-wide values: generated secret key, setup token hash, admin settings.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
