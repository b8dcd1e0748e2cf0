-- depends: 0004.search-lexicon
-- The relay's claim walks unpublished events oldest first and stops after its batch: "is there
-- an earlier unpublished event of this aggregate?" and "every unpublished event of the taken
-- aggregates" are probes of this index, so a claim costs O(batch), not O(backlog) (before, it
-- grouped every unpublished event to find each aggregate's oldest: seconds per batch after a
-- long Storage outage left a backlog).
CREATE INDEX outbox_events_unpublished_by_aggregate
    ON outbox_events (aggregate_type, aggregate_id, id) WHERE published_at IS NULL;
