"""SQL for stock moves: every change of `offers.reserved` / `on_hand` and of reservations, each
one statement inside the caller's transaction; each constant sits right before its function.

`offers.reserved` changes in the same statement as the reservations it sums, and offers are
always locked in primary-key order, so these never deadlock with each other.

- reserve_offers (placing, last statement before COMMIT): `reserved += qty` where it fits.
- give_back (cancel, expiry, a line whose prescription was rejected): ACTIVE → RELEASED or
  EXPIRED with `reserved -= qty`, and CONSUMED → RELEASED with `on_hand += qty` (paid, cancelled).
- consume_reservations (payment succeeded): ACTIVE → CONSUMED, `on_hand -= qty, reserved -= qty`.
- expire_orphan_reservations (the expiry timer): ACTIVE past its deadline → EXPIRED.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.data import db

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# All-or-nothing reservation of every offer of the order, rows locked in primary-key order (the
# locking CTE) so that two orders over the same offers in opposite order cannot deadlock. Taken
# last in the transaction: the hot offer row stays locked only until the COMMIT right after.
RESERVE_OFFERS = """
WITH wanted AS (
    SELECT key::uuid AS offer_id, value::int AS quantity FROM jsonb_each_text(%(wanted)s)
), locked AS (
    SELECT o.id FROM offers o WHERE o.id IN (SELECT offer_id FROM wanted) ORDER BY o.id FOR NO KEY UPDATE
)
UPDATE offers o SET reserved = o.reserved + wanted.quantity
FROM wanted
WHERE o.id = wanted.offer_id AND o.id IN (SELECT id FROM locked) AND o.on_hand - o.reserved >= wanted.quantity
RETURNING o.id
"""


async def reserve_offers(conn: AsyncConnection, quantities: dict[UUID, int]) -> set[UUID]:
    """The offers that had enough stock (and are now reserved); fewer than asked = roll back."""
    params = {"wanted": db.json_param({str(offer_id): quantity for offer_id, quantity in quantities.items()})}
    async with conn.cursor() as cur:
        await cur.execute(RESERVE_OFFERS, params)
        return {row[0] for row in await cur.fetchall()}


SELECT_AVAILABLE = "SELECT id, on_hand - reserved FROM offers WHERE id = ANY(%(ids)s)"


async def available_units(conn: AsyncConnection, offer_ids: list[UUID]) -> dict[UUID, int]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_AVAILABLE, {"ids": offer_ids})
        return {row[0]: row[1] for row in await cur.fetchall()}


# Cancellation in one statement, so the offers of the whole change are locked in primary-key
# order at once: ACTIVE reservations are released (or expired), CONSUMED ones restocked (less
# what a refund already put back: `restocked`).
GIVE_BACK = """
WITH target AS (
    SELECT r.id, r.offer_id, r.quantity, r.restocked, r.status AS was
    FROM reservations r JOIN order_items i ON i.id = r.order_item_id
    WHERE i.order_id = %(order_id)s AND r.status IN ('ACTIVE', 'CONSUMED')
      AND (%(seller_order_ids)s::uuid[] IS NULL OR i.seller_order_id = ANY(%(seller_order_ids)s::uuid[]))
      AND (%(item_ids)s::uuid[] IS NULL OR i.id = ANY(%(item_ids)s::uuid[]))
    FOR UPDATE OF r
), moved AS (
    UPDATE reservations r SET status = CASE WHEN t.was = 'ACTIVE' THEN %(outcome)s ELSE 'RELEASED' END,
                              updated_at = now()
    FROM target t WHERE r.id = t.id
    RETURNING t.offer_id, t.quantity, t.restocked, t.was
), per_offer AS (
    SELECT offer_id, (sum(quantity) FILTER (WHERE was = 'ACTIVE'))::int AS unreserve,
           (sum(quantity - restocked) FILTER (WHERE was = 'CONSUMED'))::int AS restock
    FROM moved GROUP BY offer_id
), locked AS (
    SELECT o.id FROM offers o WHERE o.id IN (SELECT offer_id FROM per_offer) ORDER BY o.id FOR NO KEY UPDATE
)
UPDATE offers o SET reserved = o.reserved - coalesce(p.unreserve, 0), on_hand = o.on_hand + coalesce(p.restock, 0),
                    updated_at = now()
FROM per_offer p
WHERE o.id = p.offer_id AND o.id IN (SELECT id FROM locked)
RETURNING coalesce(p.unreserve, 0) + coalesce(p.restock, 0)
"""


async def give_back(
    conn: AsyncConnection,
    order_id: UUID,
    *,
    seller_order_ids: list[UUID] | None = None,
    item_ids: list[UUID] | None = None,
    outcome: Literal["RELEASED", "EXPIRED"] = "RELEASED",
) -> int:
    """Cancellation of the order (or some children, or some lines): units back to stock;
    returns how many."""
    params = {"order_id": order_id, "seller_order_ids": seller_order_ids, "item_ids": item_ids, "outcome": outcome}
    async with conn.cursor() as cur:
        await cur.execute(GIVE_BACK, params)
        return sum(row[0] for row in await cur.fetchall())


CONSUME = """
WITH moved AS (
    UPDATE reservations r SET status = 'CONSUMED', updated_at = now()
    FROM order_items i
    WHERE r.order_item_id = i.id AND i.order_id = %(order_id)s AND r.status = 'ACTIVE'
    RETURNING r.offer_id, r.quantity
), per_offer AS (
    SELECT offer_id, sum(quantity)::int AS quantity FROM moved GROUP BY offer_id
), locked AS (
    SELECT o.id FROM offers o WHERE o.id IN (SELECT offer_id FROM per_offer) ORDER BY o.id FOR NO KEY UPDATE
)
UPDATE offers o SET on_hand = o.on_hand - p.quantity, reserved = o.reserved - p.quantity, updated_at = now()
FROM per_offer p
WHERE o.id = p.offer_id AND o.id IN (SELECT id FROM locked)
RETURNING p.quantity
"""


async def consume_reservations(conn: AsyncConnection, order_id: UUID) -> int:
    """Payment succeeded: the held units leave the shelf for good; returns how many."""
    async with conn.cursor() as cur:
        await cur.execute(CONSUME, {"order_id": order_id})
        return sum(row[0] for row in await cur.fetchall())


# Orphans: ACTIVE reservations past their deadline whose order the sweep above did not cancel.
EXPIRE_ORPHAN_RESERVATIONS = """
WITH claimed AS (
    SELECT id FROM reservations WHERE status = 'ACTIVE' AND expires_at < %(now)s
    ORDER BY expires_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE reservations r SET status = 'EXPIRED', updated_at = now()
    FROM claimed WHERE r.id = claimed.id
    RETURNING r.offer_id, r.quantity
), per_offer AS (
    SELECT offer_id, sum(quantity)::int AS quantity FROM moved GROUP BY offer_id
), locked AS (
    SELECT o.id FROM offers o WHERE o.id IN (SELECT offer_id FROM per_offer) ORDER BY o.id FOR NO KEY UPDATE
)
UPDATE offers o SET reserved = o.reserved - p.quantity, updated_at = now()
FROM per_offer p WHERE o.id = p.offer_id AND o.id IN (SELECT id FROM locked)
RETURNING p.quantity
"""


async def expire_orphan_reservations(conn: AsyncConnection, now: datetime, limit: int) -> int:
    async with conn.cursor() as cur:
        await cur.execute(EXPIRE_ORPHAN_RESERVATIONS, {"now": now, "limit": limit})
        return sum(row[0] for row in await cur.fetchall())
