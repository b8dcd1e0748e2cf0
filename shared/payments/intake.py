"""Gateway webhooks in: authenticate, store, queue, answer fast. Acting on them is
`processing`'s job, from PAYMENT_EVENTS_QUEUE.

Nothing is lost between the steps:
- unauthenticated (missing or forged secret_token, malformed body) → 401, nothing stored;
- PostgreSQL down → 503 before anything is stored: the gateway retries;
- stored (marked queued in the same statement, to save a round trip), then the queue is down →
  the mark is taken back and 503: the gateway retries, and its redelivery (a duplicate of an
  event never queued) queues it then; the sweep (`sweep_events`, a timer) queues any event
  stored but not queued, or marked queued long ago and still unprocessed (a lost message, or a
  process that died between the commit and the send);
- a duplicate of an event already queued or processed → 200 and nothing else.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from shared import storage
from shared.data import db
from shared.payments import adapters, repo_events, rules
from shared.payments.errors import PaymentError
from shared.payments.models import EventMessage, WebhookAck
from shared.platform import logs
from shared.platform.config import get_settings
from shared.platform.errors import DependencyUnavailable, NotFound, PayloadTooLarge, Unauthorized

log = logs.get_logger("payments")
SWEEP_BATCH = 100
# An event younger than this is left to its own intake (which is about to queue it).
SWEEP_GRACE_SECONDS = 30


async def receive_webhook(gateway_name: str, body: bytes, now: datetime) -> WebhookAck:
    from shared.payments.gateways.base import WebhookUnauthenticated  # lazily: httpx

    try:
        gateway = adapters.gateway_for(gateway_name)
    except KeyError:
        raise NotFound(f"no payment gateway {gateway_name!r}", code=PaymentError.UNKNOWN_GATEWAY) from None
    limit = get_settings().max_request_body_bytes
    if len(body) > limit:
        raise PayloadTooLarge(f"the body has {len(body)} bytes; at most {limit} are accepted")
    try:
        event = gateway.authenticate_webhook(body)
    except WebhookUnauthenticated:
        raise Unauthorized("the webhook is not authenticated", code=PaymentError.WEBHOOK_UNAUTHENTICATED) from None
    async with db.transaction() as conn:
        stored = await repo_events.store_event(conn, event, now)
        if not stored.new and (
            stored.processed_at is not None or not await repo_events.claim_for_queue(conn, stored.id, now)
        ):
            return WebhookAck(duplicate=True)  # processed, or queued already (the sweep covers a lost message)
    try:
        await enqueue(EventMessage(event_id=stored.id, gateway=gateway.name))
    except DependencyUnavailable:
        async with db.transaction() as conn:  # not queued after all: the gateway's retry (or the sweep) queues it
            await repo_events.unmark_enqueued(conn, [stored.id])
        raise
    return WebhookAck(duplicate=not stored.new)


async def enqueue(message: EventMessage) -> None:
    """One message on PAYMENT_EVENTS_QUEUE; Storage unreachable → 503 naming `storage`."""
    from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError

    queue = storage.queue_client(get_settings().payment_events_queue)
    text = storage.encode_queue_message(message.model_dump_json())
    try:
        try:
            await queue.send_message(text)
        except ResourceNotFoundError:  # a fresh Azurite or test queue: Azure's is made by infra
            with contextlib.suppress(ResourceExistsError):
                await queue.create_queue()
            await queue.send_message(text)
    except AzureError as error:
        raise DependencyUnavailable("storage") from error


async def sweep_events(now: datetime) -> int:
    """Queue again every event stored but never queued, or queued long ago and unprocessed."""
    async with db.transaction() as conn:
        due = await repo_events.claim_unqueued(
            conn,
            now=now,
            requeue_before=now - rules.EVENT_REQUEUE_AFTER,
            received_before=now - timedelta(seconds=SWEEP_GRACE_SECONDS),
            limit=SWEEP_BATCH,
        )
    sent: list[int] = []
    try:
        for event_id, gateway in due:
            await enqueue(EventMessage(event_id=event_id, gateway=gateway))
            sent.append(event_id)
    finally:
        if len(sent) < len(due):
            async with db.transaction() as conn:
                await repo_events.unmark_enqueued(conn, [event_id for event_id, _ in due[len(sent) :]])
    if sent:
        log.info("queued %d stored payment event(s) again", len(sent))
    return len(sent)
