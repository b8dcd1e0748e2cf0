"""Every error code the orders domain answers with: problem codes, then the codes of single
fields (`FieldError.code`). The values are the API's and never change."""

from __future__ import annotations

from enum import StrEnum


class OrderError(StrEnum):
    # placing
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    ORDER_LIMITS = "order_limits"
    INVALID_LINES = "invalid_lines"
    UNKNOWN_ADDRESS = "unknown_address"
    INSUFFICIENT_STOCK = "insufficient_stock"
    INVALID_PRESCRIPTIONS = "invalid_prescriptions"
    # changing
    ORDER_NOT_FOUND = "order_not_found"
    UNKNOWN_STATUS = "unknown_status"
    VERSION_CONFLICT = "version_conflict"
    ILLEGAL_TRANSITION = "illegal_transition"
    NOT_CANCELLABLE = "not_cancellable"
    # reading
    SELLER_NOT_FOUND = "seller_not_found"
    SELLER_ORDER_NOT_FOUND = "seller_order_not_found"
    INVALID_DATE_RANGE = "invalid_date_range"
    DATE_RANGE_TOO_LONG = "date_range_too_long"
    # single fields (insufficient_stock and invalid_date_range also name a field)
    TOO_MANY_LINES = "too_many_lines"
    TOO_MANY_UNITS = "too_many_units"
    UNKNOWN_VARIANT = "unknown_variant"
    NO_OFFER = "no_offer"
    ADDRESS_NOT_FOUND = "not_found"
    KEY_REUSED = "reused"
    RANGE_TOO_LONG = "too_long"
    PRESCRIPTION_REQUIRED = "prescription_required"
    UNKNOWN_PRESCRIPTION = "unknown_prescription"
    PRESCRIPTION_NOT_USABLE = "prescription_not_usable"
