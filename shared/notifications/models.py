"""In-app notifications: the order events they come from, the rows, and the API bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from shared.platform.base_model import AppModel

RecipientType = Literal["user", "seller"]


# -- the order events on ORDER_EVENTS_QUEUE (extra fields are ignored: producers may add some)


class ChildRef(AppModel):
    seller_order_id: UUID
    seller_id: UUID


class OrderEventPayload(AppModel):
    """What every order event tells: the order and its shopper."""

    order_id: UUID
    user_id: str = Field(min_length=1)


class OrderPlaced(OrderEventPayload):
    children: list[ChildRef] = Field(min_length=1)


class OrderStatusChanged(OrderEventPayload):
    seller_id: UUID | None = None  # None: a parent field such as payment_status
    field: Literal["status", "delivery_status", "payment_status"]
    from_status: str | None = Field(default=None, alias="from")
    to: str = Field(min_length=1)


class OrderCancelled(OrderEventPayload):
    seller_id: UUID | None = None
    reason: str | None = None


class OrderExpired(OrderEventPayload):
    children: list[ChildRef] = Field(default_factory=list)


class CancelledLine(AppModel):
    order_item_id: UUID
    line_no: int
    quantity: int


class PrescriptionLinesCancelled(OrderEventPayload):
    """prescription.rejected / prescription.hold_expired: lines of a paid child order cancelled
    (their share refunded), or the whole child when `child_cancelled`."""

    seller_order_id: UUID
    seller_id: UUID
    child_cancelled: bool = False
    lines: list[CancelledLine] = Field(default_factory=list)


class OrderNumbers(AppModel):
    """Row: an order's number and each of its sellers' child order numbers."""

    number: str
    seller_numbers: dict[str, str]  # seller id -> that seller's child order number


class Recipient(AppModel):
    type: RecipientType
    id: str


class ThreadMessagePosted(AppModel):
    """`thread.message_posted` (shared.threads): who is told about which message."""

    thread_id: UUID
    message_id: int
    subject: str
    preview: str
    recipients: list[Recipient]


class NewNotification(AppModel):
    """One notification to write; `kind` is the event type."""

    recipient: Recipient
    kind: str
    title_en: str
    title_ar: str
    data: dict[str, Any]


# -- rows and API bodies


class Notification(AppModel):
    id: UUID
    kind: str
    title_en: str
    title_ar: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime


# Limits of the API bodies (schema constraints, so they live with the models; rules.py
# imports this module, so it cannot be the other way round).
PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100
CURSOR_MAX_LENGTH = 200
MARK_READ_MAX_IDS = 100
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"  # base64url, as the API issues them


class NotificationQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(
        default=None, max_length=CURSOR_MAX_LENGTH, json_schema_extra={"format": "cursor", "pattern": CURSOR_PATTERN}
    )
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)
    unread: bool = Field(default=False, description="only notifications not read yet")


class NotificationPage(AppModel):
    items: list[Notification]
    next_cursor: str | None
    unread_count: int = Field(description="all unread notifications of the recipient, not just this page")


class MarkRead(AppModel):
    """Either `ids` (at most 100 of your notifications) or `all: true`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": ["ids"], "properties": {"ids": {"type": "array"}, "all": {"const": False}}},
                {"required": ["all"], "properties": {"all": {"const": True}, "ids": {"type": "null"}}},
            ]
        },
    )

    ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MARK_READ_MAX_IDS)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if (self.ids is not None) == self.all:
            raise ValueError("give either ids or all: true")
        return self


class MarkedRead(AppModel):
    marked: int = Field(description="notifications that were unread and are now read")
