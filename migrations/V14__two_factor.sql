-- Two-factor sign-in (TOTP, RFC 6238, SPEC C1).
-- agents.totp_secret (V1) holds the base32 secret: while totp_enabled_at is NULL it is an
-- enrolment not yet confirmed with a code, and the agent signs in with the password alone.
ALTER TABLE agents ADD COLUMN totp_enabled_at INTEGER;
-- The last 30-second step a code was accepted for: each code works once.
ALTER TABLE agents ADD COLUMN totp_last_step INTEGER;

-- One-time recovery codes, ten per enrolment; only their SHA-256 is stored.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX recovery_codes_agent ON recovery_codes(agent_id);

-- A password that was right, waiting for its second step: a code ('code'), or, when the
-- admin requires 2FA and the agent has none yet, an enrolment ('enrol'). Short-lived; only
-- the SHA-256 of the cookie value is stored, and it opens nothing but that second step.
CREATE TABLE login_challenges (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('code', 'enrol')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_challenges_agent ON login_challenges(agent_id);
