"""SQL of order requests; each constant sits right before the one function that runs it.

Every status change is one conditional UPDATE `… WHERE status = 'PENDING'`: of two decisions
racing on one request, the second waits for the first's row lock, then finds the row no longer
PENDING and changes nothing (PostgreSQL re-checks the WHERE on the new row version)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.thread_orders.models import OrderRequest

if TYPE_CHECKING:
    from psycopg import AsyncConnection

COLUMNS = """id, thread_id, seller_id, status, lines, subtotal, currency, note, valid_until, order_id, decided_at,
             version, created_at, updated_at"""

# A retry with the same client id finds nothing here and reads the first one instead.
INSERT_REQUEST = f"""
INSERT INTO order_requests (thread_id, seller_id, shopper_id, proposed_by, client_id, lines, subtotal, currency, note,
                            valid_until, created_at, updated_at)
VALUES (%(thread_id)s, %(seller_id)s, %(shopper_id)s, %(proposed_by)s, %(client_id)s, %(lines)s, %(subtotal)s,
        %(currency)s, %(note)s, %(valid_until)s, %(now)s, %(now)s)
ON CONFLICT (thread_id, client_id) DO NOTHING
RETURNING {COLUMNS}
"""


async def insert_request(conn: AsyncConnection, params: dict[str, Any]) -> OrderRequest | None:
    params = params | {"lines": db.json_param(params["lines"])}
    return await db.fetch_one(conn, INSERT_REQUEST, params, OrderRequest)


SELECT_BY_CLIENT_ID = (
    f"SELECT {COLUMNS} FROM order_requests WHERE thread_id = %(thread_id)s AND client_id = %(client_id)s"
)


async def request_by_client_id(conn: AsyncConnection, thread_id: UUID, client_id: str) -> OrderRequest | None:
    return await db.fetch_one(conn, SELECT_BY_CLIENT_ID, {"thread_id": thread_id, "client_id": client_id}, OrderRequest)


SELECT_REQUEST = f"SELECT {COLUMNS} FROM order_requests WHERE id = %(id)s AND thread_id = %(thread_id)s"


async def load_request(conn: AsyncConnection, thread_id: UUID, request_id: UUID) -> OrderRequest | None:
    return await db.fetch_one(conn, SELECT_REQUEST, {"id": request_id, "thread_id": thread_id}, OrderRequest)


# Takes the request for an acceptance: locked until COMMIT, still PENDING and still valid. A
# concurrent acceptance waits here, then finds it ACCEPTED (or PENDING again if this one rolled
# back, stock being short).
CLAIM_PENDING = f"""
UPDATE order_requests SET version = version + 1, updated_at = %(now)s
WHERE id = %(id)s AND thread_id = %(thread_id)s AND status = 'PENDING' AND valid_until > %(now)s
RETURNING {COLUMNS}
"""


async def claim_pending(conn: AsyncConnection, thread_id: UUID, request_id: UUID, now: datetime) -> OrderRequest | None:
    params = {"id": request_id, "thread_id": thread_id, "now": now}
    return await db.fetch_one(conn, CLAIM_PENDING, params, OrderRequest)


# Only after CLAIM_PENDING in the same transaction (the row is locked and PENDING).
MARK_ACCEPTED = f"""
UPDATE order_requests SET status = 'ACCEPTED', order_id = %(order_id)s, decided_by = %(by)s, decided_at = %(now)s
WHERE id = %(id)s AND status = 'PENDING'
RETURNING {COLUMNS}
"""


async def mark_accepted(
    conn: AsyncConnection, request_id: UUID, order_id: UUID, by: str, now: datetime
) -> OrderRequest:
    params = {"id": request_id, "order_id": order_id, "by": by, "now": now}
    accepted = await db.fetch_one(conn, MARK_ACCEPTED, params, OrderRequest)
    assert accepted is not None  # claimed and locked by this transaction
    return accepted


DECIDE = f"""
UPDATE order_requests
SET status = %(status)s, decided_by = %(by)s, decided_at = %(now)s, version = version + 1, updated_at = %(now)s
WHERE id = %(id)s AND thread_id = %(thread_id)s AND status = 'PENDING'
RETURNING {COLUMNS}
"""


async def decide(
    conn: AsyncConnection, thread_id: UUID, request_id: UUID, status: str, by: str, now: datetime
) -> OrderRequest | None:
    """DECLINED or CANCELLED, from PENDING only; None when it was not PENDING (or not there)."""
    params = {"id": request_id, "thread_id": thread_id, "status": status, "by": by, "now": now}
    return await db.fetch_one(conn, DECIDE, params, OrderRequest)


# One batch of the expiry timer: rows another run (or an acceptance) holds are skipped.
EXPIRE_BATCH = f"""
UPDATE order_requests
SET status = 'EXPIRED', decided_by = 'system:expiry', decided_at = %(now)s, version = version + 1,
    updated_at = %(now)s
WHERE id IN (SELECT id FROM order_requests WHERE status = 'PENDING' AND valid_until <= %(now)s
             ORDER BY valid_until LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
  AND status = 'PENDING'
RETURNING {COLUMNS}
"""


async def expire_batch(conn: AsyncConnection, now: datetime, limit: int) -> list[OrderRequest]:
    return await db.fetch_all(conn, EXPIRE_BATCH, {"now": now, "limit": limit}, OrderRequest)


# --- ORDER threads -------------------------------------------------------------------------

# The child order's ORDER thread, if its first message has been posted (threads_one_per_order).
SELECT_ORDER_THREAD = "SELECT id FROM threads WHERE kind = 'ORDER' AND order_id = %(order_id)s"


async def order_thread_id(conn: AsyncConnection, seller_order_id: UUID) -> UUID | None:
    return await db.fetch_value(conn, SELECT_ORDER_THREAD, {"order_id": seller_order_id})
