-- depends: 0009.threads
-- Order requests: a seller proposes an order inside a thread (lines of its own offers, priced by
-- the server at that moment), the shopper accepts it with one tap and the order is placed through
-- the ordinary placement (docs/thread-order-requests.md). The invariants live here: a request
-- changes status only from PENDING (conditional UPDATEs), an ACCEPTED request names exactly one
-- order and an order comes from at most one request, and a client's retry of a proposal finds
-- the request it made instead of making another.

CREATE TABLE order_requests (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    thread_id    uuid NOT NULL REFERENCES threads (id),
    seller_id    uuid NOT NULL REFERENCES sellers (id),
    shopper_id   text NOT NULL REFERENCES users (id),
    -- The seller's staff user who proposed it.
    proposed_by  text NOT NULL CHECK (length(proposed_by) BETWEEN 1 AND 200),
    -- The seller's client's id for the proposal: its retry finds this row (UNIQUE below).
    client_id    text CHECK (length(client_id) BETWEEN 1 AND 100),
    -- [{line_no, offer_id, variant_id, product_id, product_name_en, product_name_ar, sku,
    --   requires_prescription, unit_price, quantity, line_total}] as priced when proposed.
    lines        jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array' AND jsonb_array_length(lines) BETWEEN 1 AND 200),
    subtotal     numeric(12, 2) NOT NULL CHECK (subtotal > 0),
    currency     char(3) NOT NULL,
    note         text CHECK (length(note) <= 1000),
    valid_until  timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'PENDING'
                 CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED', 'EXPIRED')),
    -- The order its acceptance placed: one order per request, one request per order.
    order_id     uuid UNIQUE REFERENCES orders (id),
    decided_by   text CHECK (length(decided_by) BETWEEN 1 AND 200),
    decided_at   timestamptz,
    version      int NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (thread_id, client_id),
    CHECK (valid_until > created_at),
    CHECK ((status = 'ACCEPTED') = (order_id IS NOT NULL)),
    CHECK ((status = 'PENDING') = (decided_at IS NULL))
);
-- A thread's requests, newest first.
CREATE INDEX order_requests_by_thread ON order_requests (thread_id, created_at DESC);
-- The expiry timer's scan: pending requests by deadline.
CREATE INDEX order_requests_pending_by_deadline ON order_requests (valid_until) WHERE status = 'PENDING';
