DROP INDEX seller_orders_awaiting_prescription;
DROP TRIGGER seller_orders_hold_started ON seller_orders;
DROP FUNCTION seller_orders_hold_started();
ALTER TABLE seller_orders DROP COLUMN awaiting_prescription_since;
-- Children still waiting cannot stay in a status the older schema does not know.
UPDATE seller_orders SET status = 'CANCELLED' WHERE status = 'AWAITING_PRESCRIPTION';
ALTER TABLE seller_orders DROP CONSTRAINT seller_orders_status_check;
ALTER TABLE seller_orders ADD CONSTRAINT seller_orders_status_check
    CHECK (status IN ('PENDING', 'CONFIRMED', 'PROCESSING', 'READY_FOR_PICKUP', 'OUT_FOR_DELIVERY', 'DELIVERED',
                      'CANCELLED', 'REFUNDED'));
DROP INDEX order_items_by_prescription;
ALTER TABLE order_items DROP CONSTRAINT order_items_rx_names_prescription;
ALTER TABLE order_items DROP COLUMN cancel_reason, DROP COLUMN cancelled_at, DROP COLUMN prescription_id;
DROP TABLE prescription_audit;
DROP FUNCTION prescription_audit_append_only();
DROP TABLE prescriptions;
