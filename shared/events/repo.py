"""The outbox tables' SQL: events written in the producer's transaction, claimed by relays,
deduplicated per consumer, and rejected messages kept for a person to read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.events.models import ClaimedEvent

if TYPE_CHECKING:
    from psycopg import AsyncConnection


LEASE_SECONDS = 60

INSERT_OUTBOX_EVENT = """
INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, payload)
VALUES (%(event_type)s, %(aggregate_type)s, %(aggregate_id)s, %(payload)s)
"""


async def record_event(
    conn: AsyncConnection, event_type: str, *, aggregate_type: str, aggregate_id: str, payload: dict[str, Any]
) -> None:
    """Writes the event in the caller's transaction: it is relayed only if that commits."""
    from psycopg.types.json import Jsonb

    params = {
        "event_type": event_type,
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "payload": Jsonb(payload),
    }
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
RETURNING o.id, o.event_id, o.event_type, o.aggregate_type, o.aggregate_id, o.payload, o.occurred_at,
          o.claimed_until
"""


async def claim_unpublished_events(limit: int) -> list[ClaimedEvent]:
    """All unpublished events of up to `limit` aggregates, oldest first, under a lease."""
    async with db.transaction() as conn:
        params = {"lease_seconds": LEASE_SECONDS, "limit": limit}
        rows = await db.fetch_all(conn, CLAIM_UNPUBLISHED_AGGREGATES, params, ClaimedEvent)
    return sorted(rows, key=lambda row: row.id)  # RETURNING has no order of its own


MARK_EVENTS_PUBLISHED = """
UPDATE outbox_events SET published_at = now(), claimed_until = NULL WHERE id = ANY(%(ids)s)
"""


async def mark_published(ids: list[int]) -> None:
    async with db.transaction() as conn:
        await db.execute(conn, MARK_EVENTS_PUBLISHED, {"ids": ids})


# A send failed, or the lease ran short: what was not sent goes back at once instead of waiting
# for the lease, but only while the lease is still this relay's (`claimed_until` names it): a
# release after another relay re-claimed the events would let a third take them beside it.
RELEASE_EVENT_CLAIMS = """
UPDATE outbox_events SET claimed_until = NULL
WHERE id = ANY(%(ids)s) AND published_at IS NULL AND claimed_until = %(lease)s
"""


async def release_claims(ids: list[int], lease: datetime) -> None:
    async with db.transaction() as conn:
        await db.execute(conn, RELEASE_EVENT_CLAIMS, {"ids": ids, "lease": lease})


CLAIM_EVENT_FOR_CONSUMER = """
INSERT INTO processed_events (event_id, consumer) VALUES (%(event_id)s, %(consumer)s)
ON CONFLICT DO NOTHING
"""


async def claim_for_consumer(conn: AsyncConnection, event_id: UUID, consumer: str) -> bool:
    """False when this consumer already processed the event (in a committed transaction)."""
    params = {"event_id": event_id, "consumer": consumer}
    return await db.execute(conn, CLAIM_EVENT_FOR_CONSUMER, params) > 0


INSERT_REJECTED_MESSAGE = """
INSERT INTO rejected_messages (queue_name, message_id, body, reason)
VALUES (%(queue_name)s, %(message_id)s, %(body)s, %(reason)s)
"""


async def insert_rejected_message(queue_name: str, message_id: str | None, body: str, reason: str) -> None:
    async with db.transaction() as conn:
        params = {"queue_name": queue_name, "message_id": message_id, "body": body, "reason": reason}
        await db.execute(conn, INSERT_REJECTED_MESSAGE, params)
