-- System lines carry a machine-readable event ({"code", ...params}) next to their English text,
-- so each reader's client can show them in its own language.
ALTER TABLE messages ADD COLUMN event TEXT;
ALTER TABLE ticket_messages ADD COLUMN event TEXT;
