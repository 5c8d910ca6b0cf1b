-- Each agent's number of active chats and the time of their latest assignment, kept by triggers in the same transaction as the chat
-- that changed it. Routing's snapshot (every widget hello, every dispatch) used to count them
-- per agent: with 100 agents × 100 chats, 10,000 index entries per hello, so a reconnect
-- storm of n visitors cost O(n²) (BENCHMARKS P4). Triggers, not application code, so every
-- path that assigns, ends, transfers, erases or deletes a chat keeps the figure right.
ALTER TABLE agents ADD COLUMN active_chats INTEGER NOT NULL DEFAULT 0;
-- Least recently assigned goes first among equals (routing). A fact about the agent: deleting
-- old chats (retention, erasure) does not move it back.
ALTER TABLE agents ADD COLUMN last_assigned_at INTEGER;

UPDATE agents SET
    active_chats = (SELECT count(*) FROM conversations c WHERE c.agent_id = agents.id AND c.status = 'active'),
    last_assigned_at = (SELECT max(assigned_at) FROM conversations c WHERE c.agent_id = agents.id);

CREATE TRIGGER conversations_load_insert AFTER INSERT ON conversations
WHEN NEW.status = 'active' AND NEW.agent_id IS NOT NULL BEGIN
    UPDATE agents SET active_chats = active_chats + 1 WHERE id = NEW.agent_id;
END;

CREATE TRIGGER conversations_load_update AFTER UPDATE OF status, agent_id ON conversations
WHEN (OLD.status = 'active' AND OLD.agent_id IS NOT NULL) OR (NEW.status = 'active' AND NEW.agent_id IS NOT NULL) BEGIN
    UPDATE agents SET active_chats = active_chats - 1 WHERE id = OLD.agent_id AND OLD.status = 'active';
    UPDATE agents SET active_chats = active_chats + 1 WHERE id = NEW.agent_id AND NEW.status = 'active';
END;

CREATE TRIGGER conversations_load_delete AFTER DELETE ON conversations
WHEN OLD.status = 'active' AND OLD.agent_id IS NOT NULL BEGIN
    UPDATE agents SET active_chats = active_chats - 1 WHERE id = OLD.agent_id;
END;

CREATE TRIGGER conversations_assigned_insert AFTER INSERT ON conversations
WHEN NEW.agent_id IS NOT NULL AND NEW.assigned_at IS NOT NULL BEGIN
    UPDATE agents SET last_assigned_at = max(coalesce(last_assigned_at, NEW.assigned_at), NEW.assigned_at) WHERE id = NEW.agent_id;
END;

CREATE TRIGGER conversations_assigned_update AFTER UPDATE OF agent_id, assigned_at ON conversations
WHEN NEW.agent_id IS NOT NULL AND NEW.assigned_at IS NOT NULL BEGIN
    UPDATE agents SET last_assigned_at = max(coalesce(last_assigned_at, NEW.assigned_at), NEW.assigned_at) WHERE id = NEW.agent_id;
END;
