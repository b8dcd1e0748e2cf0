"""SQL for reading orders: one whole order, the seller's view of a child order, and the lists
of shoppers, sellers and admins; each constant sits right before the one function that runs it.

Who may read what is decided before these run (`rules`, `service`): they take the resulting
owner or seller as a parameter. Each list is one statement, keyset by newest (created_at DESC,
id DESC); optional filters are `NULL`-tolerant parameters of one constant statement, so the
plan per call is the custom one for its values.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db, multiplexed
from shared.orders.models import (
    HistoryEntry,
    ItemRow,
    OpsOrderSummary,
    Order,
    OrderItem,
    OrderSummary,
    SellerOrder,
    SellerOrderSummary,
)
from shared.orders.models_seller import SellerOrderItem, SellerOrderView
from shared.platform.pagination import CreatedKey

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# --- one whole order -----------------------------------------------------------------------

SELECT_ORDER = """
SELECT id, number, user_id, status, payment_status, delivery_method, delivery_address, customer_notes,
       prescription_ids, currency, subtotal, tax, delivery_fee, total, expires_at, version, created_at, updated_at
FROM orders WHERE id = %(id)s"""
SELECT_CHILDREN = """
SELECT id, order_id, seller_id, number, status, delivery_status, subtotal, tax, delivery_fee, total,
       refunded_amount, version, created_at, updated_at
FROM seller_orders WHERE order_id = %(id)s ORDER BY number"""
SELECT_ITEMS = """
SELECT seller_order_id, id, line_no, variant_id, product_id, product_name_en, product_name_ar, sku,
       requires_prescription, unit_price, quantity, line_total, prescription_id, cancelled_at, refunded_quantity
FROM order_items WHERE order_id = %(id)s ORDER BY line_no"""
SELECT_HISTORY = """
SELECT seller_order_id, field, from_status, to_status, actor_role, reason, created_at
FROM order_status_history WHERE order_id = %(id)s ORDER BY id"""


async def load_order(conn: AsyncConnection, order_id: UUID) -> Order | None:
    """The order with its children, items and history: four queries in one round trip."""
    params = {"id": order_id}
    orders, children, items, history = await db.fetch_all_together(
        conn,
        (SELECT_ORDER, params, Order),
        (SELECT_CHILDREN, params, SellerOrder),
        (SELECT_ITEMS, params, ItemRow),
        (SELECT_HISTORY, params, HistoryEntry),
    )
    if not orders:
        return None
    by_child = {child.id: child for child in children}
    for item in items:
        if item.seller_order_id in by_child:
            by_child[item.seller_order_id].items.append(OrderItem(**item.model_dump(exclude={"seller_order_id"})))
    return orders[0].model_copy(update={"children": children, "history": history})


# --- a seller's child order ----------------------------------------------------------------

SELECT_SELLER_ORDER = """
SELECT so.id, so.order_id, so.seller_id, so.number, o.number AS order_number, so.status, so.delivery_status,
       o.payment_status, o.delivery_method, o.delivery_address, o.currency, so.subtotal, so.tax, so.delivery_fee,
       so.total, so.refunded_amount, so.version, so.created_at, so.updated_at
FROM seller_orders so JOIN orders o ON o.id = so.order_id
WHERE so.id = %(id)s AND (%(seller_id)s::uuid IS NULL OR so.seller_id = %(seller_id)s::uuid)
"""
# Of a line's prescription the seller gets only that it was approved, by whom and until when.
SELECT_SELLER_ORDER_ITEMS = """
SELECT i.id, i.line_no, i.variant_id, i.product_id, i.product_name_en, i.product_name_ar, i.sku,
       i.requires_prescription, i.unit_price, i.quantity, i.line_total, i.cancelled_at, i.refunded_quantity,
       CASE WHEN rx.status IN ('APPROVED', 'EXPIRED') THEN
           jsonb_build_object('approved_by', coalesce(rx.reviewer_name, u.full_name, rx.reviewer_id),
                              'approved_at', rx.reviewed_at, 'valid_until', rx.expires_on)
       END AS prescription_approval
FROM order_items i
LEFT JOIN prescriptions rx ON rx.id = i.prescription_id
LEFT JOIN users u ON u.id = rx.reviewer_id
WHERE i.seller_order_id = %(id)s ORDER BY i.line_no
"""
# The child's own rows and the parent-wide ones (placed, payment); never another child's.
SELECT_SELLER_ORDER_HISTORY = """
SELECT seller_order_id, field, from_status, to_status, actor_role, reason, created_at
FROM order_status_history
WHERE order_id = %(order_id)s AND (seller_order_id = %(id)s OR seller_order_id IS NULL)
ORDER BY id
"""


async def load_seller_order(conn: AsyncConnection, child_id: UUID, seller_id: UUID | None) -> SellerOrderView | None:
    """The child order, its items and its history; None when missing or (with `seller_id`) another seller's."""
    params = {"id": child_id, "seller_id": seller_id}
    view = await db.fetch_one(conn, SELECT_SELLER_ORDER, params, SellerOrderView)
    if view is None:
        return None
    items = await db.fetch_all(conn, SELECT_SELLER_ORDER_ITEMS, params, SellerOrderItem)
    history = await db.fetch_all(conn, SELECT_SELLER_ORDER_HISTORY, params | {"order_id": view.order_id}, HistoryEntry)
    return view.model_copy(update={"items": items, "history": history})


# --- lists ---------------------------------------------------------------------------------

# Rows strictly after the cursor's (created_at, id), newest first; no cursor: from the top.
AFTER_CURSOR = """(%(after_created_at)s::timestamptz IS NULL
       OR ({alias}.created_at, {alias}.id) < (%(after_created_at)s::timestamptz, %(after_id)s::uuid))"""

ORDER_SUMMARY_COLUMNS = """o.id, o.number, o.status, o.payment_status, o.total, o.currency, o.created_at,
       (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS item_count,
       (SELECT count(*) FROM seller_orders so WHERE so.order_id = o.id) AS seller_count"""


def page_params(after: CreatedKey, size: int) -> dict[str, object]:
    """A list's keyset parameters: the (created_at, id) the page starts after, and how many rows."""
    return {"after_created_at": after[0], "after_id": after[1], "limit": size}


LIST_MY_ORDERS = f"""
SELECT {ORDER_SUMMARY_COLUMNS}
FROM orders o
WHERE o.user_id = %(user_id)s
  AND (%(status)s::text IS NULL OR o.status = %(status)s::text)
  AND {AFTER_CURSOR.format(alias="o")}
ORDER BY o.created_at DESC, o.id DESC
LIMIT %(limit)s
"""


async def list_my_orders(user_id: str, status: str | None, after: CreatedKey, size: int) -> list[OrderSummary]:
    params = {"user_id": user_id, "status": status} | page_params(after, size)
    return await multiplexed.fetch_all(LIST_MY_ORDERS, params, OrderSummary)


LIST_SELLER_ORDERS = f"""
SELECT so.id, so.order_id, so.seller_id, so.number, o.number AS order_number, so.status, so.delivery_status,
       o.payment_status, o.delivery_method, so.total, o.currency, so.created_at,
       (SELECT count(*) FROM order_items i WHERE i.seller_order_id = so.id) AS item_count
FROM seller_orders so JOIN orders o ON o.id = so.order_id
WHERE (%(seller_id)s::uuid IS NULL OR so.seller_id = %(seller_id)s::uuid)
  AND (%(status)s::text IS NULL OR so.status = %(status)s::text)
  AND {AFTER_CURSOR.format(alias="so")}
ORDER BY so.created_at DESC, so.id DESC
LIMIT %(limit)s
"""


async def list_seller_orders(
    seller_id: UUID | None, status: str | None, after: CreatedKey, size: int
) -> list[SellerOrderSummary]:
    """One seller's child orders, or every seller's (None)."""
    params = {"seller_id": seller_id, "status": status} | page_params(after, size)
    return await multiplexed.fetch_all(LIST_SELLER_ORDERS, params, SellerOrderSummary)


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


async def list_ops_orders(
    status: str | None,
    created: tuple[datetime | None, datetime | None],
    seller: str | None,
    after: CreatedKey,
    size: int,
) -> list[OpsOrderSummary]:
    """Every order, or those created in [starts, ends) or with a child of `seller` (id or slug)."""
    starts, ends = created
    params = {"status": status, "starts": starts, "ends": ends, "seller": seller, "seller_id": _uuid_or_none(seller)}
    return await multiplexed.fetch_all(LIST_OPS_ORDERS, params | page_params(after, size), OpsOrderSummary)


def _uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None  # a slug
