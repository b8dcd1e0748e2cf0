DROP TABLE IF EXISTS rejected_messages;
DROP TABLE IF EXISTS processed_events;
DROP TABLE IF EXISTS outbox_events;
DROP TABLE IF EXISTS addresses;
DROP TABLE IF EXISTS users;
