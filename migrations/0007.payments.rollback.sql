DROP TABLE refund_children;
DROP TABLE refund_lines;
DROP TABLE refunds;
ALTER TABLE reservations DROP COLUMN restocked;
ALTER TABLE seller_orders DROP COLUMN refunded_amount;
ALTER TABLE order_items DROP COLUMN refunded_quantity;
DROP TABLE payment_events;
DROP TABLE payments;
