"""The `expire_unpaid_orders` timer's work on one order: cancel it if it is still unpaid past
its deadline and give its stock back, in the caller's transaction.

`service.expire_unpaid_orders` runs it in its own short transaction per order, so two
overlapping runs split the work (row locks taken with SKIP LOCKED) and never handle an order
twice, and no run holds the offers of many orders at once (which could deadlock with another
run or with placement). Every change is conditional, so a rerun finds nothing left to do.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.events.repo import record_event
from shared.orders import repo_lifecycle
from shared.orders.lifecycle import apply_change
from shared.orders.rules import CANCELLED, EXPIRY_PARTY, EXPIRY_REASON

if TYPE_CHECKING:
    from psycopg import AsyncConnection

BATCH_SIZE = 50
TIME_BUDGET_SECONDS = 40.0  # the timer fires every minute


async def expire_order(conn: AsyncConnection, order_id: UUID, now: datetime) -> int:
    """1 when this run expired the order, 0 when another run has it or it is no longer due."""
    if not await repo_lifecycle.lock_expired_order(conn, order_id, now):
        return 0
    children = [c for c in await repo_lifecycle.lock_order_children(conn, order_id) if c.status != CANCELLED]
    await apply_change(conn, EXPIRY_PARTY, children, "status", CANCELLED, EXPIRY_REASON, outcome="EXPIRED")
    children_payload = [{"seller_order_id": str(c.id), "seller_id": str(c.seller_id)} for c in children]
    await record_event(
        conn,
        "order.expired",
        aggregate_type="order",
        aggregate_id=str(order_id),
        payload={"order_id": str(order_id), "user_id": children[0].user_id, "children": children_payload},
    )
    return 1
