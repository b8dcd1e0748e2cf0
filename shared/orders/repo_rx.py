"""SQL for order lines dispensed against prescriptions: the children waiting for a review, their
lines with their prescriptions' state, cancelling single lines, and the holds past their bound.
Each constant sits right before the one function that runs it.

Lock order as everywhere in orders: prescriptions (the review's own row, or FOR SHARE here),
then the parent order, its children, then offers (repo_stock).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.orders.models import RxLine

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Orders with a waiting child that has a live line on the prescription (a plain read: each
# order is then locked whole with lifecycle's lock_order_children and looked at again).
SELECT_WAITING_ORDERS = """
SELECT DISTINCT i.order_id FROM order_items i JOIN seller_orders so ON so.id = i.seller_order_id
WHERE i.prescription_id = %(id)s AND i.cancelled_at IS NULL AND so.status = 'AWAITING_PRESCRIPTION'
ORDER BY i.order_id
"""


async def waiting_orders(conn: AsyncConnection, prescription_id: UUID) -> list[UUID]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_WAITING_ORDERS, {"id": prescription_id})
        return [row[0] for row in await cur.fetchall()]


# Every line of the order with its prescription's state; the prescriptions are locked FOR SHARE
# so that no review changes one while the caller decides on them (a review in flight finishes
# first, or waits for this transaction and then sees its result).
SELECT_ORDER_LINES = """
SELECT i.id, i.seller_order_id, i.line_no, i.quantity, i.line_total, i.requires_prescription, i.prescription_id,
       i.cancelled_at IS NOT NULL AS cancelled, rx.status AS prescription_status,
       rx.expires_on AS prescription_expires_on
FROM order_items i
LEFT JOIN LATERAL (
    SELECT status, expires_on FROM prescriptions WHERE id = i.prescription_id FOR SHARE
) rx ON true
WHERE i.order_id = %(order_id)s
ORDER BY i.line_no
"""


async def order_lines(conn: AsyncConnection, order_id: UUID) -> list[RxLine]:
    return await db.fetch_all(conn, SELECT_ORDER_LINES, {"order_id": order_id}, RxLine)


CANCEL_ITEMS = """
UPDATE order_items SET cancelled_at = now(), cancel_reason = %(reason)s
WHERE id = ANY(%(ids)s) AND cancelled_at IS NULL
"""


async def cancel_items(conn: AsyncConnection, item_ids: list[UUID], reason: str) -> int:
    return await db.execute(conn, CANCEL_ITEMS, {"ids": item_ids, "reason": reason})


# Orders with a child waiting since before the bound, oldest hold first (a plain read; each
# order is then locked with SKIP LOCKED, so overlapping runs split the work).
SELECT_EXPIRED_HOLDS = """
SELECT order_id FROM seller_orders
WHERE status = 'AWAITING_PRESCRIPTION' AND awaiting_prescription_since < %(before)s
GROUP BY order_id ORDER BY min(awaiting_prescription_since) LIMIT %(limit)s
"""


async def orders_with_expired_holds(conn: AsyncConnection, before: datetime, limit: int) -> list[UUID]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_EXPIRED_HOLDS, {"before": before, "limit": limit})
        return [row[0] for row in await cur.fetchall()]


LOCK_ORDER_SKIP_LOCKED = "SELECT id FROM orders WHERE id = %(id)s FOR NO KEY UPDATE SKIP LOCKED"


async def lock_order_unless_taken(conn: AsyncConnection, order_id: UUID) -> bool:
    """True when this transaction now holds the order; False when another run has it."""
    return await db.fetch_value(conn, LOCK_ORDER_SKIP_LOCKED, {"id": order_id}) is not None


SELECT_EXPIRED_HOLDS_OF = """
SELECT id FROM seller_orders
WHERE order_id = %(order_id)s AND status = 'AWAITING_PRESCRIPTION' AND awaiting_prescription_since < %(before)s
"""


async def expired_holds_of(conn: AsyncConnection, order_id: UUID, before: datetime) -> list[UUID]:
    """The order's children still waiting since before `before` (read under the order's lock)."""
    async with conn.cursor() as cur:
        await cur.execute(SELECT_EXPIRED_HOLDS_OF, {"order_id": order_id, "before": before})
        return [row[0] for row in await cur.fetchall()]
