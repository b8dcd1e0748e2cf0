"""Every error code the payments domain answers with: problem codes, then the codes of single
fields (`FieldError.code`). The values are the API's and never change."""

from __future__ import annotations

from enum import StrEnum


class PaymentError(StrEnum):
    # taking a payment
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_NOT_PAYABLE = "order_not_payable"
    ORDER_EXPIRED = "order_expired"
    ORDER_ALREADY_PAID = "order_already_paid"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    GATEWAY_REJECTED = "gateway_rejected"
    # webhooks
    UNKNOWN_GATEWAY = "unknown_gateway"
    WEBHOOK_UNAUTHENTICATED = "webhook_unauthenticated"
    # refunds
    NOT_REFUNDABLE = "not_refundable"
    INVALID_REFUND_LINES = "invalid_refund_lines"
    OVER_REFUND = "over_refund"
    REFUND_REJECTED = "refund_rejected"
    # single fields
    UNKNOWN_ITEM = "unknown_item"
    DUPLICATE_ITEM = "duplicate_item"
    TOO_MANY_UNITS = "too_many_units"
