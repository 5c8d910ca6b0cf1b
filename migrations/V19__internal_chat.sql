-- Internal chat between agents (SPEC C12, issue 11): a room per department for its members
-- (admins see every department's room) and 1:1 rooms between two agents. Messages are numbered
-- per room (`seq`, like a conversation's), so sockets deliver them gap-free and resume by seq;
-- a client id makes a resent message a no-op.

CREATE TABLE team_rooms (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('department', 'direct')),
    department_id   INTEGER REFERENCES departments(id) ON DELETE CASCADE,
    -- A direct room's two agents, the lower id first.
    agent_low       INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    agent_high      INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER,
    created_at      INTEGER NOT NULL,
    CHECK ((kind = 'department' AND department_id IS NOT NULL AND agent_low IS NULL AND agent_high IS NULL)
        OR (kind = 'direct' AND department_id IS NULL AND agent_low IS NOT NULL AND agent_low < agent_high))
);
CREATE UNIQUE INDEX team_rooms_department ON team_rooms(department_id) WHERE department_id IS NOT NULL;
CREATE UNIQUE INDEX team_rooms_pair ON team_rooms(agent_low, agent_high) WHERE agent_low IS NOT NULL;
CREATE INDEX team_rooms_high ON team_rooms(agent_high) WHERE agent_high IS NOT NULL;

CREATE TABLE team_messages (
    id         INTEGER PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES team_rooms(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    client_id  TEXT,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (room_id, seq)
);
CREATE UNIQUE INDEX team_messages_client ON team_messages(room_id, agent_id, client_id) WHERE client_id IS NOT NULL;

-- How far each agent has read a room (unread counters).
CREATE TABLE team_reads (
    room_id  INTEGER NOT NULL REFERENCES team_rooms(id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, agent_id)
);

-- Every existing department gets its room.
INSERT INTO team_rooms (kind, department_id, created_at) SELECT 'department', id, created_at FROM departments;
