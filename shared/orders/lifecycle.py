"""Changing an order's state: seller/admin transitions, shopper cancellation, and expiry.

Every change happens under the parent's row lock, is conditional on the version the caller
read, and writes its history rows, its stock moves and its outbox events in the same
transaction. A stale version → 409 with the current one; an illegal move → 409 naming the
allowed ones.
"""

from __future__ import annotations

from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.events.repo import record_event
from shared.orders import lifecycle_repo as repo
from shared.orders import stock
from shared.orders.lifecycle_repo import LockedChild
from shared.orders.transitions import (
    TRANSITIONS,
    CancelRequest,
    Party,
    TransitionRequest,
    allowed_targets,
    derive_parent_status,
)
from shared.platform.errors import Conflict, NotFound, ValidationFailed

CANCELLED = "CANCELLED"


async def transition_child(party: Party, child_id: UUID, request: TransitionRequest) -> UUID:
    """Apply one transition to a child order; returns the parent order id."""
    if request.to not in TRANSITIONS[request.field]:
        raise ValidationFailed(f"{request.to} is not a {request.field} value", code="unknown_status")
    async with db.transaction() as conn:
        child = await repo.lock_child(conn, child_id)
        if child is None or not _may_see(party, child):
            raise NotFound(f"no seller order {child_id}", code="order_not_found")
        if child.version != request.version:
            raise Conflict(
                f"the seller order changed since version {request.version}; read it again",
                code="version_conflict",
                extra={"current_version": child.version},
            )
        current = getattr(child, request.field)
        allowed = allowed_targets(request.field, current, party.actor, child.delivery_method)
        if request.to not in allowed:
            raise Conflict(
                f"{request.field} cannot go from {current} to {request.to} for a {party.actor}",
                code="illegal_transition",
                extra={"current": current, "allowed": allowed},
            )
        await apply_change(conn, party, [child], request.field, request.to, request.reason)
    relay.relay_soon()
    return child.order_id


def _may_see(party: Party, child: LockedChild) -> bool:
    if party.actor == "admin":
        return True
    if party.actor == "seller":
        return child.seller_id == party.seller_id
    return child.user_id == party.actor_id


async def apply_change(
    conn,
    party: Party,
    children: list[LockedChild],
    field: str,
    to: str,
    reason: str | None,
    *,
    outcome: str = "RELEASED",
) -> None:
    order_id = children[0].order_id
    changes = [(child.id, getattr(child, field)) for child in children]
    changed = await repo.set_child_field(conn, field, [c for c, _ in changes], [f for _, f in changes], to)
    assert changed == len(children)  # rows are locked: nothing else can have moved them
    await repo.insert_history(
        conn, order_id, field, changes, to, actor_id=party.actor_id, actor_role=party.actor, reason=reason
    )
    for child, (_, before) in zip(children, changes, strict=False):
        await record_event(
            conn,
            "order.status_changed",
            aggregate_type="order",
            aggregate_id=str(order_id),
            payload=_payload(child, field=field, before=before, to=to, reason=reason),
        )
        if field == "status" and to == CANCELLED:
            await record_event(
                conn,
                "order.cancelled",
                aggregate_type="order",
                aggregate_id=str(order_id),
                payload=_payload(child, reason=reason),
            )
    if field == "status" and to == CANCELLED:  # one statement: offers locked in key order at once
        await stock.give_back(conn, order_id, seller_order_ids=[c for c, _ in changes], outcome=outcome)
    await _rederive_parent(conn, order_id, party, reason)


def _payload(child: LockedChild, **extra) -> dict:
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


async def _rederive_parent(conn, order_id: UUID, party: Party, reason: str | None) -> None:
    statuses = await repo.child_statuses(conn, order_id)
    derived = derive_parent_status(statuses)
    if await repo.set_parent_status(conn, order_id, derived):
        await repo.insert_history(
            conn,
            order_id,
            "status",
            [(None, None)],
            derived,
            actor_id=party.actor_id,
            actor_role=party.actor,
            reason=reason,
        )


async def cancel_order(party: Party, order_id: UUID, request: CancelRequest) -> None:
    """The shopper (or an admin) cancels every child still cancellable; all or nothing."""
    async with db.transaction() as conn:
        children = await repo.lock_order_children(conn, order_id)
        if not children or not _may_see(party, children[0]):
            raise NotFound(f"no order {order_id}", code="order_not_found")
        if children[0].order_version != request.version:
            raise Conflict(
                f"the order changed since version {request.version}; read it again",
                code="version_conflict",
                extra={"current_version": children[0].order_version},
            )
        live = [child for child in children if child.status != CANCELLED]
        stuck = [
            child.number
            for child in live
            if CANCELLED not in allowed_targets("status", child.status, party.actor, child.delivery_method)
        ]
        if stuck or not live:
            raise Conflict(
                "the order can no longer be cancelled" + (f": {', '.join(stuck)} in progress" if stuck else ""),
                code="not_cancellable",
                extra={"in_progress": stuck},
            )
        await apply_change(conn, party, live, "status", CANCELLED, request.reason or "cancelled by the customer")
    relay.relay_soon()
