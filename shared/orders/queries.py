"""Reading orders: shoppers' lists, sellers' child orders, the admins' list (one whole order is
`reads.load_order`, through `service.my_order` / `service.any_order`).

Who sees what is decided here: a shopper lists only its own orders, a seller only its own child
orders (another seller's answers 404, like a missing one), admins everything. Each list is one
statement, keyset by newest (created_at DESC, id DESC); optional filters are `NULL`-tolerant
parameters of one constant statement, so the plan per call is the custom one for its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db, multiplexed
from shared.orders import reads
from shared.orders.models import HistoryEntry, OrderItem
from shared.orders.views import (
    MyOrdersQuery,
    OpsOrderPage,
    OpsOrdersQuery,
    OpsOrderSummary,
    OrderPage,
    OrderSummary,
    SellerOrderPage,
    SellerOrdersQuery,
    SellerOrderSummary,
    SellerOrderView,
)
from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.errors import FieldError, NotFound, ValidationFailed
from shared.platform.pagination import NEWEST_FIRST, after_created, created_key_of, cut_page, fetch_size

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Rows strictly after the cursor's (created_at, id), newest first; no cursor: from the top.
AFTER_CURSOR = """(%(after_created_at)s::timestamptz IS NULL
       OR ({alias}.created_at, {alias}.id) < (%(after_created_at)s::timestamptz, %(after_id)s::uuid))"""

ORDER_SUMMARY_COLUMNS = """o.id, o.number, o.status, o.payment_status, o.total, o.currency, o.created_at,
       (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS item_count,
       (SELECT count(*) FROM seller_orders so WHERE so.order_id = o.id) AS seller_count"""

# --- shoppers ------------------------------------------------------------------------------

LIST_MY_ORDERS = f"""
SELECT {ORDER_SUMMARY_COLUMNS}
FROM orders o
WHERE o.user_id = %(user_id)s
  AND (%(status)s::text IS NULL OR o.status = %(status)s::text)
  AND {AFTER_CURSOR.format(alias="o")}
ORDER BY o.created_at DESC, o.id DESC
LIMIT %(limit)s
"""


async def list_my_orders(principal: Principal, query: MyOrdersQuery) -> OrderPage:
    params = {"user_id": principal.user_id, "status": query.status} | _page_params(query.cursor, query.limit)
    rows = await multiplexed.fetch_all(LIST_MY_ORDERS, params, OrderSummary)
    items, next_cursor = page_of(rows, query.limit)
    return OrderPage(items=items, next_cursor=next_cursor)


# --- sellers -------------------------------------------------------------------------------


def seller_scope(principal: Principal, requested: UUID | None) -> UUID | None:
    """The seller whose child orders the caller reads: a seller its own (naming another is 404),
    an admin the one it names, or every seller (None)."""
    if principal.has_any_role(ADMIN_ROLES):
        return requested
    own = UUID(principal.seller_id) if principal.seller_id else None
    if own is None or (requested is not None and requested != own):
        raise NotFound(f"no seller {requested or ''}".strip(), code="seller_not_found")
    return own


CHILD_FROM = "FROM seller_orders so JOIN orders o ON o.id = so.order_id"
CHILD_HEAD_COLUMNS = """so.id, so.order_id, so.seller_id, so.number, o.number AS order_number, so.status,
       so.delivery_status, o.payment_status, o.delivery_method"""

LIST_SELLER_ORDERS = f"""
SELECT {CHILD_HEAD_COLUMNS}, so.total, o.currency, so.created_at,
       (SELECT count(*) FROM order_items i WHERE i.seller_order_id = so.id) AS item_count
{CHILD_FROM}
WHERE (%(seller_id)s::uuid IS NULL OR so.seller_id = %(seller_id)s::uuid)
  AND (%(status)s::text IS NULL OR so.status = %(status)s::text)
  AND {AFTER_CURSOR.format(alias="so")}
ORDER BY so.created_at DESC, so.id DESC
LIMIT %(limit)s
"""


async def list_seller_orders(principal: Principal, query: SellerOrdersQuery) -> SellerOrderPage:
    seller_id = seller_scope(principal, query.seller)
    params = {"seller_id": seller_id, "status": query.status} | _page_params(query.cursor, query.limit)
    rows = await multiplexed.fetch_all(LIST_SELLER_ORDERS, params, SellerOrderSummary)
    items, next_cursor = page_of(rows, query.limit)
    return SellerOrderPage(items=items, next_cursor=next_cursor)


SELECT_SELLER_ORDER = f"""
SELECT {CHILD_HEAD_COLUMNS}, o.delivery_address, o.currency, so.subtotal, so.tax, so.delivery_fee, so.total,
       so.version, so.created_at, so.updated_at
{CHILD_FROM}
WHERE so.id = %(id)s AND (%(seller_id)s::uuid IS NULL OR so.seller_id = %(seller_id)s::uuid)
"""
SELECT_SELLER_ORDER_ITEMS = f"""
SELECT {reads.ITEM_COLUMNS} FROM order_items WHERE seller_order_id = %(id)s ORDER BY line_no
"""
# The child's own rows and the parent-wide ones (placed, payment); never another child's.
SELECT_SELLER_ORDER_HISTORY = f"""
SELECT {reads.HISTORY_COLUMNS} FROM order_status_history
WHERE order_id = %(order_id)s AND (seller_order_id = %(id)s OR seller_order_id IS NULL)
ORDER BY id
"""


async def seller_order(principal: Principal, seller_order_id: UUID) -> SellerOrderView:
    """A child order as its seller sees it; another seller's (or a missing one) is 404."""
    params = {"id": seller_order_id, "seller_id": seller_scope(principal, None)}
    async with db.connection(read_only=True) as conn:
        view = await load_seller_order(conn, params)
    if view is None:
        raise NotFound(f"no seller order {seller_order_id}", code="seller_order_not_found")
    return view


async def load_seller_order(conn: AsyncConnection, params: dict[str, Any]) -> SellerOrderView | None:
    view = await db.fetch_one(conn, SELECT_SELLER_ORDER, params, SellerOrderView)
    if view is None:
        return None
    items = await db.fetch_all(conn, SELECT_SELLER_ORDER_ITEMS, params, OrderItem)
    history = await db.fetch_all(conn, SELECT_SELLER_ORDER_HISTORY, params | {"order_id": view.order_id}, HistoryEntry)
    return view.model_copy(update={"items": items, "history": history})


# --- admins --------------------------------------------------------------------------------

LIST_OPS_ORDERS = f"""
SELECT {ORDER_SUMMARY_COLUMNS}, o.user_id, o.delivery_method
FROM orders o
WHERE (%(status)s::text IS NULL OR o.status = %(status)s::text)
  AND (%(starts)s::timestamptz IS NULL OR o.created_at >= %(starts)s::timestamptz)
  AND (%(ends)s::timestamptz IS NULL OR o.created_at < %(ends)s::timestamptz)
  AND (%(seller)s::text IS NULL OR EXISTS (
        SELECT 1 FROM seller_orders so JOIN sellers s ON s.id = so.seller_id
        WHERE so.order_id = o.id AND (s.slug = %(seller)s::text OR s.id = %(seller_id)s::uuid)))
  AND {AFTER_CURSOR.format(alias="o")}
ORDER BY o.created_at DESC, o.id DESC
LIMIT %(limit)s
"""


async def list_ops_orders(query: OpsOrdersQuery) -> OpsOrderPage:
    starts, ends = day_bounds(query.from_, query.to)
    params = {
        "status": query.status,
        "starts": starts,
        "ends": ends,
        "seller": query.seller,
        "seller_id": _uuid_or_none(query.seller),
    } | _page_params(query.cursor, query.limit)
    rows = await multiplexed.fetch_all(LIST_OPS_ORDERS, params, OpsOrderSummary)
    items, next_cursor = page_of(rows, query.limit)
    return OpsOrderPage(items=items, next_cursor=next_cursor)


# --- shared pieces -------------------------------------------------------------------------


def _page_params(cursor: str | None, limit: int) -> dict[str, Any]:
    after_created_at, after_id = after_created(cursor, NEWEST_FIRST)
    return {"after_created_at": after_created_at, "after_id": after_id, "limit": fetch_size(limit)}


def page_of(rows: Sequence[Any], limit: int) -> tuple[list[Any], str | None]:
    return cut_page(rows, limit, order=NEWEST_FIRST, key_of=created_key_of)


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """[first 00:00 UTC, the day after last 00:00 UTC); a range that ends before it starts is 422."""
    if first is not None and last is not None and first > last:
        raise ValidationFailed(
            "`from` is after `to`",
            code="invalid_date_range",
            errors=[FieldError("from", "must not be after `to`", "invalid_date_range")],
        )
    starts = datetime.combine(first, time.min, UTC) if first else None
    ends = datetime.combine(last + timedelta(days=1), time.min, UTC) if last else None
    return starts, ends


def _uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None  # a slug
