"""The channel-inbound queue's consumer (`on_channel_delivery`): one raw webhook delivery,
normalized, each event recorded in a transaction of its own (shared.inbox.inbound).

- Every entry and every messaging event of a Meta delivery is handled (Meta batches them).
- Malformed (not the documented shape) → recorded in rejected_messages and dropped: no retry
  can fix it. Events of an unknown or inactive connection are skipped and counted.
- Anything else (database or Storage trouble) propagates: the host retries, then poisons. A
  retried delivery is safe: its stored events are duplicates by key and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared import storage
from shared.data import db
from shared.events import consumer, relay
from shared.inbox import connections, inbound
from shared.inbox.channels import meta, telegram
from shared.inbox.models import ChannelEvent
from shared.inbox.models_api import DeliveryEnvelope
from shared.platform import logs
from shared.platform.config import get_settings

log = logs.get_logger("inbox")


@dataclass
class DeliveryOutcome:
    outcome: str = "processed"
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


async def process_delivery(body: bytes, clock: Callable[[], datetime], *, message_id: str | None) -> DeliveryOutcome:
    queue = get_settings().channel_inbound_queue
    try:
        envelope = DeliveryEnvelope.model_validate_json(body)
        payload = json.loads(await _raw_body(envelope))
        batches = await _batches(envelope, payload)
    except (ValidationError, ValueError, meta.MalformedDelivery) as error:
        await consumer.reject_message(queue, message_id, body, f"malformed delivery: {error}"[:1000])
        return DeliveryOutcome("rejected")
    result = DeliveryOutcome()
    for connection_id, events in batches:
        if connection_id is None:
            result.count("unknown_connection", len(events))
            continue
        for event in events:
            async with db.transaction() as conn:
                recorded = await inbound.record_event(conn, connection_id, event, clock())
            result.count(recorded.outcome)
    if result.counts.get("stored"):
        relay.relay_soon()
    return result


async def _raw_body(envelope: DeliveryEnvelope) -> str:
    if envelope.body is not None:
        return envelope.body
    if envelope.blob is None:
        raise ValueError("neither body nor blob")
    client = storage.blob_service_client().get_blob_client(get_settings().channel_inbound_container, envelope.blob)
    data = await (await client.download_blob()).readall()
    return data.decode("utf-8", errors="replace")


async def _batches(envelope: DeliveryEnvelope, payload: Any) -> list[tuple[Any, list[ChannelEvent]]]:
    """[(connection id or None when unknown, its events)], in delivery order."""
    if envelope.source == "telegram":
        event = telegram.normalize(payload)
        row = await connections.active_connection_by_id(envelope.connection_id) if envelope.connection_id else None
        return [(row.id if row else None, [event] if event else [])]
    kind = meta.kind_of(payload)
    batches: list[tuple[Any, list[ChannelEvent]]] = []
    for page_id, events in meta.events_by_entry(payload):
        row = await connections.active_connection(kind, page_id)
        batches.append((row.id if row else None, events))
    return batches
