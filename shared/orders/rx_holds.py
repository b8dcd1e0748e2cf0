"""Paid child orders waiting for a pharmacist (AWAITING_PRESCRIPTION), in the caller's transaction:
what a child becomes after payment, after a review, and when its hold runs out.

- After payment: a child with a live prescription-only line whose prescription is not approved
  (and valid today) waits; the others are CONFIRMED (`children_after_payment`, for the payment
  consumer).
- A review (`settle_review`, in the review's transaction): an approval confirms the waiting
  children whose prescription-only lines are now all approved; a rejection cancels only the
  lines on that prescription (marked cancelled, their units back on the shelf with the same
  conditional stock write cancellations use), then confirms what is left of the child, or
  cancels the child when nothing is left. `prescription.rejected` goes to the outbox with the
  cancelled lines and quantities, for the refund.
- The timer (`release_hold`): a child waiting past PRESCRIPTION_HOLD_HOURS is cancelled, its
  stock given back, and `prescription.hold_expired` goes to the outbox the same way.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.events.repo import record_event
from shared.orders import repo_lifecycle, repo_rx, repo_stock, rules
from shared.orders.lifecycle import apply_change
from shared.orders.models import LockedChild, RxLine
from shared.orders.models_payment import REFUND_DUE
from shared.orders.rules import AWAITING_PRESCRIPTION, CANCELLED, HOLD_EXPIRED_REASON, RX_REJECTED_REASON, Party
from shared.prescriptions.rules import approved_on

if TYPE_CHECKING:
    from psycopg import AsyncConnection

HOLD_PARTY = Party("admin", "system:prescription_hold")
BATCH_SIZE = 50


def _needs_approval(line: RxLine) -> bool:
    return not line.cancelled and (line.requires_prescription or line.prescription_id is not None)


async def children_after_payment(conn: AsyncConnection, order_id: UUID, today: date) -> dict[UUID, str]:
    """Each child's status once the order is paid (CONFIRMED or AWAITING_PRESCRIPTION). The
    prescriptions are read FOR SHARE, so a review in flight is either seen or sees this."""
    lines = await repo_rx.order_lines(conn, order_id)
    waiting: dict[UUID, bool] = {}
    for line in lines:
        pending = _needs_approval(line) and not approved_on(
            line.prescription_status, line.prescription_expires_on, today
        )
        waiting[line.seller_order_id] = waiting.get(line.seller_order_id, False) or pending
    return {child: rules.child_status_after_payment(has) for child, has in waiting.items()}


async def settle_review(
    conn: AsyncConnection, prescription_id: UUID, *, rejected: bool, party: Party, today: date
) -> int:
    """The waiting children with a live line on the prescription just reviewed, settled; returns
    how many children it looked at."""
    settled = 0
    for order_id in await repo_rx.waiting_orders(conn, prescription_id):
        children = await repo_lifecycle.lock_order_children(conn, order_id)
        lines = await repo_rx.order_lines(conn, order_id)
        for child in children:
            own = [line for line in lines if line.seller_order_id == child.id]
            on_it = [line for line in own if line.prescription_id == prescription_id and not line.cancelled]
            if child.status != AWAITING_PRESCRIPTION or not on_it:
                continue
            await _settle_child(conn, party, child, own, on_it if rejected else [], today)
            settled += 1
    return settled


async def _settle_child(
    conn: AsyncConnection, party: Party, child: LockedChild, lines: list[RxLine], cancel: list[RxLine], today: date
) -> None:
    cancelled_ids = {line.id for line in cancel}
    live = [line for line in lines if not line.cancelled and line.id not in cancelled_ids]
    approved = [
        approved_on(x.prescription_status, x.prescription_expires_on, today) for x in live if _needs_approval(x)
    ]
    status = rules.child_status_after_review(approved, live_lines=len(live))
    if cancel:
        await repo_rx.cancel_items(conn, list(cancelled_ids), RX_REJECTED_REASON)
        await repo_stock.give_back(conn, child.order_id, item_ids=list(cancelled_ids))
        await _record_cancelled_lines(conn, child, cancel, "prescription.rejected", child_cancelled=status == CANCELLED)
    if status != AWAITING_PRESCRIPTION:
        await apply_change(conn, party, [child], "status", status, RX_REJECTED_REASON if cancel else None)


async def _record_cancelled_lines(
    conn: AsyncConnection, child: LockedChild, lines: list[RxLine], event_type: str, *, child_cancelled: bool
) -> None:
    """The event a refund follows: the child, whether it was cancelled whole, and the lines."""
    payload = {
        "order_id": str(child.order_id),
        "seller_order_id": str(child.id),
        "seller_id": str(child.seller_id),
        "user_id": child.user_id,
        "number": child.number,
        "child_cancelled": child_cancelled,
        "lines": [
            {"order_item_id": str(x.id), "line_no": x.line_no, "quantity": x.quantity, "line_total": str(x.line_total)}
            for x in lines
        ],
    }
    await record_event(conn, event_type, aggregate_type="order", aggregate_id=str(child.order_id), payload=payload)
    # The fact the payments domain acts on (domain-events queue): these lines' money goes back.
    due = {**payload, "cause": event_type}
    await record_event(conn, REFUND_DUE, aggregate_type="refund", aggregate_id=str(child.id), payload=due)


async def release_hold(conn: AsyncConnection, order_id: UUID, before: datetime) -> int:
    """Cancels the order's children waiting since before `before`; 0 when another run holds the
    order or nothing is due any more (a rerun finds nothing to do)."""
    if not await repo_rx.lock_order_unless_taken(conn, order_id):
        return 0
    due = set(await repo_rx.expired_holds_of(conn, order_id, before))
    children = [c for c in await repo_lifecycle.lock_order_children(conn, order_id) if c.id in due]
    if not children:
        return 0
    lines = await repo_rx.order_lines(conn, order_id)
    for child in children:
        live = [line for line in lines if line.seller_order_id == child.id and not line.cancelled]
        await _record_cancelled_lines(conn, child, live, "prescription.hold_expired", child_cancelled=True)
    await apply_change(conn, HOLD_PARTY, children, "status", CANCELLED, HOLD_EXPIRED_REASON)
    return len(children)
