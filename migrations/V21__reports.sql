-- Reports (SPEC M2/M3): tickets by creation, for the exports' keyset walk; chats are found by `conversations_created` (V2).
CREATE INDEX tickets_created ON tickets(created_at);
-- Status changes of everyone in a period (online time, the staffing heatmap).
CREATE INDEX agent_status_history_at ON agent_status_history(at);
