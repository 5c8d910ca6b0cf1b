-- Uploads never sent in a message are deleted after a grace time (SPEC S5): finding them
-- asks "does any message refer to this attachment / any attachment to this blob?", and
-- deleting a parent row makes the database ask the same for its foreign keys.
CREATE INDEX messages_attachment ON messages(attachment_id) WHERE attachment_id IS NOT NULL;
CREATE INDEX ticket_message_attachments_attachment ON ticket_message_attachments(attachment_id);
CREATE INDEX attachments_blob ON attachments(blob_id);
