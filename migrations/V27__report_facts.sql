-- Reports on a big desk (issue 13: any year-long report in p95 ≤ 200 ms at 100,000 chats and
-- tickets). Each report reads its facts from one covering index instead of visiting every
-- row, and the response time (a visitor's message → the next agent reply, every such pair)
-- is kept per chat, updated by the message that changes it in the same transaction
-- (`chat::store::insert_message`), so no report reads the messages.

-- Per chat: the sum (ms) and number of answered visitor turns — a turn runs from the first
-- visitor message after the last agent message to the next agent message — and when the turn
-- now waiting for an answer began (NULL: none is waiting).
ALTER TABLE conversations ADD COLUMN response_sum_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN responses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN awaiting_reply_since INTEGER;

-- rebuild: begin
-- Rebuilt from the stored messages the visitor saw (internal and system lines do not count).
-- `n` numbers a chat's agent messages: a visitor message after the k-th waits for the (k+1)-th.
CREATE TABLE report_turns AS
WITH m AS (
    SELECT conversation_id, author_kind, created_at,
           sum(CASE WHEN author_kind = 'agent' THEN 1 ELSE 0 END)
               OVER (PARTITION BY conversation_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS n
    FROM messages
    WHERE internal = 0 AND author_kind IN ('visitor', 'agent')
),
asks AS (
    SELECT conversation_id, n, min(created_at) AS at FROM m WHERE author_kind = 'visitor' GROUP BY conversation_id, n
),
answers AS (
    SELECT conversation_id, n, created_at AS at FROM m WHERE author_kind = 'agent'
)
SELECT a.conversation_id AS conversation_id, a.at AS asked_at, r.at AS answered_at
FROM asks a LEFT JOIN answers r ON r.conversation_id = a.conversation_id AND r.n = a.n + 1;
CREATE INDEX report_turns_conversation ON report_turns(conversation_id);
UPDATE conversations SET
    response_sum_ms = coalesce((SELECT sum(t.answered_at - t.asked_at) FROM report_turns t
                                WHERE t.conversation_id = conversations.id AND t.answered_at IS NOT NULL), 0),
    responses = (SELECT count(*) FROM report_turns t WHERE t.conversation_id = conversations.id AND t.answered_at IS NOT NULL),
    awaiting_reply_since = (SELECT min(t.asked_at) FROM report_turns t
                            WHERE t.conversation_id = conversations.id AND t.answered_at IS NULL)
WHERE id IN (SELECT conversation_id FROM report_turns);
DROP TABLE report_turns;
-- rebuild: end

-- The chats report's facts in start order (also the conversations export's keyset walk, so
-- the index on `created_at` alone goes).
DROP INDEX conversations_created;
CREATE INDEX conversations_report ON conversations(
    created_at, id, department_id, agent_id, assigned_at, first_agent_reply_at, ended_at, ended_by, outcome,
    response_sum_ms, responses
);
-- The tickets report's facts: created before the period's end, not solved before its start.
CREATE INDEX tickets_report ON tickets(
    created_at, solved_at, merged_into, department_id, agent_id, source, status, first_reply_at
);
