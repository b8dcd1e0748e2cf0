DROP TABLE IF EXISTS inbox_reply_keys;
DROP TABLE IF EXISTS inbox_message_keys;
DROP TABLE IF EXISTS inbox_messages;
DROP TABLE IF EXISTS conversation_history;
DROP TABLE IF EXISTS conversations;
DROP TABLE IF EXISTS contacts;
DROP TABLE IF EXISTS channel_connections;
