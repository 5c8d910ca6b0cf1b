-- Routing (SPEC C2, R1–R6, W5–W7, W11): agent status with its history, department settings
-- for chats, and the timestamps the queue needs.

-- accepting: gets new chats; not_accepting: keeps current chats, gets no new ones; offline.
ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'offline'
    CHECK (status IN ('accepting', 'not_accepting', 'offline'));
-- The status the agent last chose by hand: login restores it (C2).
ALTER TABLE agents ADD COLUMN chosen_status TEXT NOT NULL DEFAULT 'accepting'
    CHECK (chosen_status IN ('accepting', 'not_accepting', 'offline'));

-- Every status change, for online-time reports.
CREATE TABLE agent_status_history (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    from_status TEXT    NOT NULL,
    to_status   TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    reason      TEXT    NOT NULL CHECK (reason IN ('manual', 'auto_offline', 'session_end', 'login'))
);
CREATE INDEX agent_status_history_agent ON agent_status_history(agent_id, at);

-- Department settings for chats.
ALTER TABLE departments ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;        -- higher first in the queue
ALTER TABLE departments ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';       -- IANA name
ALTER TABLE departments ADD COLUMN hours TEXT;                                 -- JSON week; NULL = always open
ALTER TABLE departments ADD COLUMN holidays TEXT;                              -- JSON ["YYYY-MM-DD", …]
ALTER TABLE departments ADD COLUMN queue_limit INTEGER CHECK (queue_limit IS NULL OR queue_limit >= 0); -- NULL = no limit
ALTER TABLE departments ADD COLUMN offline_behaviour TEXT NOT NULL DEFAULT 'form'
    CHECK (offline_behaviour IN ('form', 'hide'));
ALTER TABLE departments ADD COLUMN origins TEXT;                               -- JSON ["https://shop.example", …]; NULL = every site

CREATE INDEX conversations_department ON conversations(department_id, status);
-- "Longest idle" looks up each agent's last assignment on every dispatch.
CREATE INDEX conversations_agent_assigned ON conversations(agent_id, assigned_at);
