-- Back to the unpartitioned tables of 0001/0003/0005/0009, rows and ids kept.
ALTER TABLE outbox_events RENAME TO outbox_events_partitioned;
ALTER INDEX outbox_events_pkey RENAME TO outbox_events_partitioned_pkey;
ALTER INDEX outbox_events_event_id_key RENAME TO outbox_events_partitioned_event_id_key;
DROP INDEX outbox_events_unpublished, outbox_events_unpublished_by_aggregate;
ALTER SEQUENCE outbox_events_id_seq RENAME TO outbox_events_partitioned_id_seq;

ALTER TABLE order_status_history RENAME TO order_status_history_partitioned;
ALTER INDEX order_status_history_pkey RENAME TO order_status_history_partitioned_pkey;
DROP INDEX order_status_history_by_order;
ALTER SEQUENCE order_status_history_id_seq RENAME TO order_status_history_partitioned_id_seq;

ALTER TABLE notifications RENAME TO notifications_partitioned;
ALTER INDEX notifications_pkey RENAME TO notifications_partitioned_pkey;
ALTER INDEX notifications_once_per_event_recipient RENAME TO notifications_partitioned_key;
DROP INDEX notifications_by_recipient, notifications_unread;
DROP TABLE thread_unread_notices;

CREATE TABLE outbox_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    event_type     text NOT NULL CHECK (event_type ~ '^[a-z_]+\.[a-z_]+$'),
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until  timestamptz,
    attempts       int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    published_at   timestamptz
);
INSERT INTO outbox_events (id, event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at,
                           claimed_until, attempts, published_at)
OVERRIDING SYSTEM VALUE
SELECT id, event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at, claimed_until, attempts,
       published_at
FROM outbox_events_partitioned;
DO $$ BEGIN  -- the identity continues past the copied ids
    PERFORM setval(pg_get_serial_sequence('outbox_events', 'id'), coalesce(max(id), 0) + 1, false) FROM outbox_events_partitioned;
END $$;
DROP TABLE outbox_events_partitioned;
CREATE INDEX outbox_events_unpublished ON outbox_events (id) WHERE published_at IS NULL;
CREATE INDEX outbox_events_unpublished_by_aggregate
    ON outbox_events (aggregate_type, aggregate_id, id) WHERE published_at IS NULL;

CREATE TABLE order_status_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        uuid NOT NULL REFERENCES orders (id),
    seller_order_id uuid REFERENCES seller_orders (id),
    field           text NOT NULL CHECK (field IN ('status', 'delivery_status', 'payment_status')),
    from_status     text,
    to_status       text NOT NULL,
    actor_id        text NOT NULL,
    actor_role      text NOT NULL,
    reason          text CHECK (length(reason) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO order_status_history (id, order_id, seller_order_id, field, from_status, to_status, actor_id,
                                  actor_role, reason, created_at)
OVERRIDING SYSTEM VALUE
SELECT id, order_id, seller_order_id, field, from_status, to_status, actor_id, actor_role, reason, created_at
FROM order_status_history_partitioned;
DO $$ BEGIN  -- the identity continues past the copied ids
    PERFORM setval(pg_get_serial_sequence('order_status_history', 'id'), coalesce(max(id), 0) + 1, false) FROM order_status_history_partitioned;
END $$;
DROP TABLE order_status_history_partitioned;
CREATE INDEX order_status_history_by_order ON order_status_history (order_id, id);

CREATE TABLE notifications (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recipient_type text NOT NULL CHECK (recipient_type IN ('user', 'seller')),
    recipient_id   text NOT NULL,
    event_id       uuid NOT NULL,
    kind           text NOT NULL,
    title_en       text NOT NULL,
    title_ar       text NOT NULL,
    data           jsonb NOT NULL DEFAULT '{}'::jsonb,
    read_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, recipient_type, recipient_id)
);
INSERT INTO notifications (id, recipient_type, recipient_id, event_id, kind, title_en, title_ar, data, read_at,
                           created_at)
SELECT id, recipient_type, recipient_id, event_id, kind, title_en, title_ar, data, read_at, created_at
FROM notifications_partitioned;
DROP TABLE notifications_partitioned;
CREATE INDEX notifications_by_recipient ON notifications (recipient_type, recipient_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (recipient_type, recipient_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_one_unread_per_thread
    ON notifications (recipient_type, recipient_id, (data ->> 'thread_id'))
    WHERE read_at IS NULL AND kind = 'thread.message_posted';
