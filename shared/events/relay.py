"""The outbox relay: unpublished events → their Storage queue, in id order per aggregate.

`relay_outbox()` (timer sweep, every 10 s) claims whole aggregates' unpublished events with a
short lease, sends them outside any transaction (order events to ORDER_EVENTS_QUEUE, agents'
replies to CHANNEL_OUTBOUND_QUEUE, the rest to DOMAIN_EVENTS_QUEUE), then marks them published.
`relay_soon()` does one small batch in the background right after a request committed events.
A relay that dies mid-way leaves the lease to expire and the events are sent again: delivery
is at least once, so consumers are idempotent (see `shared.events.consumer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from shared.events import repo
from shared.events.models import ClaimedEvent, EventEnvelope, OutboxRow
from shared.platform import logs
from shared.platform.config import get_settings

log = logs.get_logger("events")
RELAY_TIME_BUDGET_SECONDS = 8.0  # the timer fires every 10 s
# No send starts in the lease's last LEASE_MARGIN_SECONDS: one send may take that long (3 s to
# connect, 10 s to read, two retries), and a send finishing after the lease ran out could land
# after a newer relay's re-send of a later event of the same aggregate.
LEASE_MARGIN_SECONDS = 30.0
ENVELOPE_FIELDS = set(EventEnvelope.model_fields)
# Injectable for tests: the relay's budget and its lease's end are judged on this clock.
clock = time.monotonic
AFTER_COMMIT_BUDGET_SECONDS = 2.0
AFTER_COMMIT_MAX_AGGREGATES = 10


def queue_name_for(aggregate_type: str) -> str:
    """Order events have their own queue (notifications), agents' replies theirs (the channel
    senders, shared.inbox.outbound); everything else the domain queue."""
    settings = get_settings()
    if aggregate_type == "order":
        return settings.order_events_queue
    if aggregate_type == "inbox_outbound":
        return settings.channel_outbound_queue
    return settings.domain_events_queue


async def send_event(row: OutboxRow) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import encode_queue_message, queue_client

    queue = queue_client(queue_name_for(row.aggregate_type))
    message = encode_queue_message(row.model_dump_json(include=ENVELOPE_FIELDS))
    try:
        await queue.send_message(message)
    except ResourceNotFoundError:  # a fresh Azurite or test queue: Azure's is made by infra
        await _create_queue(queue)
        await queue.send_message(message)


async def _create_queue(queue: Any) -> None:
    from azure.core.exceptions import ResourceExistsError

    with contextlib.suppress(ResourceExistsError):  # another relay made it first
        await queue.create_queue()


async def publish_batch(batch: list[ClaimedEvent], sends_until: float) -> int:
    """Sends in id order while the lease surely holds (`sends_until`, on `clock`); marks what
    went out even when a later send fails, and gives the rest back. Returns how many went."""
    sent: list[int] = []
    try:
        for row in batch:
            if clock() >= sends_until:
                log.warning("relay: lease running out after %d of %d events; the rest go back", len(sent), len(batch))
                break
            await send_event(row)
            sent.append(row.id)
    finally:
        if sent:
            await repo.mark_published(sent)
        if rest := batch[len(sent) :]:
            await repo.release_claims([row.id for row in rest], rest[0].claimed_until)
    return len(sent)


async def relay_outbox(
    *,
    time_budget_seconds: float = RELAY_TIME_BUDGET_SECONDS,
    max_batches: int | None = None,
    batch_size: int | None = None,
) -> int:
    """Send unpublished events to their queues; returns how many were sent."""
    batch_size = batch_size or get_settings().outbox_relay_batch_size
    deadline, sent, batches = clock() + time_budget_seconds, 0, 0
    while clock() < deadline and (max_batches is None or batches < max_batches):
        claimed_at = clock()
        batch = await repo.claim_unpublished_events(batch_size)
        if not batch:
            break
        sent += await publish_batch(batch, claimed_at + repo.LEASE_SECONDS - LEASE_MARGIN_SECONDS)
        batches += 1
    return sent


_background_relay: asyncio.Task[None] | None = None
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


def in_background_relay() -> bool:
    """Whether the running task is the background relay (tests count a request's statements
    without the relay's, which the loop may schedule during the request's own awaits)."""
    task = _background_relay
    return task is not None and asyncio.current_task() is task


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
        return await relay_outbox(
            time_budget_seconds=AFTER_COMMIT_BUDGET_SECONDS, max_batches=1, batch_size=AFTER_COMMIT_MAX_AGGREGATES
        )
    except Exception as error:  # noqa: BLE001 - never fail a committed request over delivery
        log.warning("relay after commit failed (the sweep will retry): %s: %s", type(error).__name__, error)
        return 0
