"""SQL for what payments do to orders; each constant sits right before the one function that
runs it. Every statement runs in the payments domain's transaction (the payment row is locked
first, then the order, its children and items, then offers: the order every writer keeps).

Refunds claim units and money with conditional writes, and the CHECKs of migration 0007
(`refunded_quantity <= quantity`, `refunded_amount <= total`) refuse what would go beyond.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.orders.models_payment import ChildClaim, OrderForPayment, PayableOrder, RefundableItem, RefundUnits

if TYPE_CHECKING:
    from psycopg import AsyncConnection

SELECT_PAYABLE_ORDER = """
SELECT id, number, user_id, status, payment_status, currency, total, expires_at FROM orders WHERE id = %(id)s
"""


async def payable_order(conn: AsyncConnection, order_id: UUID) -> PayableOrder | None:
    return await db.fetch_one(conn, SELECT_PAYABLE_ORDER, {"id": order_id}, PayableOrder)


# The parent under lock; `expired_by_timer`: the expiry timer (not a person) cancelled it.
LOCK_ORDER_FOR_PAYMENT = """
SELECT o.id, o.user_id, o.status, o.payment_status,
       EXISTS (SELECT FROM order_status_history h
               WHERE h.order_id = o.id AND h.actor_id = %(expiry_actor)s AND h.to_status = 'CANCELLED')
           AS expired_by_timer
FROM orders o WHERE o.id = %(id)s FOR NO KEY UPDATE
"""


async def lock_order(conn: AsyncConnection, order_id: UUID, expiry_actor: str) -> OrderForPayment | None:
    params = {"id": order_id, "expiry_actor": expiry_actor}
    return await db.fetch_one(conn, LOCK_ORDER_FOR_PAYMENT, params, OrderForPayment)


SET_PAYMENT_STATUS = """
UPDATE orders SET payment_status = %(to)s, version = version + 1, updated_at = now()
WHERE id = %(id)s AND payment_status = ANY(%(from)s)
RETURNING 1
"""


async def set_payment_status(conn: AsyncConnection, order_id: UUID, from_values: list[str], to: str) -> bool:
    params = {"id": order_id, "from": from_values, "to": to}
    return await db.fetch_value(conn, SET_PAYMENT_STATUS, params) is not None


SELECT_UNITS_PER_OFFER = """
SELECT offer_id, sum(quantity)::int FROM order_items WHERE order_id = %(id)s GROUP BY offer_id
"""


async def units_per_offer(conn: AsyncConnection, order_id: UUID) -> dict[UUID, int]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_UNITS_PER_OFFER, {"id": order_id})
        return {row[0]: row[1] for row in await cur.fetchall()}


# After `reserve_offers` took the units again: the order's expired reservations hold them.
REACTIVATE_EXPIRED_RESERVATIONS = """
UPDATE reservations r SET status = 'ACTIVE', expires_at = %(until)s, updated_at = now()
FROM order_items i
WHERE r.order_item_id = i.id AND i.order_id = %(id)s AND r.status = 'EXPIRED'
"""


async def reactivate_expired_reservations(conn: AsyncConnection, order_id: UUID, until: datetime) -> int:
    return await db.execute(conn, REACTIVATE_EXPIRED_RESERVATIONS, {"id": order_id, "until": until})


# Every item of the order that `id` names (the order itself or one of its child orders).
SELECT_REFUNDABLE_ITEMS = """
SELECT i.id, i.order_id, i.seller_order_id, c.seller_id, i.unit_price, i.quantity, i.refunded_quantity,
       i.line_total, c.subtotal AS child_subtotal, c.tax AS child_tax, c.delivery_fee AS child_delivery_fee,
       c.total AS child_total, c.refunded_amount AS child_refunded_amount
FROM order_items i JOIN seller_orders c ON c.id = i.seller_order_id
WHERE i.order_id = coalesce((SELECT order_id FROM seller_orders WHERE id = %(id)s), %(id)s)
ORDER BY i.line_no
"""


async def refundable_items(conn: AsyncConnection, order_or_child_id: UUID) -> list[RefundableItem]:
    return await db.fetch_all(conn, SELECT_REFUNDABLE_ITEMS, {"id": order_or_child_id}, RefundableItem)


# Conditional: a line (or child order) that would go beyond what was bought (or its total) is
# not claimed, and the CHECKs of order_items and seller_orders refuse it anyway. Fewer rows
# than asked = the caller rolls back. `sign` -1 gives a refused refund's claims back.
CLAIM_REFUND = """
WITH units AS (
    UPDATE order_items i SET refunded_quantity = i.refunded_quantity + %(sign)s * w.quantity
    FROM jsonb_to_recordset(%(lines)s) AS w(item_id uuid, quantity int)
    WHERE i.id = w.item_id AND i.refunded_quantity + %(sign)s * w.quantity <= i.quantity
    RETURNING i.id
), amounts AS (
    UPDATE seller_orders c SET refunded_amount = c.refunded_amount + %(sign)s * w.amount, updated_at = now()
    FROM jsonb_to_recordset(%(claims)s) AS w(seller_order_id uuid, amount numeric)
    WHERE c.id = w.seller_order_id AND c.refunded_amount + %(sign)s * w.amount <= c.total
    RETURNING c.id
)
SELECT (SELECT count(*) FROM units) = %(lines_count)s AND (SELECT count(*) FROM amounts) = %(claims_count)s
"""


async def claim_refund(conn: AsyncConnection, lines: list[RefundUnits], claims: list[ChildClaim], sign: int) -> bool:
    """True when every line and every child order took its part (sign 1: claim, -1: give back)."""
    params = {
        "sign": sign,
        "lines": db.json_param([line.model_dump() for line in lines]),
        "claims": db.json_param([claim.model_dump() for claim in claims]),
        "lines_count": len(lines),
        "claims_count": len(claims),
    }
    return bool(await db.fetch_value(conn, CLAIM_REFUND, params))


# Refunded units back on the shelf: only units that left it (CONSUMED reservations), at most
# once each (`restocked`), offers locked in key order. Returns how many went back.
RESTOCK_REFUNDED = """
WITH wanted AS (
    SELECT item_id, quantity FROM jsonb_to_recordset(%(lines)s) AS w(item_id uuid, quantity int)
), moved AS (
    UPDATE reservations r SET restocked = r.restocked + w.quantity, updated_at = now()
    FROM wanted w
    WHERE r.order_item_id = w.item_id AND r.status = 'CONSUMED' AND r.restocked + w.quantity <= r.quantity
    RETURNING r.offer_id, w.quantity
), per_offer AS (
    SELECT offer_id, sum(quantity)::int AS quantity FROM moved GROUP BY offer_id
), locked AS (
    SELECT o.id FROM offers o WHERE o.id IN (SELECT offer_id FROM per_offer) ORDER BY o.id FOR NO KEY UPDATE
)
UPDATE offers o SET on_hand = o.on_hand + p.quantity, updated_at = now()
FROM per_offer p WHERE o.id = p.offer_id AND o.id IN (SELECT id FROM locked)
RETURNING p.quantity
"""


async def restock_refunded(conn: AsyncConnection, lines: list[RefundUnits]) -> int:
    params = {"lines": db.json_param([line.model_dump() for line in lines])}
    async with conn.cursor() as cur:
        await cur.execute(RESTOCK_REFUNDED, params)
        return sum(row[0] for row in await cur.fetchall())
