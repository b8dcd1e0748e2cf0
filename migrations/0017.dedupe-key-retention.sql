-- depends: 0016.monthly-partitions
-- Dedupe keys outlive their use: a queue message lives at most 7 days, a client retries a post
-- within days. The daily `prune_dedupe_keys` timer deletes keys past their retention oldest
-- first, in batches; these indexes let each batch find its rows without reading the table.
CREATE INDEX IF NOT EXISTS processed_events_processed_at ON processed_events (processed_at);
CREATE INDEX IF NOT EXISTS message_client_ids_created_at ON message_client_ids (created_at);
