"""Every error code of order requests and ORDER threads: problem codes, then the codes of single
fields (`FieldError.code`). The values are the API's and never change."""

from __future__ import annotations

from enum import StrEnum


class ThreadOrderError(StrEnum):
    THREAD_NOT_FOUND = "thread_not_found"
    ORDER_REQUEST_NOT_FOUND = "order_request_not_found"
    ORDER_REQUEST_NOT_PENDING = "order_request_not_pending"
    ORDER_REQUEST_EXPIRED = "order_request_expired"
    ORDER_REQUEST_PRICE_CHANGED = "order_request_price_changed"
    INVALID_OFFERS = "invalid_offers"
    INVALID_PRESCRIPTION_LINES = "invalid_prescription_lines"
    SELLER_ORDER_NOT_FOUND = "seller_order_not_found"
    NOT_A_SELLER = "not_a_seller"
    # single fields
    UNKNOWN_OFFER = "unknown_offer"
    UNKNOWN_LINE = "unknown_line"
    DUPLICATE_LINE = "duplicate_line"
