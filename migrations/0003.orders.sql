-- depends: 0002.catalog
-- Orders: one parent per checkout, one child per seller, items, stock reservations, status
-- history, idempotency keys and in-app notifications.

CREATE SEQUENCE order_number_seq;

CREATE TABLE orders (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number           text NOT NULL UNIQUE,
    user_id          text NOT NULL REFERENCES users (id),
    -- Derived from the children (orders_derive_status below), stored so lists can filter on it.
    status           text NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'REFUNDED')),
    payment_status   text NOT NULL DEFAULT 'PENDING'
                     CHECK (payment_status IN ('PENDING', 'PROCESSING', 'PAID', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED')),
    delivery_method  text NOT NULL CHECK (delivery_method IN ('delivery', 'pickup')),
    delivery_address jsonb,
    customer_notes   text CHECK (length(customer_notes) <= 1000),
    prescription_ids uuid[] NOT NULL DEFAULT '{}',
    currency         char(3) NOT NULL DEFAULT 'SAR',
    subtotal         numeric(12, 2) NOT NULL CHECK (subtotal >= 0),
    tax              numeric(12, 2) NOT NULL CHECK (tax >= 0),
    delivery_fee     numeric(12, 2) NOT NULL CHECK (delivery_fee >= 0),
    total            numeric(12, 2) NOT NULL,
    expires_at       timestamptz,
    version          int NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (total = subtotal + tax + delivery_fee),
    CHECK ((delivery_method = 'delivery') = (delivery_address IS NOT NULL))
);
-- A shopper's orders, newest first (keyset).
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);
-- Admin lists and stats by date range.
CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);
-- The expiry timer: unpaid orders past their deadline, oldest first.
CREATE INDEX orders_unpaid_expiring ON orders (expires_at)
    WHERE payment_status IN ('PENDING', 'FAILED') AND status = 'PENDING';

-- One per (order, seller): what that seller fulfils.
CREATE TABLE seller_orders (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id        uuid NOT NULL REFERENCES orders (id),
    seller_id       uuid NOT NULL REFERENCES sellers (id),
    number          text NOT NULL UNIQUE,
    status          text NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'CONFIRMED', 'PROCESSING', 'READY_FOR_PICKUP', 'OUT_FOR_DELIVERY',
                                      'DELIVERED', 'CANCELLED', 'REFUNDED')),
    delivery_status text NOT NULL DEFAULT 'PENDING'
                    CHECK (delivery_status IN ('PENDING', 'ASSIGNED', 'PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY',
                                               'DELIVERED', 'FAILED', 'RETURNED')),
    subtotal        numeric(12, 2) NOT NULL CHECK (subtotal >= 0),
    tax             numeric(12, 2) NOT NULL CHECK (tax >= 0),
    delivery_fee    numeric(12, 2) NOT NULL CHECK (delivery_fee >= 0),
    total           numeric(12, 2) NOT NULL,
    version         int NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, seller_id),
    CHECK (total = subtotal + tax + delivery_fee)
);
-- A seller's child orders, newest first, optionally by status (keyset).
CREATE INDEX seller_orders_by_seller ON seller_orders (seller_id, created_at DESC, id DESC);
CREATE INDEX seller_orders_by_seller_status ON seller_orders (seller_id, status, created_at DESC, id DESC);

CREATE TABLE order_items (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id        uuid NOT NULL REFERENCES orders (id),
    seller_order_id uuid NOT NULL REFERENCES seller_orders (id),
    line_no         int NOT NULL CHECK (line_no >= 1),
    offer_id        uuid NOT NULL REFERENCES offers (id),
    variant_id      uuid NOT NULL REFERENCES variants (id),
    product_id      uuid NOT NULL REFERENCES products (id),
    -- Snapshots: the order shows what was bought even after the catalog changes.
    product_name_en text NOT NULL,
    product_name_ar text NOT NULL,
    sku             text NOT NULL,
    requires_prescription boolean NOT NULL,
    unit_price      numeric(12, 2) NOT NULL CHECK (unit_price > 0),
    quantity        int NOT NULL CHECK (quantity > 0),
    line_total      numeric(12, 2) NOT NULL,
    UNIQUE (order_id, line_no),
    CHECK (line_total = unit_price * quantity)
);
-- Items of a child order (order pages, consistency checks); items of a parent.
CREATE INDEX order_items_by_seller_order ON order_items (seller_order_id);
CREATE INDEX order_items_by_order ON order_items (order_id);
-- Top products in the dashboards.
CREATE INDEX order_items_by_product ON order_items (product_id);

CREATE TABLE reservations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    offer_id      uuid NOT NULL REFERENCES offers (id),
    order_item_id uuid NOT NULL UNIQUE REFERENCES order_items (id),
    quantity      int NOT NULL CHECK (quantity > 0),
    status        text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'CONSUMED', 'RELEASED', 'EXPIRED')),
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- The expiry timer's sweep of orphan reservations.
CREATE INDEX reservations_active_expiring ON reservations (expires_at) WHERE status = 'ACTIVE';
-- Consistency check: offers.reserved = sum of the offer's ACTIVE reservations.
CREATE INDEX reservations_active_by_offer ON reservations (offer_id) WHERE status = 'ACTIVE';

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
-- An order page's history, oldest first.
CREATE INDEX order_status_history_by_order ON order_status_history (order_id, id);

-- Idempotency-Key per user for 24 h: the first request's response is replayed for retries.
CREATE TABLE idempotency_keys (
    user_id      text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash text NOT NULL,
    status_code  int,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (user_id, key)
);
-- Purging expired keys.
CREATE INDEX idempotency_keys_expiring ON idempotency_keys (expires_at);

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
    -- One notification per event and recipient, however often the event is delivered.
    UNIQUE (event_id, recipient_type, recipient_id)
);
-- A recipient's notifications, newest first (keyset), and the unread ones.
CREATE INDEX notifications_by_recipient ON notifications (recipient_type, recipient_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (recipient_type, recipient_id) WHERE read_at IS NULL;

