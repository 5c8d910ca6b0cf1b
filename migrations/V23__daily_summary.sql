-- Daily summary mail per agent (SPEC E6): the agent's opt-out, and the ledger that makes a
-- summary go at most once per agent and local date (its row is written in the transaction that
-- queues the mail; outbox_id is NULL when there was nothing to report that day).

ALTER TABLE agents ADD COLUMN daily_summary INTEGER NOT NULL DEFAULT 1 CHECK (daily_summary IN (0, 1));

CREATE TABLE daily_summaries (
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,                     -- YYYY-MM-DD in the shop's time zone
    outbox_id  INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, day)
) WITHOUT ROWID;
