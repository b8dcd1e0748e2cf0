-- depends: 0006.search-documents-inline
-- Prescriptions: a shopper uploads a file straight to private Blob storage, a pharmacist
-- reviews it, and order lines of prescription-only products name one (docs/prescriptions.md).
-- Every file view and every review is written to an append-only audit table.

CREATE TABLE prescriptions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              text NOT NULL REFERENCES users (id),
    -- The blob's name in PRESCRIPTIONS_CONTAINER, chosen by the server (never by the client).
    blob_name            text NOT NULL UNIQUE CHECK (length(blob_name) BETWEEN 1 AND 1024),
    -- What the shopper called the file: shown, never trusted (the type comes from magic bytes).
    file_name            text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    size_bytes           bigint CHECK (size_bytes >= 0),
    content_type         text CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    status               text NOT NULL DEFAULT 'UPLOADING'
                         CHECK (status IN ('UPLOADING', 'PENDING', 'APPROVED', 'REJECTED', 'EXPIRED')),
    submitted_at         timestamptz,
    reviewer_id          text,
    reviewer_name        text CHECK (length(reviewer_name) <= 200),
    reviewed_at          timestamptz,
    review_notes         text CHECK (length(review_notes) <= 1000),
    -- Set by the pharmacist on approval: the last day the prescription may be dispensed against.
    expires_on           date,
    approved_items       text CHECK (length(approved_items) <= 2000),
    approved_variant_ids uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(approved_variant_ids) <= 50),
    version              int NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'UPLOADING' OR (size_bytes IS NOT NULL AND content_type IS NOT NULL AND submitted_at IS NOT NULL)),
    CHECK (status NOT IN ('APPROVED', 'EXPIRED') OR (expires_on IS NOT NULL AND reviewer_id IS NOT NULL)),
    CHECK (status <> 'REJECTED' OR (review_notes IS NOT NULL AND reviewer_id IS NOT NULL))
);
-- A shopper's prescriptions, newest first (keyset).
CREATE INDEX prescriptions_by_user ON prescriptions (user_id, created_at DESC, id DESC);
-- The pharmacists' queue: one status, oldest first (keyset).
CREATE INDEX prescriptions_by_status ON prescriptions (status, created_at, id);
-- The daily expiry: approved prescriptions past their last day.
CREATE INDEX prescriptions_approved_expiring ON prescriptions (expires_on) WHERE status = 'APPROVED';

-- Who did what to which prescription, when, from where. Rows are only ever added.
CREATE TABLE prescription_audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    prescription_id uuid NOT NULL REFERENCES prescriptions (id),
    actor_id        text NOT NULL,
    actor_role      text NOT NULL,
    action          text NOT NULL CHECK (action IN ('created', 'submitted', 'file_viewed', 'approved', 'rejected',
                                                    'expired')),
    client_ip       text CHECK (length(client_ip) <= 100),
    user_agent      text CHECK (length(user_agent) <= 500),
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prescription_audit_by_prescription ON prescription_audit (prescription_id, id);

-- Append-only in the database, whoever connects: UPDATE, DELETE and TRUNCATE are refused.
CREATE FUNCTION prescription_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'prescription_audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER prescription_audit_no_change BEFORE UPDATE OR DELETE ON prescription_audit
    FOR EACH ROW EXECUTE FUNCTION prescription_audit_append_only();
CREATE TRIGGER prescription_audit_no_truncate BEFORE TRUNCATE ON prescription_audit
    FOR EACH STATEMENT EXECUTE FUNCTION prescription_audit_append_only();

-- An Rx line names the prescription it is dispensed against; a line can be cancelled alone
-- (its prescription rejected) while the rest of its child order goes on.
ALTER TABLE order_items
    ADD COLUMN prescription_id uuid REFERENCES prescriptions (id),
    ADD COLUMN cancelled_at    timestamptz,
    ADD COLUMN cancel_reason   text CHECK (length(cancel_reason) <= 500);
-- Lines placed from now on: a prescription-only product always names a prescription.
ALTER TABLE order_items ADD CONSTRAINT order_items_rx_names_prescription
    CHECK (NOT requires_prescription OR prescription_id IS NOT NULL) NOT VALID;
CREATE INDEX order_items_by_prescription ON order_items (prescription_id) WHERE prescription_id IS NOT NULL;

-- A paid child order with a line whose prescription is still PENDING waits here.
ALTER TABLE seller_orders DROP CONSTRAINT seller_orders_status_check;
ALTER TABLE seller_orders ADD CONSTRAINT seller_orders_status_check
    CHECK (status IN ('PENDING', 'AWAITING_PRESCRIPTION', 'CONFIRMED', 'PROCESSING', 'READY_FOR_PICKUP',
                      'OUT_FOR_DELIVERY', 'DELIVERED', 'CANCELLED', 'REFUNDED'));
ALTER TABLE seller_orders ADD COLUMN awaiting_prescription_since timestamptz;

-- Whoever moves a child into AWAITING_PRESCRIPTION (the payment consumer, a test), the hold
-- starts then: the expiry timer releases holds older than PRESCRIPTION_HOLD_HOURS.
CREATE FUNCTION seller_orders_hold_started() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'AWAITING_PRESCRIPTION' AND OLD.status IS DISTINCT FROM 'AWAITING_PRESCRIPTION' THEN
        NEW.awaiting_prescription_since := now();
    ELSIF NEW.status <> 'AWAITING_PRESCRIPTION' THEN
        NEW.awaiting_prescription_since := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER seller_orders_hold_started BEFORE UPDATE OF status ON seller_orders
    FOR EACH ROW EXECUTE FUNCTION seller_orders_hold_started();
CREATE INDEX seller_orders_awaiting_prescription ON seller_orders (awaiting_prescription_since)
    WHERE status = 'AWAITING_PRESCRIPTION';
