"""SQL for gateway webhook events; each constant sits right before the one function that runs it.

An event is stored once per (gateway, event key): a redelivery finds the stored row. It is
processed once: the consumer's first statement claims it (`processed_at` set only while NULL).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.data import db
from shared.payments.models import EventRow, StoredEvent

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# One statement: the new row (marked queued: its intake sends it next, and takes the mark back
# if the send fails), or (a redelivery) the stored one and what became of it.
STORE_EVENT = """
WITH inserted AS (
    INSERT INTO payment_events (gateway, event_key, event_type, gateway_payment_id, payload, enqueued_at)
    VALUES (%(gateway)s, %(event_key)s, %(event_type)s, %(gateway_payment_id)s, %(payload)s, %(now)s)
    ON CONFLICT (gateway, event_key) DO NOTHING
    RETURNING id, true AS new, enqueued_at, processed_at
)
SELECT id, new, enqueued_at, processed_at FROM inserted
UNION ALL
SELECT id, false, enqueued_at, processed_at FROM payment_events
WHERE gateway = %(gateway)s AND event_key = %(event_key)s AND NOT EXISTS (SELECT FROM inserted)
"""


async def store_event(conn: AsyncConnection, event: Any, now: datetime) -> StoredEvent:
    params = {
        "now": now,
        "gateway": event.gateway,
        "event_key": event.event_id[:300],
        "event_type": event.event_type[:60],
        "gateway_payment_id": event.gateway_payment_id[:200],
        "payload": db.json_param(event.raw),
    }
    stored = await db.fetch_one(conn, STORE_EVENT, params, StoredEvent)
    if stored is None:  # the conflicting row was inserted by a transaction not yet visible: ask again
        stored = await db.fetch_one(conn, STORE_EVENT, params, StoredEvent)
    assert stored is not None
    return stored


# A redelivery of an event stored but never queued: this intake takes it (once) and sends it.
CLAIM_FOR_QUEUE = """
UPDATE payment_events SET enqueued_at = %(now)s
WHERE id = %(id)s AND enqueued_at IS NULL AND processed_at IS NULL
RETURNING id
"""


async def claim_for_queue(conn: AsyncConnection, event_id: int, now: datetime) -> bool:
    return await db.fetch_value(conn, CLAIM_FOR_QUEUE, {"id": event_id, "now": now}) is not None


SELECT_EVENT = """
SELECT id, gateway, event_key, event_type, gateway_payment_id, enqueued_at, processed_at, outcome
FROM payment_events WHERE id = %(id)s
"""


async def load_event(conn: AsyncConnection, event_id: int) -> EventRow | None:
    return await db.fetch_one(conn, SELECT_EVENT, {"id": event_id}, EventRow)


# The consumer's first write: exactly one transaction processes an event. Another delivery of
# the same message waits on the row, then finds it claimed (READ COMMITTED re-checks the WHERE).
CLAIM_EVENT = """
UPDATE payment_events SET processed_at = %(now)s, outcome = 'processing'
WHERE id = %(id)s AND processed_at IS NULL
RETURNING id
"""


async def claim_event(conn: AsyncConnection, event_id: int, now: datetime) -> bool:
    return await db.fetch_value(conn, CLAIM_EVENT, {"id": event_id, "now": now}) is not None


SET_OUTCOME = "UPDATE payment_events SET outcome = %(outcome)s WHERE id = %(id)s"


async def set_outcome(conn: AsyncConnection, event_id: int, outcome: str) -> None:
    await db.execute(conn, SET_OUTCOME, {"id": event_id, "outcome": outcome[:60]})


# The sweep: stored but never queued (the queue was down at intake), or queued long ago and
# still unprocessed (a lost or poisoned message). Claimed by moving enqueued_at forward, so two
# sweeps never queue the same event at once.
CLAIM_UNQUEUED = """
WITH due AS (
    SELECT id FROM payment_events
    WHERE processed_at IS NULL AND (enqueued_at IS NULL OR enqueued_at < %(requeue_before)s)
      AND received_at < %(received_before)s
    ORDER BY received_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE payment_events e SET enqueued_at = %(now)s FROM due WHERE e.id = due.id
RETURNING e.id, e.gateway
"""


async def claim_unqueued(
    conn: AsyncConnection, *, now: datetime, requeue_before: datetime, received_before: datetime, limit: int
) -> list[tuple[int, str]]:
    params = {"now": now, "requeue_before": requeue_before, "received_before": received_before, "limit": limit}
    async with conn.cursor() as cur:
        await cur.execute(CLAIM_UNQUEUED, params)
        return [(row[0], row[1]) for row in await cur.fetchall()]


# A send of the sweep failed: the event is due again at once.
UNMARK_ENQUEUED = "UPDATE payment_events SET enqueued_at = NULL WHERE id = ANY(%(ids)s) AND processed_at IS NULL"


async def unmark_enqueued(conn: AsyncConnection, ids: list[int]) -> None:
    await db.execute(conn, UNMARK_ENQUEUED, {"ids": ids})
