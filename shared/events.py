"""Domain events through a transactional outbox.

- `record_event(conn, ...)` writes the event in the caller's transaction.
- `relay_outbox()` (timer) claims unpublished events with a short lease (`FOR UPDATE SKIP
  LOCKED`, committed at once), sends them to the domain-events queue outside any transaction,
  then marks them published. A relay that dies mid-way leaves the lease to expire and the
  events are sent again: delivery is at least once, so consumers are idempotent.
- `consume_event(...)` (queue trigger) validates the envelope, records (event, consumer) in
  `processed_events` in the same transaction as the handler's effect, and skips duplicates.
  A bad payload is terminal: recorded in `rejected_messages` and dropped. Anything the
  handler raises is retryable: it propagates, so the host retries, then poisons the message.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from uuid import UUID

from pydantic import BaseModel, ValidationError

from shared import db, logs
from shared.config import get_settings

if TYPE_CHECKING:
    from psycopg import AsyncConnection


log = logs.get_logger("events")
LEASE_SECONDS = 30
RELAY_TIME_BUDGET_SECONDS = 8.0  # the timer fires every 10 s

if TYPE_CHECKING:
    from psycopg import AsyncConnection


class EventEnvelope(BaseModel):
    event_id: UUID
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime


class OutboxRow(EventEnvelope):
    id: int


class AggregateNotVisible(RuntimeError):
    """The event names a row this consumer cannot see (yet): retry later."""


EventHandler = Callable[["AsyncConnection", EventEnvelope], Awaitable[None]]

INSERT_OUTBOX_EVENT = """
INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, payload)
VALUES (%(event_type)s, %(aggregate_type)s, %(aggregate_id)s, %(payload)s)
"""


async def record_event(conn: AsyncConnection, event_type: str, *, aggregate_type: str,
                       aggregate_id: str, payload: dict[str, Any]) -> None:
    from psycopg.types.json import Jsonb

    params = {"event_type": event_type, "aggregate_type": aggregate_type,
              "aggregate_id": aggregate_id, "payload": Jsonb(payload)}
    await db.execute(conn, INSERT_OUTBOX_EVENT, params)


CLAIM_UNPUBLISHED_EVENTS = """
UPDATE outbox_events SET claimed_until = now() + make_interval(secs => %(lease_seconds)s),
                         attempts = attempts + 1
WHERE id IN (
    SELECT id FROM outbox_events
    WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
    ORDER BY id LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING id, event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at
"""


async def claim_unpublished_events(limit: int) -> list[OutboxRow]:
    async with db.transaction() as conn:
        params = {"lease_seconds": LEASE_SECONDS, "limit": limit}
        rows = await db.fetch_all(conn, CLAIM_UNPUBLISHED_EVENTS, params, OutboxRow)
    return sorted(rows, key=lambda row: row.id)  # RETURNING has no order of its own


MARK_EVENTS_PUBLISHED = """
UPDATE outbox_events SET published_at = now(), claimed_until = NULL WHERE id = ANY(%(ids)s)
"""


async def mark_published(ids: list[int]) -> None:
    async with db.transaction() as conn:
        await db.execute(conn, MARK_EVENTS_PUBLISHED, {"ids": ids})


async def relay_outbox(*, time_budget_seconds: float = RELAY_TIME_BUDGET_SECONDS) -> int:
    """Send unpublished events to the domain-events queue; returns how many were sent."""
    from shared.storage import encode_queue_message, queue_client

    settings = get_settings()
    queue = queue_client(settings.domain_events_queue)
    deadline, sent = time.monotonic() + time_budget_seconds, 0
    while time.monotonic() < deadline:
        batch = await claim_unpublished_events(settings.outbox_relay_batch_size)
        if not batch:
            break
        for row in batch:
            await queue.send_message(encode_queue_message(row.model_dump_json(exclude={"id"})))
        await mark_published([row.id for row in batch])
        sent += len(batch)
    return sent


CLAIM_EVENT_FOR_CONSUMER = """
INSERT INTO processed_events (event_id, consumer) VALUES (%(event_id)s, %(consumer)s)
ON CONFLICT DO NOTHING
"""


async def consume_event(body: bytes, *, queue_name: str, message_id: str | None,
                        handlers: dict[str, EventHandler]) -> str:
    """Returns `processed`, `duplicate` or `rejected`; handler errors propagate (retry)."""
    try:
        event = EventEnvelope.model_validate_json(body)
    except ValidationError as error:
        await reject_message(queue_name, message_id, body, f"invalid envelope: {error.error_count()} error(s)")
        return "rejected"
    handler = handlers.get(event.event_type)
    if handler is None:
        await reject_message(queue_name, message_id, body, f"no handler for {event.event_type}")
        return "rejected"
    async with db.transaction() as conn:
        params = {"event_id": event.event_id, "consumer": handler.__qualname__}
        if await db.execute(conn, CLAIM_EVENT_FOR_CONSUMER, params) == 0:
            return "duplicate"
        await handler(conn, event)
    return "processed"


INSERT_REJECTED_MESSAGE = """
INSERT INTO rejected_messages (queue_name, message_id, body, reason)
VALUES (%(queue_name)s, %(message_id)s, %(body)s, %(reason)s)
"""


async def reject_message(queue_name: str, message_id: str | None, body: bytes, reason: str) -> None:
    log.warning("rejected message %s from %s: %s", message_id, queue_name, reason)
    text = body.decode("utf-8", errors="replace")
    async with db.transaction() as conn:
        params = {"queue_name": queue_name, "message_id": message_id, "body": text, "reason": reason}
        await db.execute(conn, INSERT_REJECTED_MESSAGE, params)

