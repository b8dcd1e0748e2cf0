DROP TABLE notifications;
DROP TABLE idempotency_keys;
DROP TABLE order_status_history;
DROP TABLE reservations;
DROP TABLE order_items;
DROP TABLE seller_orders;
DROP TABLE orders;
DROP SEQUENCE order_number_seq;
