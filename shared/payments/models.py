"""Payments: what the API takes and returns (checkout, webhook acknowledgement, refunds, the
review list) and the typed rows the repos read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from shared.platform.base_model import WHOLE, AppModel

PaymentStatus = Literal[
    "INITIATED", "PENDING", "PAID", "FAILED", "AUTHORIZED", "CAPTURED", "VOIDED", "REFUNDED", "PARTIALLY_REFUNDED"
]
RefundStatus = Literal["REQUESTED", "SUCCEEDED", "FAILED"]
MAX_REFUND_LINES = 200
MAX_UNITS = 10_000


# --- rows ------------------------------------------------------------------------------------


class PaymentRow(AppModel):
    id: UUID
    order_id: UUID
    gateway: str
    gateway_payment_id: str | None
    amount: Decimal
    currency: str
    status: PaymentStatus
    method: str | None
    checkout_url: str | None
    publishable_key: str | None
    paid_at: datetime | None
    refunded_amount: Decimal
    needs_review: bool
    review_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class EventRow(AppModel):
    id: int
    gateway: str
    event_key: str
    event_type: str
    gateway_payment_id: str
    enqueued_at: datetime | None
    processed_at: datetime | None
    outcome: str | None


class StoredEvent(AppModel):
    """The intake's view of an event: whether this delivery stored it, and what it needs."""

    id: int
    new: bool
    enqueued_at: datetime | None
    processed_at: datetime | None


class EventMessage(AppModel):
    """What goes on PAYMENT_EVENTS_QUEUE: the stored event's id (the payload stays in PostgreSQL)."""

    model_config = ConfigDict(extra="forbid")

    event_id: int = Field(ge=1)
    gateway: str = Field(min_length=1, max_length=32)


class RefundRow(AppModel):
    id: UUID
    payment_id: UUID
    order_id: UUID
    amount: Decimal
    currency: str
    status: RefundStatus
    restock: bool
    reason: str | None
    failure: str | None
    gateway: str
    gateway_payment_id: str | None
    created_at: datetime
    completed_at: datetime | None


class RefundLineRow(AppModel):
    order_item_id: UUID
    seller_order_id: UUID
    quantity: int
    amount: Decimal


class RefundChildRow(AppModel):
    seller_order_id: UUID
    amount: Decimal
    whole: bool


# --- the API ---------------------------------------------------------------------------------


class PaymentBase(AppModel):
    id: UUID
    order_id: UUID
    gateway: str
    gateway_payment_id: str | None
    status: PaymentStatus
    amount: Decimal
    currency: str
    created_at: datetime


class PaymentOut(PaymentBase):
    """What the client needs to pay: the hosted checkout URL, or the gateway's payment id and
    publishable key for an embedded form."""

    method: str | None
    checkout_url: str | None
    publishable_key: str | None
    paid_at: datetime | None
    refunded_amount: Decimal


class WebhookAck(AppModel):
    received: bool = True
    duplicate: bool


class RefundLineIn(AppModel):
    model_config = ConfigDict(extra="forbid")

    item_id: UUID = Field(description="an item of the order (GET /orders/{id} or /seller/orders/{id} lists them)")
    quantity: Annotated[int, Field(ge=1, le=MAX_UNITS), WHOLE]


class DueLine(AppModel):
    order_item_id: UUID
    quantity: int


class RefundDue(AppModel):
    """The payload of `refund.due` (shared.orders.rx_holds) that the payments domain acts on."""

    order_id: UUID
    seller_order_id: UUID
    cause: str  # the order event that cancelled the lines, e.g. prescription.rejected
    lines: list[DueLine]


class RefundRequest(AppModel):
    """Lines and units to refund; the server computes the amount (each line's VAT share, and the
    delivery fee when a whole child order ends up refunded)."""

    model_config = ConfigDict(extra="forbid")

    lines: list[RefundLineIn] = Field(min_length=1, max_length=MAX_REFUND_LINES)
    restock: bool = Field(description="put the refunded units back on the shelf")
    reason: str | None = Field(default=None, max_length=500)


class RefundLineOut(AppModel):
    item_id: UUID
    seller_order_id: UUID
    quantity: int
    amount: Decimal


class RefundOut(AppModel):
    id: UUID
    order_id: UUID
    payment_id: UUID
    status: RefundStatus
    amount: Decimal
    currency: str
    restock: bool
    reason: str | None
    failure: str | None
    lines: list[RefundLineOut]
    created_at: datetime
    completed_at: datetime | None


class ReviewQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(
        default=None, max_length=200, json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"}
    )
    limit: int = Field(default=20, ge=1, le=100)


class PaymentReview(PaymentBase):
    review_reason: str | None
    raw: dict[str, Any]
    updated_at: datetime


class ReviewPage(AppModel):
    items: list[PaymentReview]
    next_cursor: str | None
