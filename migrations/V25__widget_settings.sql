-- Widget settings (SPEC W2, W3, W8, W12): appearance per site, pre-chat forms per department,
-- pre-chat answers per chat, ratings, signed visitor identity.

-- Appearance: one row per site ('' = every site without its own row); `settings` is the JSON
-- checked by `widget::Appearance`.
CREATE TABLE widget_appearance (
    site       TEXT    PRIMARY KEY,                  -- '' or an origin, e.g. https://shop.example
    settings   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The pre-chat form of a department (JSON checked by `widget::PrechatForm`); NULL = none.
ALTER TABLE departments ADD COLUMN prechat TEXT;

-- What the visitor answered before the chat started (JSON), shown to the agent.
ALTER TABLE conversations ADD COLUMN prechat TEXT;

-- A chat's rating by its visitor (W8): once per chat, changeable; kept with the agent who served.
CREATE TABLE chat_ratings (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id        INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    rating          TEXT    NOT NULL CHECK (rating IN ('good', 'bad')),
    comment         TEXT,
    rated_at        INTEGER NOT NULL
);
CREATE INDEX chat_ratings_agent ON chat_ratings(agent_id, rated_at);

-- Signed identity (W12): the shop's id for a verified visitor, and when it was last verified.
ALTER TABLE visitors ADD COLUMN external_id TEXT;
ALTER TABLE visitors ADD COLUMN verified_at INTEGER;
CREATE UNIQUE INDEX visitors_external_id ON visitors(external_id) WHERE external_id IS NOT NULL;

-- More devices of one verified visitor: each device keeps its own token, all lead to the visitor.
CREATE TABLE visitor_tokens (
    token_hash BLOB    PRIMARY KEY,                  -- SHA-256, like visitors.token_hash
    visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX visitor_tokens_visitor ON visitor_tokens(visitor_id);
