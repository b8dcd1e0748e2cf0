-- depends: 0006.search-documents-inline
-- Payments: one row per checkout attempt at a gateway, the gateway's webhook events (stored
-- before they are acted on, deduplicated per gateway), and refunds with their lines. The
-- invariants live here: one live attempt per order, one row per gateway id, one event per
-- gateway event key, and never more refunded than bought (order_items.refunded_quantity).

CREATE TABLE payments (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id           uuid NOT NULL REFERENCES orders (id),
    gateway            text NOT NULL CHECK (gateway ~ '^[a-z][a-z0-9_-]{0,31}$'),
    -- NULL between our INSERT and the gateway's answer (the gateway is called outside any transaction).
    gateway_payment_id text CHECK (length(gateway_payment_id) BETWEEN 1 AND 200),
    amount             numeric(12, 2) NOT NULL CHECK (amount > 0),
    currency           char(3) NOT NULL,
    status             text NOT NULL DEFAULT 'INITIATED'
                       CHECK (status IN ('INITIATED', 'PENDING', 'PAID', 'FAILED', 'AUTHORIZED', 'CAPTURED', 'VOIDED',
                                         'REFUNDED', 'PARTIALLY_REFUNDED')),
    method             text CHECK (length(method) <= 40),
    checkout_url       text,
    publishable_key    text,
    raw                jsonb NOT NULL DEFAULT '{}'::jsonb,
    paid_at            timestamptz,
    -- Money the gateway has given back (refunds SUCCEEDED): never more than was paid.
    refunded_amount    numeric(12, 2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    -- The gateway said paid, but not what we asked (amount or currency): a person decides.
    needs_review       boolean NOT NULL DEFAULT false,
    review_reason      text CHECK (length(review_reason) <= 500),
    version            int NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (gateway, gateway_payment_id),
    CHECK (needs_review = (review_reason IS NOT NULL))
);
-- At most one live attempt per order: a concurrent retry's INSERT finds it instead of adding one.
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id) WHERE status IN ('INITIATED', 'PENDING');
CREATE INDEX payments_by_order ON payments (order_id, created_at);
-- The ops review list, oldest first.
CREATE INDEX payments_needing_review ON payments (created_at, id) WHERE needs_review;

CREATE TABLE payment_events (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway            text NOT NULL,
    -- The gateway's event id, or a key derived from type + payment id + updated_at.
    event_key          text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 300),
    event_type         text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 60),
    gateway_payment_id text NOT NULL CHECK (length(gateway_payment_id) BETWEEN 1 AND 200),
    payload            jsonb NOT NULL,  -- as received, without the secret_token
    received_at        timestamptz NOT NULL DEFAULT now(),
    -- Last time it was put on the queue; NULL = stored but never queued (the queue was down).
    enqueued_at        timestamptz,
    processed_at       timestamptz,
    outcome            text CHECK (length(outcome) <= 60),
    UNIQUE (gateway, event_key),
    CHECK ((processed_at IS NULL) = (outcome IS NULL))
);
-- The sweep of events stored but not processed (queue down at intake, message lost).
CREATE INDEX payment_events_unprocessed ON payment_events (received_at) WHERE processed_at IS NULL;

-- Refunded units of a line: bumped by a conditional UPDATE when a refund is requested, and the
-- CHECK refuses any write that would refund more than was bought.
ALTER TABLE order_items ADD COLUMN refunded_quantity int NOT NULL DEFAULT 0
    CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity);
-- Money claimed by refunds of this child order (requested or done): never more than its total.
ALTER TABLE seller_orders ADD COLUMN refunded_amount numeric(12, 2) NOT NULL DEFAULT 0
    CHECK (refunded_amount >= 0 AND refunded_amount <= total);
-- Units of a CONSUMED reservation put back on the shelf by a refund: a later cancellation
-- restocks only the rest.
ALTER TABLE reservations ADD COLUMN restocked int NOT NULL DEFAULT 0
    CHECK (restocked >= 0 AND restocked <= quantity);

CREATE TABLE refunds (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_id      uuid NOT NULL REFERENCES payments (id),
    order_id        uuid NOT NULL REFERENCES orders (id),
    amount          numeric(12, 2) NOT NULL CHECK (amount > 0),
    currency        char(3) NOT NULL,
    -- REQUESTED: written before the gateway call; SUCCEEDED/FAILED once its answer is known
    -- (or reconciled by `reconcile_refunds` from the gateway's payment).
    status          text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN ('REQUESTED', 'SUCCEEDED', 'FAILED')),
    restock         boolean NOT NULL,
    reason          text CHECK (length(reason) <= 500),
    actor_id        text NOT NULL,
    actor_role      text NOT NULL,
    failure         text CHECK (length(failure) <= 500),
    -- When the reconciler may look at it next (a lease: two runs never handle one refund at once).
    next_attempt_at timestamptz NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    CHECK ((status = 'REQUESTED') = (completed_at IS NULL))
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, created_at);
CREATE INDEX refunds_requested ON refunds (next_attempt_at) WHERE status = 'REQUESTED';

CREATE TABLE refund_lines (
    refund_id       uuid NOT NULL REFERENCES refunds (id),
    order_item_id   uuid NOT NULL REFERENCES order_items (id),
    seller_order_id uuid NOT NULL REFERENCES seller_orders (id),
    quantity        int NOT NULL CHECK (quantity > 0),
    amount          numeric(12, 2) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (refund_id, order_item_id)
);
-- Per child order, what each refund claimed of it (delivery and rounding rest included).
CREATE TABLE refund_children (
    refund_id       uuid NOT NULL REFERENCES refunds (id),
    seller_order_id uuid NOT NULL REFERENCES seller_orders (id),
    amount          numeric(12, 2) NOT NULL CHECK (amount > 0),
    whole           boolean NOT NULL,
    PRIMARY KEY (refund_id, seller_order_id)
);
