-- Every agent who had a chat before the one who has it now (SPEC R3: "a transferred chat counts
-- for each agent"): the agents report counted a transferred chat only for its last agent. A row
-- is written when a chat leaves an agent — transfer, take-over, requeue — by a trigger, so every
-- path that moves a chat records it in the chat's own transaction. Only moved chats have rows:
-- the report reads the few of its range, not one row per chat.
CREATE TABLE conversation_handoffs (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id        INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    at              INTEGER NOT NULL
);
-- In the order they happened: one writer, so the rowid order (the index's order within a chat).
CREATE INDEX conversation_handoffs_conversation ON conversation_handoffs(conversation_id);

-- Not when the agent itself is being deleted (ON DELETE SET NULL on conversations.agent_id runs
-- this trigger after the agent's row is gone): its chats no longer name anybody.
CREATE TRIGGER conversations_handoff AFTER UPDATE OF agent_id ON conversations
WHEN OLD.agent_id IS NOT NULL AND NEW.agent_id IS NOT OLD.agent_id
     AND EXISTS (SELECT 1 FROM agents WHERE id = OLD.agent_id) BEGIN
    INSERT INTO conversation_handoffs (conversation_id, agent_id, at)
    VALUES (NEW.id, OLD.agent_id, coalesce(NEW.assigned_at, NEW.queued_at, OLD.assigned_at, NEW.created_at));
END;
