DROP INDEX IF EXISTS message_client_ids_created_at;
DROP INDEX IF EXISTS processed_events_processed_at;
