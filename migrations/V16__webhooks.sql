-- Signed webhooks (SPEC §1, A2): admin-registered endpoints and their delivery outbox.
-- A delivery row is written in the transaction of the event that causes it, exactly like
-- outgoing mail, so an event and its webhook deliveries exist together or not at all.

CREATE TABLE webhooks (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL,
    events               TEXT    NOT NULL,           -- ",conversation.started,message.created," (delimited for matching)
    secret               TEXT    NOT NULL,           -- HMAC key; shown once at creation, needed to sign every delivery
    enabled              INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    disabled_reason      TEXT,                        -- set when deliveries kept failing and it was switched off
    disabled_at          INTEGER,
    created_by           INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    body            TEXT    NOT NULL,                 -- the exact JSON that is signed and sent
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,                 -- also the lease while an attempt is under way
    last_attempt_at INTEGER,
    last_status     INTEGER,                          -- HTTP status of the last answer
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
