-- Issue 14 (the console as a newcomer meets it): each agent's notification settings, as
-- JSON {"sound","new_chat","new_message","desktop"}; NULL means the defaults (all on).
ALTER TABLE agents ADD COLUMN notify TEXT;
