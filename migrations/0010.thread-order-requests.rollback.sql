DROP TABLE order_requests;
