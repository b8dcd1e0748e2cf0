"""Order reads and writes for the HTTP triggers: who may see what, and placing."""

from __future__ import annotations

from uuid import UUID

from shared import db
from shared.auth import Principal
from shared.errors import MalformedRequest, NotFound
from shared.orders import placement, reads
from shared.orders.models import Order, PlaceOrder

IDEMPOTENCY_KEY_MAX = 255


def idempotency_key(header: str | None) -> str:
    key = (header or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise MalformedRequest("send an Idempotency-Key header (1-255 characters, e.g. a UUID) with every order",
                               code="idempotency_key_required")
    return key


async def place(principal: Principal, body: PlaceOrder, key_header: str | None) -> tuple[Order, bool]:
    placed = await placement.place_order(principal, body, idempotency_key(key_header))
    return await my_order(principal, placed.order_id), placed.replayed


async def my_order(principal: Principal, order_id: UUID) -> Order:
    """A shopper's own order; anyone else's answers 404, like a missing one."""
    async with db.connection(read_only=True) as conn:
        order = await reads.load_order(conn, order_id)
    if order is None or order.user_id != principal.user_id:
        raise NotFound(f"no order {order_id}", code="order_not_found")
    return order
