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


class OrderPlaced(AppModel):
    order_id: UUID
    user_id: str = Field(min_length=1)
    children: list[ChildRef] = Field(min_length=1)


class OrderStatusChanged(AppModel):
    order_id: UUID
    user_id: str = Field(min_length=1)
    seller_id: UUID | None = None  # None: a parent field such as payment_status
    field: Literal["status", "delivery_status", "payment_status"]
    from_status: str | None = Field(default=None, alias="from")
    to: str = Field(min_length=1)


class OrderCancelled(AppModel):
    order_id: UUID
    user_id: str = Field(min_length=1)
    seller_id: UUID | None = None
    reason: str | None = None


class OrderExpired(AppModel):
    order_id: UUID
    user_id: str = Field(min_length=1)
    children: list[ChildRef] = []


class Recipient(AppModel):
    type: RecipientType
    id: str


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


class NotificationQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)
    unread: bool = Field(default=False, description="only notifications not read yet")


class NotificationPage(AppModel):
    items: list[Notification]
    next_cursor: str | None
    unread_count: int = Field(description="all unread notifications of the recipient, not just this page")


class MarkRead(AppModel):
    """Either `ids` (at most 100 of your notifications) or `all: true`."""

    model_config = ConfigDict(extra="forbid")

    ids: list[UUID] | None = Field(default=None, min_length=1, max_length=100)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if (self.ids is not None) == self.all:
            raise ValueError("give either ids or all: true")
        return self


class MarkedRead(AppModel):
    marked: int = Field(description="notifications that were unread and are now read")
