"""Notifications: written from order events (idempotent by event id), read by their recipient."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.data import db
from shared.events import consumer
from shared.events.models import AggregateNotVisible, Consumer, EventEnvelope, MalformedEvent
from shared.notifications import repo, rules
from shared.notifications.models import (
    MarkedRead,
    MarkRead,
    NotificationPage,
    NotificationQuery,
    Recipient,
    ThreadMessagePosted,
)
from shared.platform import logs
from shared.platform.auth import Principal
from shared.platform.pagination import NEWEST_FIRST, after_created, created_key_of, cut_page, fetch_size

if TYPE_CHECKING:
    from psycopg import AsyncConnection

log = logs.get_logger("notifications")


# -- order events -> notifications


async def consume_order_event(body: bytes, *, queue_name: str, message_id: str | None, dequeue_count: int) -> str:
    """`processed`, `duplicate` or `ignored`; a malformed event raises (then poison queue)."""
    return await consumer.consume_or_poison(
        body, queue_name=queue_name, message_id=message_id, dequeue_count=dequeue_count, handle=notify_about_order_event
    )


async def notify_about_order_event(event: EventEnvelope) -> str:
    if event.aggregate_type != rules.ORDER_AGGREGATE:
        raise MalformedEvent(f"aggregate_type {event.aggregate_type!r} on the order events queue")
    notice = rules.ORDER_EVENTS.get(event.event_type)
    if notice is None:  # a well-formed event nobody is notified about (yet): not an error
        log.info("no notification for %s (event %s)", event.event_type, event.event_id)
        return rules.IGNORED
    payload = notice.payload.model_validate(event.payload)  # ValidationError: malformed
    async with db.transaction() as conn:
        numbers = await repo.order_numbers(conn, payload.order_id)
        if numbers is None:  # retryable: a replica behind, or the order's commit not visible yet
            raise AggregateNotVisible(f"order {payload.order_id} not found")
        notes = notice.notes(event.event_type, payload, numbers)
        if not notes:
            return rules.IGNORED
        created = await repo.insert_notifications(conn, event.event_id, event.occurred_at, notes)
    return rules.outcome(created=created)


# -- thread messages (DOMAIN_EVENTS_QUEUE): at most one unread notification per thread and recipient


async def on_thread_message_posted(conn: AsyncConnection, event: EventEnvelope) -> None:
    """Runs in the consumer's transaction (processed once per event): makes the recipients'
    "new messages" notification of the thread, or counts it up while it is unread."""
    payload = ThreadMessagePosted.model_validate(event.payload)
    notes = rules.thread_notes(payload)
    await repo.upsert_thread_notifications(conn, event.event_id, notes, rules.thread_title_templates(payload.subject))
    return None


# The name is recorded per processed event: never rename it.
EVENT_CONSUMERS: dict[str, Consumer] = {
    rules.THREAD_MESSAGE_POSTED: Consumer("notify_thread_message", on_thread_message_posted)
}


# -- reading and marking: a shopper's own, or those of the seller the token is bound to


async def list_shopper_notifications(principal: Principal, query: NotificationQuery) -> NotificationPage:
    return await list_notifications(rules.shopper(principal.user_id), query)


async def list_seller_notifications(principal: Principal, query: NotificationQuery) -> NotificationPage:
    return await list_notifications(rules.seller_of_token(principal.seller_id), query)


async def mark_shopper_notifications_read(principal: Principal, body: MarkRead) -> MarkedRead:
    return await mark_read(rules.shopper(principal.user_id), body)


async def mark_seller_notifications_read(principal: Principal, body: MarkRead) -> MarkedRead:
    return await mark_read(rules.seller_of_token(principal.seller_id), body)


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
