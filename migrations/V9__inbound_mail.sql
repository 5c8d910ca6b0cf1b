-- Mail intake (SPEC E3–E5): every message the intake core saw, the IMAP cursor, and the
-- one-automatic-reply-per-sender-per-day ledger.

-- One row per distinct incoming message (imported or ignored). `dedupe_key` is the Message-ID
-- ("<id@host>") or, for a message without one, "sha256:" and the hash of its bytes: a message
-- seen before is ignored.
CREATE TABLE inbound_mail (
    id                INTEGER PRIMARY KEY,
    dedupe_key        TEXT    NOT NULL UNIQUE,
    ticket_id         INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    ticket_message_id INTEGER REFERENCES ticket_messages(id) ON DELETE SET NULL,
    sender            TEXT,                              -- lower-cased From address
    cc_addrs          TEXT,                              -- JSON array: the To/Cc people besides us
    automatic         TEXT CHECK (automatic IN ('auto_reply', 'bounce', 'list', 'auto_submitted', 'own')),
    outcome           TEXT    NOT NULL CHECK (outcome IN ('new', 'threaded', 'ignored')),
    thread_rule       TEXT,                              -- token | our_message_id | message_id | subject
    reason            TEXT,                              -- why it was ignored
    via               TEXT    NOT NULL CHECK (via IN ('imap', 'cli', 'http', 'test')),
    size              INTEGER NOT NULL,
    received_at       INTEGER NOT NULL
);
CREATE INDEX inbound_mail_ticket ON inbound_mail(ticket_id);
CREATE INDEX inbound_mail_message ON inbound_mail(ticket_message_id);

-- Where the IMAP fetcher stands in each mailbox; written in the transaction of the message it
-- imported, so a restart neither loses nor repeats one.
CREATE TABLE imap_cursor (
    mailbox      TEXT    PRIMARY KEY,                    -- user@host:port/MAILBOX
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- The last automatic reply per sender (at most one a day, SPEC E5).
CREATE TABLE auto_reply_log (
    sender  TEXT    PRIMARY KEY,                         -- lower-cased address
    sent_at INTEGER NOT NULL
) WITHOUT ROWID;
