-- Team work in chats (SPEC C7): internal lines only agents see — a supervisor's whisper, the
-- note of a transfer, who transferred or took over a chat. They share the conversation's
-- sequence (agents read them in order) but never reach the visitor's socket, history or
-- transcript mail: every visitor-facing read filters `internal = 0`.
ALTER TABLE messages ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));

-- A chat transferred to a department waits in its queue from the transfer: queue order and the
-- visitor's waited time (the "please wait" line, the leave-a-message offer) count from here.
-- NULL: waiting since `created_at` (a new chat).
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
