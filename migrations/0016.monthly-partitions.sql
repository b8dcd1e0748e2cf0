-- depends: 0015.audit-truncate-when-empty
-- The outbox, order status history and notifications, range-partitioned by month on their time
-- column (issue 16), like messages and inbox_messages: the maintain_partitions timer creates
-- months ahead for every table of shared/data/partitions.py, and old outbox and notification
-- months are detached and dropped there instead of DELETEd (docs/database.md).
--
-- Each table is renamed, recreated partitioned, given a partition for every month from its
-- oldest row through 3 months ahead, filled (ids kept: OVERRIDING SYSTEM VALUE), its identity
-- restarted past max(id), and the old one dropped. PostgreSQL enforces a unique key of a
-- partitioned table per partition, so every primary and unique key gains the partition key:
--   outbox_events   PK (id, occurred_at); event ids stay unique (random uuids) with
--                   UNIQUE (event_id, occurred_at). The relay's `id = ANY(...)` is an index
--                   probe of each partition's key (id leads it).
--   order_status_history  PK (id, created_at); history reads are (order_id, id) ranges.
--   notifications   PK (id, created_at); the consumer's dedupe key becomes (event_id,
--                   recipient_type, recipient_id, created_at) and stays a dedupe key because an
--                   order event's notifications take the event's occurred_at as created_at (the
--                   same on every delivery). "One unread thread notice per recipient and thread"
--                   (0009's partial unique index, refused on a partitioned table) moves to
--                   thread_unread_notices below.

-- Old names freed for the new tables (indexes and the identity sequences keep their names).
ALTER TABLE outbox_events RENAME TO outbox_events_unpartitioned;
ALTER TABLE outbox_events_unpartitioned DROP CONSTRAINT outbox_events_pkey,
    DROP CONSTRAINT outbox_events_event_id_key;
DROP INDEX outbox_events_unpublished, outbox_events_unpublished_by_aggregate;
ALTER SEQUENCE outbox_events_id_seq RENAME TO outbox_events_unpartitioned_id_seq;

ALTER TABLE order_status_history RENAME TO order_status_history_unpartitioned;
ALTER TABLE order_status_history_unpartitioned DROP CONSTRAINT order_status_history_pkey,
    DROP CONSTRAINT order_status_history_order_id_fkey, DROP CONSTRAINT order_status_history_seller_order_id_fkey;
DROP INDEX order_status_history_by_order;
ALTER SEQUENCE order_status_history_id_seq RENAME TO order_status_history_unpartitioned_id_seq;

ALTER TABLE notifications RENAME TO notifications_unpartitioned;
ALTER TABLE notifications_unpartitioned DROP CONSTRAINT notifications_pkey,
    DROP CONSTRAINT notifications_event_id_recipient_type_recipient_id_key;
DROP INDEX notifications_by_recipient, notifications_unread, notifications_one_unread_per_thread;

CREATE TABLE outbox_events (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    event_id       uuid NOT NULL DEFAULT gen_random_uuid(),
    event_type     text NOT NULL CHECK (event_type ~ '^[a-z_]+\.[a-z_]+$'),
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until  timestamptz,
    attempts       int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    published_at   timestamptz,
    PRIMARY KEY (id, occurred_at),
    CONSTRAINT outbox_events_event_id_key UNIQUE (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
-- The relay only ever scans unpublished events, oldest first (0001), and probes an aggregate's
-- earlier unpublished events (0005): per partition now, a handful with a 30-day retention.
CREATE INDEX outbox_events_unpublished ON outbox_events (id) WHERE published_at IS NULL;
CREATE INDEX outbox_events_unpublished_by_aggregate
    ON outbox_events (aggregate_type, aggregate_id, id) WHERE published_at IS NULL;

-- The audit trail of every status change: partitioned for cheap appends and month-sized
-- indexes, never dropped (no retention). Foreign keys from a partitioned table are allowed.
CREATE TABLE order_status_history (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    order_id        uuid NOT NULL REFERENCES orders (id),
    seller_order_id uuid REFERENCES seller_orders (id),
    field           text NOT NULL CHECK (field IN ('status', 'delivery_status', 'payment_status')),
    from_status     text,
    to_status       text NOT NULL,
    actor_id        text NOT NULL,
    actor_role      text NOT NULL,
    reason          text CHECK (length(reason) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX order_status_history_by_order ON order_status_history (order_id, id);

CREATE TABLE notifications (
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    recipient_type text NOT NULL CHECK (recipient_type IN ('user', 'seller')),
    recipient_id   text NOT NULL,
    event_id       uuid NOT NULL,
    kind           text NOT NULL,
    title_en       text NOT NULL,
    title_ar       text NOT NULL,
    data           jsonb NOT NULL DEFAULT '{}'::jsonb,
    read_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at),
    -- One notification per event and recipient, however often the event is delivered: an
    -- order event's rows carry its occurred_at, so a redelivery hits the same key.
    CONSTRAINT notifications_once_per_event_recipient UNIQUE (event_id, recipient_type, recipient_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX notifications_by_recipient ON notifications (recipient_type, recipient_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (recipient_type, recipient_id) WHERE read_at IS NULL;

-- At most one unread "new messages" notice per (recipient, thread), as 0009's partial unique
-- index did: its primary key is the constraint. The thread consumer upserts the row first (its
-- lock orders concurrent consumers), then makes or counts up the notification it names; marking
-- read deletes the row first, then sets read_at, in the same order, so the two never deadlock.
CREATE TABLE thread_unread_notices (
    recipient_type  text NOT NULL CHECK (recipient_type IN ('user', 'seller')),
    recipient_id    text NOT NULL,
    thread_id       text NOT NULL,
    notification_id uuid NOT NULL UNIQUE,
    PRIMARY KEY (recipient_type, recipient_id, thread_id)
);

-- Months from each table's oldest row (or this month) through 3 ahead (or its newest row), named
-- and bounded as shared/data/partitions.py names them: <table>_pYYYYMM, UTC months.
DO $$
DECLARE
    spec record;
    month date;
    ahead date := date_trunc('month', now() AT TIME ZONE 'UTC')::date + interval '3 months';
BEGIN
    FOR spec IN
        SELECT 'outbox_events' AS parent, min(occurred_at) AS oldest, max(occurred_at) AS newest
        FROM outbox_events_unpartitioned
        UNION ALL SELECT 'order_status_history', min(created_at), max(created_at) FROM order_status_history_unpartitioned
        UNION ALL SELECT 'notifications', min(created_at), max(created_at) FROM notifications_unpartitioned
    LOOP
        month := date_trunc('month', least(coalesce(spec.oldest, now()), now()) AT TIME ZONE 'UTC')::date;
        WHILE month <= greatest(ahead, (spec.newest AT TIME ZONE 'UTC')::date) LOOP
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                spec.parent || '_p' || to_char(month, 'YYYYMM'), spec.parent,
                (month::timestamp AT TIME ZONE 'UTC'),
                ((month + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            month := month + interval '1 month';
        END LOOP;
    END LOOP;
END
$$;

INSERT INTO outbox_events (id, event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at,
                           claimed_until, attempts, published_at)
OVERRIDING SYSTEM VALUE
SELECT id, event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at, claimed_until, attempts,
       published_at
FROM outbox_events_unpartitioned;
DO $$ BEGIN  -- the identity continues past the copied ids
    PERFORM setval(pg_get_serial_sequence('outbox_events', 'id'), coalesce(max(id), 0) + 1, false) FROM outbox_events_unpartitioned;
END $$;
DROP TABLE outbox_events_unpartitioned;

INSERT INTO order_status_history (id, order_id, seller_order_id, field, from_status, to_status, actor_id,
                                  actor_role, reason, created_at)
OVERRIDING SYSTEM VALUE
SELECT id, order_id, seller_order_id, field, from_status, to_status, actor_id, actor_role, reason, created_at
FROM order_status_history_unpartitioned;
DO $$ BEGIN  -- the identity continues past the copied ids
    PERFORM setval(pg_get_serial_sequence('order_status_history', 'id'), coalesce(max(id), 0) + 1, false) FROM order_status_history_unpartitioned;
END $$;
DROP TABLE order_status_history_unpartitioned;

INSERT INTO notifications (id, recipient_type, recipient_id, event_id, kind, title_en, title_ar, data, read_at,
                           created_at)
SELECT id, recipient_type, recipient_id, event_id, kind, title_en, title_ar, data, read_at, created_at
FROM notifications_unpartitioned;
INSERT INTO thread_unread_notices (recipient_type, recipient_id, thread_id, notification_id)
SELECT recipient_type, recipient_id, data ->> 'thread_id', id
FROM notifications_unpartitioned
WHERE read_at IS NULL AND kind = 'thread.message_posted';
DROP TABLE notifications_unpartitioned;
