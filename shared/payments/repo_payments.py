"""SQL for payment rows; each constant sits right before the one function that runs it.

A payment is written conditionally everywhere: the live-attempt INSERT relies on the partial
unique index (one INITIATED/PENDING payment per order), and status moves name the version read
under the row lock.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.payments.models import PaymentReview, PaymentRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

COLUMNS = """id, order_id, gateway, gateway_payment_id, amount, currency, status, method, checkout_url,
publishable_key, paid_at, refunded_amount, needs_review, review_reason, version, created_at, updated_at"""

# Nothing back = the order already has a live payment (its index refused this one).
INSERT_LIVE_PAYMENT = f"""
INSERT INTO payments (order_id, gateway, amount, currency) VALUES (%(order_id)s, %(gateway)s, %(amount)s, %(currency)s)
ON CONFLICT (order_id) WHERE status IN ('INITIATED', 'PENDING') DO NOTHING
RETURNING {COLUMNS}
"""


async def insert_live_payment(
    conn: AsyncConnection, order_id: UUID, gateway: str, amount: Decimal, currency: str
) -> PaymentRow | None:
    params = {"order_id": order_id, "gateway": gateway, "amount": amount, "currency": currency}
    return await db.fetch_one(conn, INSERT_LIVE_PAYMENT, params, PaymentRow)


SELECT_LIVE_PAYMENT = f"""
SELECT {COLUMNS} FROM payments WHERE order_id = %(order_id)s AND status IN ('INITIATED', 'PENDING')
"""


async def live_payment(conn: AsyncConnection, order_id: UUID) -> PaymentRow | None:
    return await db.fetch_one(conn, SELECT_LIVE_PAYMENT, {"order_id": order_id}, PaymentRow)


# An attempt whose gateway call never answered (its process died): taken over by the next one,
# conditional on the version read, so two takers cannot both win.
TAKE_OVER_STALE = f"""
UPDATE payments SET version = version + 1, created_at = now(), updated_at = now()
WHERE id = %(id)s AND version = %(version)s AND status = 'INITIATED' AND gateway_payment_id IS NULL
  AND created_at < %(stale_before)s
RETURNING {COLUMNS}
"""


async def take_over_stale(conn: AsyncConnection, payment: PaymentRow, stale_before: datetime) -> PaymentRow | None:
    params = {"id": payment.id, "version": payment.version, "stale_before": stale_before}
    return await db.fetch_one(conn, TAKE_OVER_STALE, params, PaymentRow)


RECORD_CHECKOUT = f"""
UPDATE payments SET gateway_payment_id = %(gateway_payment_id)s, checkout_url = %(checkout_url)s,
                    publishable_key = %(publishable_key)s, raw = %(raw)s, version = version + 1, updated_at = now(),
                    status = CASE WHEN status = 'INITIATED' THEN 'PENDING' ELSE status END
WHERE id = %(id)s AND gateway_payment_id IS NULL
RETURNING {COLUMNS}
"""


async def record_checkout(conn: AsyncConnection, payment_id: UUID, checkout: Any) -> PaymentRow | None:
    """The gateway's answer on our row (conditional: once); None when another writer got there."""
    params = {
        "id": payment_id,
        "gateway_payment_id": checkout.gateway_payment_id,
        "checkout_url": checkout.checkout_url,
        "publishable_key": checkout.publishable_key,
        "raw": db.json_param(checkout.raw),
    }
    return await db.fetch_one(conn, RECORD_CHECKOUT, params, PaymentRow)


# The gateway refused to create it: the attempt is over, the order may be paid by a new one.
FAIL_INITIATED = """
UPDATE payments SET status = 'FAILED', version = version + 1, updated_at = now(), raw = %(raw)s
WHERE id = %(id)s AND status = 'INITIATED' AND gateway_payment_id IS NULL
"""


async def fail_initiated(conn: AsyncConnection, payment_id: UUID, reason: str) -> None:
    await db.execute(conn, FAIL_INITIATED, {"id": payment_id, "raw": db.json_param({"error": reason})})


SELECT_PAYMENT = f"SELECT {COLUMNS} FROM payments WHERE id = %(id)s"


async def payment(conn: AsyncConnection, payment_id: UUID) -> PaymentRow | None:
    return await db.fetch_one(conn, SELECT_PAYMENT, {"id": payment_id}, PaymentRow)


# The payment an event is about: by the gateway's id, else by our id in the metadata we sent
# (a webhook may arrive before our row has the gateway's id). Locked: one event at a time.
LOCK_FOR_EVENT = f"""
SELECT {COLUMNS} FROM payments
WHERE (gateway = %(gateway)s AND gateway_payment_id = %(gateway_payment_id)s) OR id = %(our_id)s
ORDER BY gateway_payment_id IS NULL LIMIT 1
FOR NO KEY UPDATE
"""


async def lock_for_event(
    conn: AsyncConnection, gateway: str, gateway_payment_id: str, our_id: UUID | None
) -> PaymentRow | None:
    params = {"gateway": gateway, "gateway_payment_id": gateway_payment_id, "our_id": our_id}
    return await db.fetch_one(conn, LOCK_FOR_EVENT, params, PaymentRow)


MOVE_STATUS = f"""
UPDATE payments SET status = %(to)s, method = coalesce(%(method)s, method), raw = %(raw)s,
                    gateway_payment_id = coalesce(gateway_payment_id, %(gateway_payment_id)s),
                    paid_at = CASE WHEN %(to)s IN ('PAID', 'CAPTURED') THEN coalesce(paid_at, %(now)s) ELSE paid_at END,
                    version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s
RETURNING {COLUMNS}
"""


async def move_status(
    conn: AsyncConnection, payment: PaymentRow, to: str, fetched: Any, now: datetime
) -> PaymentRow | None:
    """Conditional on the version read under lock; None when it moved meanwhile."""
    params = {
        "id": payment.id,
        "version": payment.version,
        "to": to,
        "method": fetched.method,
        "raw": db.json_param(fetched.raw),
        "gateway_payment_id": fetched.gateway_payment_id,
        "now": now,
    }
    return await db.fetch_one(conn, MOVE_STATUS, params, PaymentRow)


FLAG_FOR_REVIEW = """
UPDATE payments SET needs_review = true, review_reason = %(reason)s, raw = coalesce(%(raw)s, raw),
                    version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s
"""


async def flag_for_review(
    conn: AsyncConnection, payment: PaymentRow, reason: str, raw: dict[str, Any] | None = None
) -> bool:
    """Conditional on the version read under lock; `raw` (the gateway's answer) kept when None."""
    params = {
        "id": payment.id,
        "version": payment.version,
        "reason": reason[:500],
        "raw": None if raw is None else db.json_param(raw),
    }
    return await db.execute(conn, FLAG_FOR_REVIEW, params) == 1


ADD_REFUNDED = f"""
UPDATE payments SET refunded_amount = refunded_amount + %(amount)s,
                    status = CASE WHEN refunded_amount + %(amount)s >= amount THEN 'REFUNDED'
                                  ELSE 'PARTIALLY_REFUNDED' END,
                    version = version + 1, updated_at = now()
WHERE id = %(id)s
RETURNING {COLUMNS}
"""


async def add_refunded(conn: AsyncConnection, payment_id: UUID, amount: Decimal) -> PaymentRow | None:
    """Money the gateway gave back; the CHECK refuses more than was paid."""
    return await db.fetch_one(conn, ADD_REFUNDED, {"id": payment_id, "amount": amount}, PaymentRow)


# The payment a refund of the order draws on, locked: refunds of one order run one at a time.
LOCK_REFUNDABLE = f"""
SELECT {COLUMNS} FROM payments
WHERE order_id = %(order_id)s AND status = ANY(%(statuses)s) AND gateway_payment_id IS NOT NULL
ORDER BY paid_at LIMIT 1
FOR NO KEY UPDATE
"""


async def lock_refundable(conn: AsyncConnection, order_id: UUID, statuses: tuple[str, ...]) -> PaymentRow | None:
    params = {"order_id": order_id, "statuses": list(statuses)}
    return await db.fetch_one(conn, LOCK_REFUNDABLE, params, PaymentRow)


SELECT_FOR_REVIEW = """
SELECT id, order_id, gateway, gateway_payment_id, status, amount, currency, review_reason, raw, created_at, updated_at
FROM payments
WHERE needs_review AND (created_at, id) > (%(after_created)s, %(after_id)s)
ORDER BY created_at, id LIMIT %(limit)s
"""


async def payments_for_review(conn: AsyncConnection, after: tuple[datetime, UUID], limit: int) -> list[PaymentReview]:
    params = {"after_created": after[0], "after_id": after[1], "limit": limit}
    return await db.fetch_all(conn, SELECT_FOR_REVIEW, params, PaymentReview)
