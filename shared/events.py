"""Domain events through a transactional outbox.

- `record_event(conn, ...)` writes the event in the caller's transaction.
- `relay_outbox()` (timer sweep, every 10 s) claims whole aggregates' unpublished events with
  a short lease (`FOR UPDATE SKIP LOCKED` on each aggregate's oldest event, committed at
  once), sends them in id order outside any transaction (order events to ORDER_EVENTS_QUEUE,
  the rest to DOMAIN_EVENTS_QUEUE), then marks them published. `relay_after_commit()` is the
  same, one batch, best effort, for a request that has just committed events. A relay that
  dies mid-way leaves the lease to expire and the events are sent again: delivery is at least
  once, ordered per aggregate, so consumers are idempotent.
- `consume_event(...)` (queue trigger) validates the envelope, records (event, consumer) in
  `processed_events` in the same transaction as the handler's effect, and skips duplicates.
  A bad payload is terminal: recorded in `rejected_messages` and dropped. Anything the
  handler raises is retryable: it propagates, so the host retries, then poisons the message.
- `consume_or_poison(...)`: for queues where a bad payload must end in `<queue>-poison`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from uuid import UUID

from pydantic import ValidationError

from shared import db, logs
from shared.base_model import AppModel
from shared.config import get_settings

if TYPE_CHECKING:
    from psycopg import AsyncConnection


log = logs.get_logger("events")
LEASE_SECONDS = 30
RELAY_TIME_BUDGET_SECONDS = 8.0  # the timer fires every 10 s
AFTER_COMMIT_BUDGET_SECONDS = 2.0
AFTER_COMMIT_MAX_AGGREGATES = 10


class EventEnvelope(AppModel):
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


# Whole aggregates are claimed, never single events: a relay first locks the head (the oldest
# unpublished event) of each aggregate it takes, and takes it only when that head is not under
# another relay's live lease. Two relays therefore never hold events of one aggregate at once,
# so a later event of an order can't overtake an earlier one. Producers must write an
# aggregate's events while holding its row lock (they do: the order row), so ids of one
# aggregate follow commit order.
# The head test is an index probe per candidate (migration 0005), so a claim reads about
# `limit` events however large the backlog.
CLAIM_UNPUBLISHED_AGGREGATES = """
WITH taken AS (
    SELECT e.aggregate_type, e.aggregate_id FROM outbox_events e
    WHERE e.published_at IS NULL AND (e.claimed_until IS NULL OR e.claimed_until < now())
      AND NOT EXISTS (SELECT FROM outbox_events earlier
                      WHERE earlier.published_at IS NULL AND earlier.aggregate_type = e.aggregate_type
                        AND earlier.aggregate_id = e.aggregate_id AND earlier.id < e.id)
    ORDER BY e.id LIMIT %(limit)s
    FOR UPDATE OF e SKIP LOCKED)
UPDATE outbox_events o SET claimed_until = now() + make_interval(secs => %(lease_seconds)s),
                           attempts = o.attempts + 1
FROM taken
WHERE o.published_at IS NULL
  AND o.aggregate_type = taken.aggregate_type AND o.aggregate_id = taken.aggregate_id
RETURNING o.id, o.event_id, o.event_type, o.aggregate_type, o.aggregate_id, o.payload, o.occurred_at
"""


async def claim_unpublished_events(limit: int) -> list[OutboxRow]:
    """All unpublished events of up to `limit` aggregates, oldest first, under a lease."""
    async with db.transaction() as conn:
        params = {"lease_seconds": LEASE_SECONDS, "limit": limit}
        rows = await db.fetch_all(conn, CLAIM_UNPUBLISHED_AGGREGATES, params, OutboxRow)
    return sorted(rows, key=lambda row: row.id)  # RETURNING has no order of its own


MARK_EVENTS_PUBLISHED = """
UPDATE outbox_events SET published_at = now(), claimed_until = NULL WHERE id = ANY(%(ids)s)
"""


async def mark_published(ids: list[int]) -> None:
    async with db.transaction() as conn:
        await db.execute(conn, MARK_EVENTS_PUBLISHED, {"ids": ids})


# A send failed: what was not sent goes back at once instead of waiting for the lease.
RELEASE_EVENT_CLAIMS = """
UPDATE outbox_events SET claimed_until = NULL WHERE id = ANY(%(ids)s) AND published_at IS NULL
"""


async def release_claims(ids: list[int]) -> None:
    async with db.transaction() as conn:
        await db.execute(conn, RELEASE_EVENT_CLAIMS, {"ids": ids})


def queue_name_for(aggregate_type: str) -> str:
    """Order events have their own queue (notifications); everything else the domain queue."""
    settings = get_settings()
    return settings.order_events_queue if aggregate_type == "order" else settings.domain_events_queue


async def send_event(row: OutboxRow) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import encode_queue_message, queue_client

    queue = queue_client(queue_name_for(row.aggregate_type))
    message = encode_queue_message(row.model_dump_json(exclude={"id"}))
    try:
        await queue.send_message(message)
    except ResourceNotFoundError:  # a fresh Azurite or test queue: Azure's is made by infra
        await _create_queue(queue)
        await queue.send_message(message)


async def _create_queue(queue) -> None:
    from azure.core.exceptions import ResourceExistsError

    try:
        await queue.create_queue()
    except ResourceExistsError:  # another relay made it first
        pass


async def publish_batch(batch: list[OutboxRow]) -> None:
    """Sends in id order; marks what went out even when a later send fails."""
    sent: list[int] = []
    try:
        for row in batch:
            await send_event(row)
            sent.append(row.id)
    finally:
        if sent:
            await mark_published(sent)
        if len(sent) < len(batch):
            await release_claims([row.id for row in batch[len(sent):]])


async def relay_outbox(*, time_budget_seconds: float = RELAY_TIME_BUDGET_SECONDS,
                       max_batches: int | None = None, batch_size: int | None = None) -> int:
    """Send unpublished events to their queues; returns how many were sent."""
    batch_size = batch_size or get_settings().outbox_relay_batch_size
    deadline, sent, batches = time.monotonic() + time_budget_seconds, 0, 0
    while time.monotonic() < deadline and (max_batches is None or batches < max_batches):
        batch = await claim_unpublished_events(batch_size)
        if not batch:
            break
        await publish_batch(batch)
        sent, batches = sent + len(batch), batches + 1
    return sent


_background_relay: "asyncio.Task[None] | None" = None
_relay_requested = False


def relay_soon() -> None:
    """After a commit that wrote events: relay in the background, so the response does not
    wait for Storage (awaiting it cut order throughput through HTTP by more than half). One
    relay task per process; a commit while it runs asks it for one more round. The timer sweep
    still sends anything a background relay does not (e.g. when the worker is recycled)."""
    global _background_relay, _relay_requested
    loop = asyncio.get_running_loop()
    task = _background_relay
    if task is not None and not task.done() and task.get_loop() is loop:
        _relay_requested = True
        return
    _background_relay = loop.create_task(_relay_while_requested())


async def _relay_while_requested() -> None:
    global _relay_requested
    _relay_requested = True
    while _relay_requested:
        _relay_requested = False
        await relay_after_commit()


async def wait_for_background_relay() -> None:
    """Tests and shutdown: let a running background relay finish."""
    task = _background_relay
    if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
        await task


async def relay_after_commit() -> int:
    """Best effort, right after a transaction that wrote events has committed: one small
    batch (a request should not carry everyone's backlog), errors logged and swallowed (the
    caller's change is already durable). The timer sweep sends whatever this leaves behind."""
    try:
        return await relay_outbox(time_budget_seconds=AFTER_COMMIT_BUDGET_SECONDS, max_batches=1,
                                  batch_size=AFTER_COMMIT_MAX_AGGREGATES)
    except Exception as error:  # noqa: BLE001 - never fail a committed request over delivery
        log.warning("relay after commit failed (the sweep will retry): %s: %s",
                    type(error).__name__, error)
        return 0


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



class MalformedEvent(ValueError):
    """A message no retry can fix; on a poisoning queue it is raised so the host poisons it."""


HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"
HOST_DEFAULT_MAX_DEQUEUE_COUNT = 5


def max_dequeue_count(environ: Mapping[str, str] = os.environ) -> int:
    """The host's `extensions.queues.maxDequeueCount`: an app setting
    `AzureFunctionsJobHost__extensions__queues__maxDequeueCount` wins over host.json."""
    wanted = "azurefunctionsjobhost__extensions__queues__maxdequeuecount"
    override = next((v for k, v in environ.items() if k.lower().replace(":", "__") == wanted), None)
    if override is not None:
        return int(override)
    try:
        host = json.loads(HOST_JSON.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return HOST_DEFAULT_MAX_DEQUEUE_COUNT
    queues = {k.lower(): v for k, v in host.get("extensions", {}).get("queues", {}).items()}
    return int(queues.get("maxdequeuecount", HOST_DEFAULT_MAX_DEQUEUE_COUNT))


async def consume_or_poison(body: bytes, *, queue_name: str, message_id: str | None, dequeue_count: int,
                            handle: Callable[[EventEnvelope], Awaitable[str]]) -> str:
    """For queues whose bad messages must end in `<queue>-poison`. A malformed message (bad
    envelope, or the handler raising MalformedEvent / a pydantic ValidationError) is re-raised
    on every attempt, so the host retries and then poisons it; the attempt the host poisons it
    after (dequeue_count >= maxDequeueCount) also records it in `rejected_messages`, once."""
    try:
        return await handle(EventEnvelope.model_validate_json(body))
    except (ValidationError, MalformedEvent) as error:
        reason = _malformed_reason(error)
        if dequeue_count >= max_dequeue_count():
            await reject_message(queue_name, message_id, body, reason)
        raise MalformedEvent(reason) from error


def _malformed_reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = "/".join(str(part) for part in first["loc"]) or "body"
        return f"malformed event: {error.error_count()} error(s), first at {where}: {first['msg']}"
    return f"malformed event: {error}"
