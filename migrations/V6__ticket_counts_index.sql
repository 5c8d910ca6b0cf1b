-- Sidebar counters group tickets by status; this index answers them without reading rows.
CREATE INDEX tickets_status_merged ON tickets(status, merged_into, agent_id, department_id);
