-- Data retention and GDPR erase look rows up by age and by what still references a file;
-- without these indexes each of those questions would read a whole table. (The indexes on
-- attachments(blob_id), messages(attachment_id) and ticket_message_attachments(attachment_id)
-- come from V8__file_cleanup.)
CREATE INDEX conversations_ended ON conversations(status, ended_at);
CREATE INDEX page_views_at ON page_views(at);
CREATE INDEX attachments_created ON attachments(created_at);
CREATE INDEX attachments_visitor ON attachments(visitor_id);
CREATE INDEX tickets_closed ON tickets(status, updated_at);
CREATE INDEX tickets_merged_into ON tickets(merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX visitors_contact ON visitors(contact_id);
CREATE INDEX outbox_ticket ON outbox(ticket_id);
