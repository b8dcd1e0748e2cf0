"""The `expire_unpaid_orders` timer's work: cancel unpaid orders past their deadline and give
their stock back, then expire orphan reservations.

Each expired order is taken with `FOR NO KEY UPDATE SKIP LOCKED` in its own short transaction,
so two overlapping runs split the work and never handle an order twice, and no run holds the
offers of many orders at once (which could deadlock with another run or with placement).
Every change is conditional, so a rerun finds nothing left to do. The clock is a parameter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.data import db
from shared.events import relay
from shared.events.repo import record_event
from shared.orders import lifecycle_repo as repo
from shared.orders.lifecycle import CANCELLED, apply_change
from shared.orders.placement import utcnow
from shared.orders.transitions import Party

BATCH_SIZE = 50
TIME_BUDGET_SECONDS = 40.0  # the timer fires every minute
SYSTEM = Party("admin", "system:expiry")
REASON = "expired"


@dataclass
class ExpiryRun:
    orders: int = 0
    orphan_units: int = 0
    batches: int = 0


async def expire_unpaid_orders(
    clock: Callable[[], datetime] = utcnow, time_budget_seconds: float = TIME_BUDGET_SECONDS
) -> ExpiryRun:
    run, deadline = ExpiryRun(), time.monotonic() + time_budget_seconds
    while time.monotonic() < deadline:
        now = clock()
        async with db.connection() as conn:
            candidates = await repo.expired_orders(conn, now, BATCH_SIZE)
        for order_id in candidates:
            run.orders += await _expire_one(order_id, now)
        run.batches += 1
        if len(candidates) < BATCH_SIZE:
            break
    while time.monotonic() < deadline:
        async with db.transaction() as conn:
            units = await repo.expire_orphan_reservations(conn, clock(), BATCH_SIZE)
        run.orphan_units += units
        if units == 0:
            break
    if run.orders:
        relay.relay_soon()
    return run


async def _expire_one(order_id, now: datetime) -> int:
    """1 when this run expired the order, 0 when another run has it or it is no longer due."""
    async with db.transaction() as conn:
        if not await repo.lock_expired_order(conn, order_id, now):
            return 0
        children = [c for c in await repo.lock_order_children(conn, order_id) if c.status != CANCELLED]
        await apply_change(conn, SYSTEM, children, "status", CANCELLED, REASON, outcome="EXPIRED")
        children_payload = [{"seller_order_id": str(c.id), "seller_id": str(c.seller_id)} for c in children]
        await record_event(
            conn,
            "order.expired",
            aggregate_type="order",
            aggregate_id=str(order_id),
            payload={"order_id": str(order_id), "user_id": children[0].user_id, "children": children_payload},
        )
    return 1
