"""SQL for order status changes and the expiry's picks; each constant sits right before the
one function that runs it.

Lock order everywhere: the parent order first, then its children, then offers (repo_stock), so
concurrent transitions of one order serialise and never deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.orders.models import LockedChild, TransitionResult

if TYPE_CHECKING:
    from psycopg import AsyncConnection

CHILD_WITH_PARENT = """
SELECT c.id, c.order_id, c.seller_id, c.number, c.status, c.delivery_status, c.version, o.user_id, o.delivery_method,
       o.payment_status, o.version AS order_version
FROM orders o JOIN seller_orders c ON c.order_id = o.id
"""
LOCK_CHILD = CHILD_WITH_PARENT + "WHERE c.id = %(id)s FOR NO KEY UPDATE OF o, c"


async def lock_child(conn: AsyncConnection, child_id: UUID) -> LockedChild | None:
    return await db.fetch_one(conn, LOCK_CHILD, {"id": child_id}, LockedChild)


LOCK_ORDER_CHILDREN = CHILD_WITH_PARENT + "WHERE o.id = %(id)s ORDER BY c.number FOR NO KEY UPDATE OF o, c"


async def lock_order_children(conn: AsyncConnection, order_id: UUID) -> list[LockedChild]:
    return await db.fetch_all(conn, LOCK_ORDER_CHILDREN, {"id": order_id}, LockedChild)


SET_CHILD_STATUS = """
UPDATE seller_orders SET status = %(to)s, version = version + 1, updated_at = now()
WHERE id = ANY(%(ids)s) AND status = ANY(%(from)s)
"""
SET_CHILD_DELIVERY_STATUS = """
UPDATE seller_orders SET delivery_status = %(to)s, version = version + 1, updated_at = now()
WHERE id = ANY(%(ids)s) AND delivery_status = ANY(%(from)s)
"""


async def set_child_field(conn: AsyncConnection, field: str, ids: list[UUID], from_values: list[str], to: str) -> int:
    """Conditional on the values the caller checked under lock; returns rows changed."""
    statement = SET_CHILD_STATUS if field == "status" else SET_CHILD_DELIVERY_STATUS
    return await db.execute(conn, statement, {"ids": ids, "from": from_values, "to": to})


INSERT_HISTORY = """
INSERT INTO order_status_history (order_id, seller_order_id, field, from_status, to_status, actor_id, actor_role,
                                  reason)
SELECT %(order_id)s, h.child_id, %(field)s, h.from_status, %(to)s, %(actor_id)s, %(actor_role)s, %(reason)s
FROM unnest(%(child_ids)s::uuid[], %(from_values)s::text[]) AS h(child_id, from_status)
"""


async def insert_history(
    conn: AsyncConnection,
    order_id: UUID,
    field: str,
    changes: Sequence[tuple[UUID | None, str | None]],
    to: str,
    *,
    actor_id: str,
    actor_role: str,
    reason: str | None,
) -> None:
    params = {
        "order_id": order_id,
        "field": field,
        "to": to,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "reason": reason,
        "child_ids": [c for c, _ in changes],
        "from_values": [f for _, f in changes],
    }
    await db.execute(conn, INSERT_HISTORY, params)


SELECT_CHILD_STATUSES = "SELECT status FROM seller_orders WHERE order_id = %(id)s"


async def child_statuses(conn: AsyncConnection, order_id: UUID) -> list[str]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_CHILD_STATUSES, {"id": order_id})
        return [row[0] for row in await cur.fetchall()]


UPDATE_PARENT_STATUS = """
UPDATE orders SET status = %(status)s, version = version + 1, updated_at = now()
WHERE id = %(id)s AND status <> %(status)s
RETURNING version
"""


async def set_parent_status(conn: AsyncConnection, order_id: UUID, status: str) -> bool:
    """True when the parent's status changed (its version moves with it)."""
    return await db.fetch_value(conn, UPDATE_PARENT_STATUS, {"id": order_id, "status": status}) is not None


EXPIRED_CONDITION = "payment_status IN ('PENDING', 'FAILED') AND status = 'PENDING' AND expires_at < %(now)s"
# Unpaid PENDING parents past their deadline, oldest first (a plain read: each is then locked
# in its own transaction, so no run ever holds the stock of many orders at once).
SELECT_EXPIRED_ORDERS = f"SELECT id FROM orders WHERE {EXPIRED_CONDITION} ORDER BY expires_at LIMIT %(limit)s"


async def expired_orders(conn: AsyncConnection, now: datetime, limit: int) -> list[UUID]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_EXPIRED_ORDERS, {"now": now, "limit": limit})
        return [row[0] for row in await cur.fetchall()]


# Still expired and not held by another run: this run takes it; otherwise it skips it.
LOCK_EXPIRED_ORDER = f"SELECT id FROM orders WHERE id = %(id)s AND {EXPIRED_CONDITION} FOR NO KEY UPDATE SKIP LOCKED"


async def lock_expired_order(conn: AsyncConnection, order_id: UUID, now: datetime) -> bool:
    return await db.fetch_value(conn, LOCK_EXPIRED_ORDER, {"id": order_id, "now": now}) is not None


SELECT_CHILD_STATE = (
    "SELECT id AS seller_order_id, status, delivery_status, version FROM seller_orders WHERE id = %(id)s"
)


async def child_state(conn: AsyncConnection, child_id: UUID) -> TransitionResult | None:
    return await db.fetch_one(conn, SELECT_CHILD_STATE, {"id": child_id}, TransitionResult)
