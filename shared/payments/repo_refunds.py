"""SQL for refunds; each constant sits right before the one function that runs it.

A refund row is written REQUESTED (with its lines and per-child claims) before the gateway is
called, and completed conditionally (`WHERE status = 'REQUESTED'`) once: by the request that
called the gateway, or by the reconciler.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.payments.models import RefundChildRow, RefundLineRow, RefundRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from shared.payments.models import PaymentRow
    from shared.payments.rules import RefundPlan

# The refund, its lines and its per-child claims in one statement.
INSERT_REFUND = """
WITH refund AS (
    INSERT INTO refunds (payment_id, order_id, amount, currency, restock, reason, actor_id, actor_role,
                         next_attempt_at)
    VALUES (%(payment_id)s, %(order_id)s, %(amount)s, %(currency)s, %(restock)s, %(reason)s, %(actor_id)s,
            %(actor_role)s, %(next_attempt_at)s)
    RETURNING id
), lines AS (
    INSERT INTO refund_lines (refund_id, order_item_id, seller_order_id, quantity, amount)
    SELECT refund.id, l.item_id, l.seller_order_id, l.quantity, l.amount
    FROM refund, jsonb_to_recordset(%(lines)s) AS l(item_id uuid, seller_order_id uuid, quantity int, amount numeric)
), children AS (
    INSERT INTO refund_children (refund_id, seller_order_id, amount, whole)
    SELECT refund.id, c.seller_order_id, c.amount, c.whole
    FROM refund, jsonb_to_recordset(%(children)s) AS c(seller_order_id uuid, amount numeric, whole boolean)
)
SELECT id FROM refund
"""


async def insert_refund(
    conn: AsyncConnection,
    payment: PaymentRow,
    plan: RefundPlan,
    *,
    restock: bool,
    reason: str | None,
    actor: tuple[str, str],
    next_attempt_at: datetime,
) -> UUID:
    lines = [{"item_id": i, "seller_order_id": c, "quantity": q, "amount": a} for i, c, q, a in plan.lines]
    children = [
        {"seller_order_id": claim.seller_order_id, "amount": claim.amount, "whole": claim.seller_order_id in plan.whole}
        for claim in plan.claims
    ]
    params = {
        "payment_id": payment.id,
        "order_id": payment.order_id,
        "amount": plan.amount,
        "currency": payment.currency,
        "restock": restock,
        "reason": reason,
        "actor_id": actor[0],
        "actor_role": actor[1],
        "next_attempt_at": next_attempt_at,
        "lines": db.json_param(lines),
        "children": db.json_param(children),
    }
    refund_id = await db.fetch_value(conn, INSERT_REFUND, params)
    assert refund_id is not None
    return refund_id


REFUND_COLUMNS = """r.id, r.payment_id, r.order_id, r.amount, r.currency, r.status, r.restock, r.reason, r.failure,
p.gateway, p.gateway_payment_id, r.created_at, r.completed_at"""
SELECT_REFUND = f"SELECT {REFUND_COLUMNS} FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = %(id)s"


async def load_refund(conn: AsyncConnection, refund_id: UUID) -> RefundRow | None:
    return await db.fetch_one(conn, SELECT_REFUND, {"id": refund_id}, RefundRow)


SELECT_IN_FLIGHT = """
SELECT coalesce(sum(amount), 0) FROM refunds WHERE payment_id = %(payment_id)s AND status = 'REQUESTED'
"""


async def in_flight_amount(conn: AsyncConnection, payment_id: UUID) -> Decimal:
    """Refunds asked of the gateway whose answer is not recorded yet."""
    return await db.fetch_value(conn, SELECT_IN_FLIGHT, {"payment_id": payment_id})


SELECT_REFUND_LINES = """
SELECT order_item_id, seller_order_id, quantity, amount FROM refund_lines WHERE refund_id = %(id)s
ORDER BY seller_order_id, order_item_id
"""


async def refund_lines(conn: AsyncConnection, refund_id: UUID) -> list[RefundLineRow]:
    return await db.fetch_all(conn, SELECT_REFUND_LINES, {"id": refund_id}, RefundLineRow)


SELECT_REFUND_CHILDREN = """
SELECT seller_order_id, amount, whole FROM refund_children WHERE refund_id = %(id)s ORDER BY seller_order_id
"""


async def refund_children(conn: AsyncConnection, refund_id: UUID) -> list[RefundChildRow]:
    return await db.fetch_all(conn, SELECT_REFUND_CHILDREN, {"id": refund_id}, RefundChildRow)


# Once: the first writer of the outcome wins; anyone after finds nothing to do.
COMPLETE_REFUND = f"""
UPDATE refunds r SET status = %(status)s, failure = %(failure)s, completed_at = %(now)s
FROM payments p
WHERE r.id = %(id)s AND r.status = 'REQUESTED' AND p.id = r.payment_id
RETURNING {REFUND_COLUMNS}
"""


async def complete_refund(
    conn: AsyncConnection, refund_id: UUID, status: str, now: datetime, failure: str | None = None
) -> RefundRow | None:
    params = {"id": refund_id, "status": status, "failure": failure and failure[:500], "now": now}
    return await db.fetch_one(conn, COMPLETE_REFUND, params, RefundRow)


# The reconciler's claim: REQUESTED refunds whose time has come, their lease moved forward so
# two runs never handle one at once.
CLAIM_STALE_REFUNDS = """
WITH due AS (
    SELECT id FROM refunds WHERE status = 'REQUESTED' AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
UPDATE refunds r SET next_attempt_at = %(lease_until)s, attempts = r.attempts + 1 FROM due WHERE r.id = due.id
RETURNING r.id, r.payment_id
"""


async def claim_stale_refunds(
    conn: AsyncConnection, now: datetime, lease_until: datetime, limit: int
) -> list[tuple[UUID, UUID]]:
    async with conn.cursor() as cur:
        await cur.execute(CLAIM_STALE_REFUNDS, {"now": now, "lease_until": lease_until, "limit": limit})
        return [(row[0], row[1]) for row in await cur.fetchall()]
