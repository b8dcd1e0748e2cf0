"""Order reads and writes for the HTTP triggers: who may see what, and placing."""

from __future__ import annotations

from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.orders import lifecycle, lifecycle_repo, placement, reads
from shared.orders.models import Order, PlaceOrder
from shared.orders.transitions import CancelRequest, Party, TransitionRequest, TransitionResult
from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.errors import MalformedRequest, NotFound

IDEMPOTENCY_KEY_MAX = 255


def idempotency_key(header: str | None) -> str:
    key = (header or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise MalformedRequest(
            "send an Idempotency-Key header (1-255 characters, e.g. a UUID) with every order",
            code="idempotency_key_required",
        )
    return key


async def place(principal: Principal, body: PlaceOrder, key_header: str | None) -> tuple[Order, bool]:
    placed = await placement.place_order(principal, body, idempotency_key(key_header))
    if not placed.replayed:
        relay.relay_soon()  # order.placed goes out now, in the background; the timer sweep is the safety net
    return await my_order(principal, placed.order_id), placed.replayed


async def my_order(principal: Principal, order_id: UUID) -> Order:
    """A shopper's own order; anyone else's answers 404, like a missing one."""
    return await _visible_order(order_id, owner=principal.user_id)


async def any_order(order_id: UUID) -> Order:
    return await _visible_order(order_id, owner=None)


async def _visible_order(order_id: UUID, *, owner: str | None) -> Order:
    async with db.connection(read_only=True) as conn:
        order = await reads.load_order(conn, order_id)
    if order is None or (owner is not None and order.user_id != owner):
        raise NotFound(f"no order {order_id}", code="order_not_found")
    return order


async def cancel_my_order(principal: Principal, order_id: UUID, body: CancelRequest) -> Order:
    await lifecycle.cancel_order(Party.of(principal, as_seller=False), order_id, body)
    owner = None if principal.has_any_role(ADMIN_ROLES) else principal.user_id
    return await _visible_order(order_id, owner=owner)


async def transition(principal: Principal, child_id: UUID, body: TransitionRequest) -> TransitionResult:
    await lifecycle.transition_child(Party.of(principal, as_seller=True), child_id, body)
    async with db.connection() as conn:
        state = await lifecycle_repo.child_state(conn, child_id)
    assert state is not None
    return state
