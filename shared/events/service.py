"""What the event triggers call: the outbox sweep and the domain-event queue's consumer.

The subscriptions below are the one place that says which domain consumes which event from
DOMAIN_EVENTS_QUEUE (order events have their own queue and consumer: notifications).
"""

from __future__ import annotations

from shared.events import consumer, relay
from shared.events.models import Consumer
from shared.platform.config import get_settings


def domain_event_consumers() -> dict[str, Consumer]:
    from shared.inbox.service import EVENT_CONSUMERS as INBOX_CONSUMERS
    from shared.notifications.service import EVENT_CONSUMERS as NOTIFICATION_CONSUMERS
    from shared.payments.service import EVENT_CONSUMERS as PAYMENT_CONSUMERS
    from shared.users.service import EVENT_CONSUMERS as USER_CONSUMERS

    return {**USER_CONSUMERS, **PAYMENT_CONSUMERS, **NOTIFICATION_CONSUMERS, **INBOX_CONSUMERS}


async def relay_outbox() -> int:
    """Sends every unpublished event (within the sweep's time budget); returns how many."""
    return await relay.relay_outbox()


async def consume_domain_event(body: bytes, *, message_id: str | None) -> str:
    return await consumer.consume_event(
        body, queue_name=get_settings().domain_events_queue, message_id=message_id, consumers=domain_event_consumers()
    )
