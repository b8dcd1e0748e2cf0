"""Notifications: written from order events (idempotent by event id), read by their recipient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from shared.data import db
from shared.events import consumer
from shared.events.models import AggregateNotVisible, EventEnvelope, MalformedEvent
from shared.notifications import repo, texts
from shared.notifications.models import (
    MarkedRead,
    MarkRead,
    NewNotification,
    NotificationPage,
    NotificationQuery,
    OrderCancelled,
    OrderExpired,
    OrderPlaced,
    OrderStatusChanged,
    Recipient,
)
from shared.notifications.repo import OrderNumbers
from shared.platform import logs
from shared.platform.auth import Principal
from shared.platform.errors import Forbidden
from shared.platform.pagination import NEWEST_FIRST, after_created, created_key_of, cut_page, fetch_size

log = logs.get_logger("notifications")
EXPIRY_REASON = "expired"  # shared.orders.expiry.REASON (a unit test keeps them equal)


# -- order events -> notifications


async def consume_order_event(body: bytes, *, queue_name: str, message_id: str | None, dequeue_count: int) -> str:
    """`processed`, `duplicate` or `ignored`; a malformed event raises (then poison queue)."""
    return await consumer.consume_or_poison(
        body, queue_name=queue_name, message_id=message_id, dequeue_count=dequeue_count, handle=notify_about_order_event
    )


async def notify_about_order_event(event: EventEnvelope) -> str:
    if event.aggregate_type != "order":
        raise MalformedEvent(f"aggregate_type {event.aggregate_type!r} on the order events queue")
    entry = ORDER_EVENTS.get(event.event_type)
    if entry is None:  # a well-formed event nobody is notified about (yet): not an error
        log.info("no notification for %s (event %s)", event.event_type, event.event_id)
        return "ignored"
    payload_model, build = entry
    payload = payload_model.model_validate(event.payload)  # ValidationError: malformed
    async with db.transaction() as conn:
        numbers = await repo.order_numbers(conn, payload.order_id)
        if numbers is None:  # retryable: a replica behind, or the order's commit not visible yet
            raise AggregateNotVisible(f"order {payload.order_id} not found")
        notes = build(event.event_type, payload, numbers)
        if not notes:
            return "ignored"
        created = await repo.insert_notifications(conn, event.event_id, notes)
    return "processed" if created else "duplicate"


def _note(recipient: Recipient, kind: str, titles: tuple[str, str], data: dict[str, Any]) -> NewNotification:
    return NewNotification(
        recipient=recipient,
        kind=kind,
        title_en=titles[0],
        title_ar=titles[1],
        data={k: v for k, v in data.items() if v is not None},
    )


def _shopper(user_id: str) -> Recipient:
    return Recipient(type="user", id=user_id)


def _seller(seller_id: UUID | str) -> Recipient:
    return Recipient(type="seller", id=str(seller_id))


def _placed(kind: str, p: OrderPlaced, numbers: OrderNumbers) -> list[NewNotification]:
    data = {"order_id": str(p.order_id), "number": numbers.number}
    notes = [_note(_shopper(p.user_id), kind, texts.placed(numbers.number, seller=False), data)]
    for child in p.children:
        number = numbers.seller_numbers.get(str(child.seller_id), numbers.number)
        notes.append(
            _note(
                _seller(child.seller_id),
                kind,
                texts.placed(number, seller=True),
                data | {"seller_order_id": str(child.seller_order_id), "number": number},
            )
        )
    return notes


def _status_changed(kind: str, p: OrderStatusChanged, numbers: OrderNumbers) -> list[NewNotification]:
    if p.field == "status" and p.to == "CANCELLED":
        return []  # the order.cancelled written with it tells the same people
    number = numbers.seller_numbers.get(str(p.seller_id), numbers.number)
    data = {"order_id": str(p.order_id), "number": number, "field": p.field, "from": p.from_status, "to": p.to}
    titles = texts.status_changed(number, p.field, p.to)
    notes = [_note(_shopper(p.user_id), kind, titles, data)]
    if p.seller_id is not None:
        notes.append(_note(_seller(p.seller_id), kind, titles, data))
    return notes


def _cancelled(kind: str, p: OrderCancelled, numbers: OrderNumbers) -> list[NewNotification]:
    if p.reason == EXPIRY_REASON:
        return []  # expiry cancels each child, then one order.expired tells everyone once
    # One child cancelled names its seller; a whole-order cancel tells every seller of it.
    sellers = [str(p.seller_id)] if p.seller_id else sorted(numbers.seller_numbers)
    number = numbers.seller_numbers.get(str(p.seller_id), numbers.number)
    data = {"order_id": str(p.order_id), "number": number, "reason": p.reason}
    return [_note(r, kind, texts.cancelled(number), data) for r in [_shopper(p.user_id), *map(_seller, sellers)]]


def _expired(kind: str, p: OrderExpired, numbers: OrderNumbers) -> list[NewNotification]:
    sellers = [str(c.seller_id) for c in p.children] or sorted(numbers.seller_numbers)
    data = {"order_id": str(p.order_id), "number": numbers.number}
    return [_note(r, kind, texts.expired(numbers.number), data) for r in [_shopper(p.user_id), *map(_seller, sellers)]]


Builder = Callable[[str, Any, OrderNumbers], list[NewNotification]]
ORDER_EVENTS: dict[str, tuple[type[BaseModel], Builder]] = {
    "order.placed": (OrderPlaced, _placed),
    "order.status_changed": (OrderStatusChanged, _status_changed),
    "order.cancelled": (OrderCancelled, _cancelled),
    "order.expired": (OrderExpired, _expired),
}


# -- reading and marking


def shopper_recipient(principal: Principal) -> Recipient:
    return _shopper(principal.user_id)


def seller_recipient(principal: Principal) -> Recipient:
    try:
        return _seller(UUID(principal.seller_id or ""))
    except ValueError:
        raise Forbidden("this token is not bound to a seller", code="no_seller") from None


async def list_notifications(recipient: Recipient, query: NotificationQuery) -> NotificationPage:
    after = after_created(query.cursor, NEWEST_FIRST)
    async with db.connection(read_only=True) as conn:
        rows = await repo.list_notifications(
            conn, recipient, unread_only=query.unread, after=after, limit=fetch_size(query.limit)
        )
        unread = await repo.count_unread(conn, recipient)
    items, next_cursor = cut_page(rows, query.limit, order=NEWEST_FIRST, key_of=created_key_of)
    return NotificationPage(items=items, next_cursor=next_cursor, unread_count=unread)


async def mark_read(recipient: Recipient, body: MarkRead) -> MarkedRead:
    async with db.transaction() as conn:
        marked = await repo.mark_read(conn, recipient, ids=body.ids, everything=body.all)
    return MarkedRead(marked=marked)
