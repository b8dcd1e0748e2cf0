"""SQL for the dashboards: order figures over a date range, for the whole marketplace or one
seller; each constant sits right before the one function that runs it.

Each is ONE statement: a `scoped` CTE picks the rows (parent orders, or one seller's child
orders) and a shared tail computes every figure from it, so the cost is one round trip however
many orders, statuses or products the range holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.orders.models import StatsRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# `scoped` (id, status, payment_status, total) is defined by each query; `sold` are the child
# orders whose items count as sold. A cancelled order earns nothing, even if it was paid.
STATS_TAIL = """
, figures AS (
    SELECT count(*) FILTER (WHERE status <> 'CANCELLED') AS orders,
           coalesce(sum(total) FILTER (WHERE payment_status = 'PAID' AND status <> 'CANCELLED'), 0.00) AS revenue,
           round(avg(total) FILTER (WHERE status <> 'CANCELLED'), 2) AS average_order_value
    FROM scoped
), by_status AS (
    SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) AS orders_by_status
    FROM (SELECT status, count(*) AS n FROM scoped GROUP BY status) counted
), ranked AS (
    SELECT i.product_id, sum(i.quantity) AS units, sum(i.line_total) AS revenue
    FROM sold JOIN order_items i ON i.seller_order_id = sold.id
    GROUP BY i.product_id
    ORDER BY units DESC, i.product_id
    LIMIT 10
), top AS (
    -- money as text inside JSON: a JSON number would come back as a float
    SELECT coalesce(jsonb_agg(jsonb_build_object('product_id', r.product_id, 'name_en', p.name_en,
                                                 'name_ar', p.name_ar, 'units', r.units,
                                                 'revenue', r.revenue::text)
                              ORDER BY r.units DESC, r.product_id), '[]'::jsonb) AS top_products
    FROM ranked r JOIN products p ON p.id = r.product_id
)
SELECT figures.orders, figures.revenue, figures.average_order_value, by_status.orders_by_status,
       top.top_products
FROM figures, by_status, top"""

MARKETPLACE_STATS = (
    """
WITH scoped AS (
    SELECT id, status, payment_status, total FROM orders
    WHERE created_at >= %(starts)s AND created_at < %(ends)s
), sold AS (
    SELECT so.id FROM scoped o JOIN seller_orders so ON so.order_id = o.id
    WHERE o.status <> 'CANCELLED' AND so.status <> 'CANCELLED'
)"""
    + STATS_TAIL
)


async def marketplace_stats(conn: AsyncConnection, starts: datetime, ends: datetime) -> StatsRow:
    row = await db.fetch_one(conn, MARKETPLACE_STATS, {"starts": starts, "ends": ends}, StatsRow)
    assert row is not None  # aggregates always give one row
    return row


# A seller's child orders, with the payment status of their parents. No row: no such seller.
SELLER_STATS = (
    """
WITH seller AS (
    SELECT id FROM sellers WHERE id = %(seller_id)s
), scoped AS (
    SELECT so.id, so.status, o.payment_status, so.total
    FROM seller_orders so JOIN orders o ON o.id = so.order_id
    WHERE so.seller_id = %(seller_id)s AND so.created_at >= %(starts)s AND so.created_at < %(ends)s
), sold AS (
    SELECT id FROM scoped WHERE status <> 'CANCELLED'
)"""
    + STATS_TAIL
    + ", seller"
)


async def seller_stats(conn: AsyncConnection, seller_id: UUID, starts: datetime, ends: datetime) -> StatsRow | None:
    """None when there is no such seller."""
    params = {"seller_id": seller_id, "starts": starts, "ends": ends}
    return await db.fetch_one(conn, SELLER_STATS, params, StatsRow)
