"""What a payment does to its order, inside the payments domain's transaction (the payment row
is already locked; this locks the order, its children, then offers).

- `confirm_paid_order`: the order is PAID, its reservations consumed and its PENDING children
  move to CONFIRMED, or to AWAITING_PRESCRIPTION while one of their prescription-only lines
  names a prescription not approved yet (`rx_holds.children_after_payment`). An order the expiry timer cancelled is
  revived only if all its stock can be reserved again, with the same conditional write as
  placement (`repo_stock.reserve_offers`), all or nothing; otherwise it stays cancelled and
  the caller refunds the payment.
- Refund effects: units and money claimed (conditional writes, CHECK-backed), released again
  when the gateway refused, restocked when asked, and the order's payment status.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from shared.events.repo import record_event
from shared.orders import repo_lifecycle, repo_payment, repo_stock, rules, rx_holds
from shared.orders.lifecycle import apply_change
from shared.orders.models_payment import OrderForPayment, PaidOutcome
from shared.orders.rules import CANCELLED, EXPIRY_PARTY, PAYMENT_PARTY

if TYPE_CHECKING:
    from psycopg import AsyncConnection

UNPAID = ["PENDING", "PROCESSING", "FAILED"]
REVIVED_REASON = "paid after it expired; the stock was reserved again"
PAID_REASON = "payment received"


class _OutOfStock(Exception):
    """Rolls the savepoint of a partial re-reservation back."""


async def confirm_paid_order(conn: AsyncConnection, order_id: UUID, now: datetime) -> PaidOutcome:
    order = await repo_payment.lock_order(conn, order_id, EXPIRY_PARTY.actor_id)
    if order is None or order.payment_status not in UNPAID:
        return "not_payable"
    if order.status == CANCELLED:
        if not order.expired_by_timer:
            return "not_payable"
        if not await _reserve_again(conn, order_id, now):
            return "out_of_stock"
        await _move_children(conn, order, from_status=CANCELLED, reason=REVIVED_REASON, today=now.date())
        outcome: PaidOutcome = "reserved_again"
    else:
        await _move_children(conn, order, from_status="PENDING", reason=PAID_REASON, today=now.date())
        outcome = "confirmed"
    await repo_stock.consume_reservations(conn, order_id)
    await set_payment_status(conn, order_id, UNPAID, "PAID", reason=PAID_REASON)
    return outcome


async def _reserve_again(conn: AsyncConnection, order_id: UUID, now: datetime) -> bool:
    wanted = await repo_payment.units_per_offer(conn, order_id)
    try:
        async with conn.transaction():  # a savepoint: a partial reservation is undone whole
            if len(await repo_stock.reserve_offers(conn, wanted)) < len(wanted):
                raise _OutOfStock
            await repo_payment.reactivate_expired_reservations(conn, order_id, now + timedelta(minutes=5))
    except _OutOfStock:
        return False
    return True


async def _move_children(
    conn: AsyncConnection, order: OrderForPayment, *, from_status: str, reason: str, today: date
) -> None:
    """Each child in `from_status` moves to its target, CONFIRMED or AWAITING_PRESCRIPTION while
    a prescription of its lines is not approved yet; one change per target (history, events)."""
    children = [c for c in await repo_lifecycle.lock_order_children(conn, order.id) if c.status == from_status]
    targets = await rx_holds.children_after_payment(conn, order.id, today)
    by_target: dict[str, list] = {}
    for child in children:
        by_target.setdefault(targets.get(child.id, rules.CONFIRMED), []).append(child)
    for target, group in sorted(by_target.items()):
        await apply_change(conn, PAYMENT_PARTY, group, "status", target, reason)


async def set_payment_status(
    conn: AsyncConnection, order_id: UUID, from_values: list[str], to: str, *, reason: str
) -> bool:
    """The parent's payment status, with its history row; False when it was not in `from_values`."""
    current = await repo_payment.payable_order(conn, order_id)
    if current is None or not await repo_payment.set_payment_status(conn, order_id, from_values, to):
        return False
    await repo_lifecycle.insert_history(
        conn,
        order_id,
        "payment_status",
        [(None, current.payment_status)],
        to,
        actor_id=PAYMENT_PARTY.actor_id,
        actor_role=PAYMENT_PARTY.actor,
        reason=reason,
    )
    await record_event(
        conn,
        "order.payment_status_changed",
        aggregate_type="order",
        aggregate_id=str(order_id),
        payload={"order_id": str(order_id), "user_id": current.user_id, "from": current.payment_status, "to": to},
    )
    return True
