"""Idempotent consumers of queued events.

- `consume_event(...)` validates the envelope, records (event, consumer name) in
  `processed_events` in the same transaction as the consumer's effect, and skips duplicates.
  A bad payload is terminal: recorded in `rejected_messages` and dropped. Anything the
  consumer raises is retryable: it propagates, so the host retries, then poisons the message.
- `consume_or_poison(...)`: for queues where a bad payload must end in `<queue>-poison`.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping

from pydantic import ValidationError

from shared.data import db
from shared.events import repo
from shared.events.models import Consumer, EventEnvelope, MalformedEvent
from shared.platform import hostjson, logs

log = logs.get_logger("events")


async def consume_event(
    body: bytes, *, queue_name: str, message_id: str | None, consumers: Mapping[str, Consumer]
) -> str:
    """Returns `processed`, `duplicate` or `rejected`; consumer errors propagate (retry)."""
    try:
        event = EventEnvelope.model_validate_json(body)
    except ValidationError as error:
        await reject_message(queue_name, message_id, body, f"invalid envelope: {error.error_count()} error(s)")
        return "rejected"
    consumer = consumers.get(event.event_type)
    if consumer is None:
        await reject_message(queue_name, message_id, body, f"no handler for {event.event_type}")
        return "rejected"
    async with db.transaction() as conn:
        if not await repo.claim_for_consumer(conn, event.event_id, consumer.name):
            return "duplicate"
        after_commit = await consumer.handle(conn, event)
    if after_commit is not None:  # outside the transaction: external calls never run inside one
        await after_commit()
    return "processed"


async def reject_message(queue_name: str, message_id: str | None, body: bytes, reason: str) -> None:
    log.warning("rejected message %s from %s: %s", message_id, queue_name, reason)
    await repo.insert_rejected_message(queue_name, message_id, body.decode("utf-8", errors="replace"), reason)


def max_dequeue_count(environ: Mapping[str, str] = os.environ) -> int:
    """The host's `extensions.queues.maxDequeueCount`, app-setting overrides included."""
    return hostjson.HostConfig.load(hostjson.HOST_JSON, environ).queues.max_dequeue_count


async def consume_or_poison(
    body: bytes,
    *,
    queue_name: str,
    message_id: str | None,
    dequeue_count: int,
    handle: Callable[[EventEnvelope], Awaitable[str]],
) -> str:
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
