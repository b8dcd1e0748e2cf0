"""Changing an order's state inside the caller's transaction: a seller's or admin's transition
of one child order, a shopper's cancellation of the whole order, and the changes both share.

Every change happens under the parent's row lock, is conditional on the version the caller
read, and writes its history rows, its stock moves and its outbox events in the same
transaction. A stale version → 409 with the current one; an illegal move → 409 naming the
allowed ones (the table is `rules.TRANSITIONS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared.events.repo import record_event
from shared.orders import repo_lifecycle, repo_stock, rules
from shared.orders.errors import OrderError
from shared.orders.models import CancelRequest, LockedChild, TransitionRequest
from shared.orders.rules import CANCELLED, Party
from shared.platform.errors import NotFound

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def transition_child(conn: AsyncConnection, party: Party, child_id: UUID, request: TransitionRequest) -> None:
    """Apply one transition to a child order; runs in the caller's transaction."""
    child = await repo_lifecycle.lock_child(conn, child_id)
    if child is None or not rules.may_see(party, child):
        raise NotFound(f"no seller order {child_id}", code=OrderError.ORDER_NOT_FOUND)
    rules.check_version(expected=request.version, current=child.version, what="seller order")
    rules.check_transition(party, child, request.field, request.to)
    await apply_change(conn, party, [child], request.field, request.to, request.reason)


async def cancel_order(conn: AsyncConnection, party: Party, order_id: UUID, request: CancelRequest) -> None:
    """The shopper (or an admin) cancels every child still cancellable, all or nothing; runs in
    the caller's transaction."""
    children = await repo_lifecycle.lock_order_children(conn, order_id)
    if not children or not rules.may_see(party, children[0]):
        raise NotFound(f"no order {order_id}", code=OrderError.ORDER_NOT_FOUND)
    rules.check_version(expected=request.version, current=children[0].order_version, what="order")
    live = rules.cancellable_children(party, children)
    await apply_change(conn, party, live, "status", CANCELLED, request.reason or rules.CUSTOMER_CANCEL_REASON)


async def apply_change(
    conn: AsyncConnection,
    party: Party,
    children: list[LockedChild],
    field: str,
    to: str,
    reason: str | None,
    *,
    outcome: Literal["RELEASED", "EXPIRED"] = "RELEASED",
) -> None:
    """Move `field` of the (locked) children to `to`: history, events, stock back when
    cancelled, and the parent's status derived again."""
    order_id = children[0].order_id
    changes = [(child.id, getattr(child, field)) for child in children]
    changed = await repo_lifecycle.set_child_field(conn, field, [c for c, _ in changes], [f for _, f in changes], to)
    assert changed == len(children)  # rows are locked: nothing else can have moved them
    await repo_lifecycle.insert_history(
        conn, order_id, field, changes, to, actor_id=party.actor_id, actor_role=party.actor, reason=reason
    )
    cancelled = field == "status" and to == CANCELLED
    await _record_events(conn, children, [before for _, before in changes], field, to, reason, cancelled=cancelled)
    if cancelled:  # one statement: offers locked in key order at once
        await repo_stock.give_back(conn, order_id, seller_order_ids=[c for c, _ in changes], outcome=outcome)
    await _rederive_parent(conn, order_id, party, reason)


async def _record_events(
    conn: AsyncConnection,
    children: list[LockedChild],
    befores: list[str],
    field: str,
    to: str,
    reason: str | None,
    *,
    cancelled: bool,
) -> None:
    """`order.status_changed` per child, and `order.cancelled` after it when it was cancelled."""
    aggregate_id = str(children[0].order_id)
    for child, before in zip(children, befores, strict=True):
        payload = _payload(child, field=field, before=before, to=to, reason=reason)
        await record_event(
            conn, "order.status_changed", aggregate_type="order", aggregate_id=aggregate_id, payload=payload
        )
        if cancelled:
            payload = _payload(child, reason=reason)
            await record_event(
                conn, "order.cancelled", aggregate_type="order", aggregate_id=aggregate_id, payload=payload
            )


def _payload(child: LockedChild, **extra: Any) -> dict[str, Any]:
    base = {
        "order_id": str(child.order_id),
        "seller_order_id": str(child.id),
        "seller_id": str(child.seller_id),
        "user_id": child.user_id,
        "number": child.number,
        "version": child.version + 1,
    }
    if "before" in extra:
        extra["from"] = extra.pop("before")
    return base | extra


async def _rederive_parent(conn: AsyncConnection, order_id: UUID, party: Party, reason: str | None) -> None:
    derived = rules.derive_parent_status(await repo_lifecycle.child_statuses(conn, order_id))
    if await repo_lifecycle.set_parent_status(conn, order_id, derived):
        await repo_lifecycle.insert_history(
            conn,
            order_id,
            "status",
            [(None, None)],
            derived,
            actor_id=party.actor_id,
            actor_role=party.actor,
            reason=reason,
        )
