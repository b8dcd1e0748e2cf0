"""SQL for the dashboards: order figures over a date range, for the whole marketplace or one
seller; each constant sits right before the one function that runs it.

Each is ONE statement: CTEs count the rows by status pair and list the lines sold, from the
closed days' kept figures and the other days' orders (parent orders, or one seller's child
orders), and a shared tail computes every figure from them, so the cost is one round trip
however many orders, statuses or products the range holds.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.orders.models import StatsRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Each query defines `counted` (status, payment_status, orders, total) and `sold_lines`
# (product_id, units, revenue): the lines whose units count as sold. A cancelled order earns
# nothing, even if it was paid.
STATS_TAIL = """
, figures AS (
    SELECT coalesce(sum(orders) FILTER (WHERE status <> 'CANCELLED'), 0)::bigint AS orders,
           coalesce(sum(total) FILTER (WHERE payment_status = 'PAID' AND status <> 'CANCELLED'), 0.00) AS revenue,
           round(sum(total) FILTER (WHERE status <> 'CANCELLED')
                 / nullif(sum(orders) FILTER (WHERE status <> 'CANCELLED'), 0), 2) AS average_order_value
    FROM counted
), by_status AS (
    SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) AS orders_by_status
    FROM (SELECT status, sum(orders)::bigint AS n FROM counted GROUP BY status) by_status
), ranked AS (
    SELECT product_id, sum(units)::bigint AS units, sum(revenue) AS revenue
    FROM sold_lines
    GROUP BY product_id
    ORDER BY units DESC, product_id
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

# The window's days, split: `kept` are days whose figures the refresh timer keeps
# (`repo_figures`) and that changed in no way since; `live` are the others (today, yesterday,
# changed days, days not yet refreshed), computed from the orders. One statement, one snapshot.
# Which days are live is known only at run time, so the planner guesses a million orders a day
# and hash-joins every child order and line (15 s at 10M orders for two live days): LATERAL with
# OFFSET 0 (never pulled up into a join) keeps the live part to index lookups per day and order.
WINDOW_DAYS = """
WITH days AS (
    SELECT g::date AS day FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') g
), kept AS (
    SELECT d.day FROM days d JOIN order_figure_days f ON f.day = d.day
    WHERE NOT EXISTS (SELECT 1 FROM order_figure_changes c WHERE c.day = d.day)
), live AS (
    SELECT day FROM days EXCEPT SELECT day FROM kept
)"""

MARKETPLACE_STATS = (
    WINDOW_DAYS
    + """
, scoped AS (
    SELECT o.id, o.status, o.payment_status, o.total
    FROM live CROSS JOIN LATERAL (
        SELECT id, status, payment_status, total FROM orders
        WHERE created_at >= live.day::timestamp AT TIME ZONE 'UTC'
          AND created_at < (live.day + 1)::timestamp AT TIME ZONE 'UTC'
        OFFSET 0) o
), counted AS (
    SELECT status, payment_status, count(*) AS orders, sum(total) AS total FROM scoped GROUP BY status, payment_status
    UNION ALL
    SELECT s.status, s.payment_status, s.orders, s.total FROM kept JOIN order_figure_statuses s ON s.day = kept.day
    WHERE s.day BETWEEN %(first)s AND %(last)s  -- a range of the primary key, not the whole table
), sold_lines AS (
    SELECT l.product_id, l.units, l.revenue
    FROM scoped o CROSS JOIN LATERAL (
        SELECT i.product_id, i.quantity AS units, i.line_total AS revenue
        FROM seller_orders so JOIN order_items i ON i.seller_order_id = so.id
        WHERE so.order_id = o.id AND so.status <> 'CANCELLED'
        OFFSET 0) l
    WHERE o.status <> 'CANCELLED'
    UNION ALL
    SELECT p.product_id, p.units, p.revenue FROM kept JOIN order_figure_products p ON p.day = kept.day
    WHERE p.day BETWEEN %(first)s AND %(last)s
)"""
    + STATS_TAIL
)


async def marketplace_stats(conn: AsyncConnection, first: date, last: date) -> StatsRow:
    """The UTC days first to last, both included."""
    row = await db.fetch_one(conn, MARKETPLACE_STATS, {"first": first, "last": last}, StatsRow)
    assert row is not None  # aggregates always give one row
    return row


# A seller's child orders, with the payment status of their parents. No row: no such seller.
SELLER_STATS = (
    WINDOW_DAYS
    + """
, seller AS (
    SELECT id FROM sellers WHERE id = %(seller_id)s
), scoped AS (
    SELECT c.id, c.status, c.payment_status, c.total
    FROM live CROSS JOIN LATERAL (
        SELECT so.id, so.status, o.payment_status, so.total
        FROM seller_orders so JOIN orders o ON o.id = so.order_id
        WHERE so.seller_id = %(seller_id)s
          AND so.created_at >= live.day::timestamp AT TIME ZONE 'UTC'
          AND so.created_at < (live.day + 1)::timestamp AT TIME ZONE 'UTC'
        OFFSET 0) c
), counted AS (
    SELECT status, payment_status, count(*) AS orders, sum(total) AS total FROM scoped GROUP BY status, payment_status
    UNION ALL
    SELECT s.status, s.payment_status, s.orders, s.total
    FROM kept JOIN order_figure_seller_statuses s ON s.day = kept.day
    WHERE s.seller_id = %(seller_id)s AND s.day BETWEEN %(first)s AND %(last)s
), sold_lines AS (
    SELECT l.product_id, l.units, l.revenue
    FROM scoped so CROSS JOIN LATERAL (
        SELECT i.product_id, i.quantity AS units, i.line_total AS revenue
        FROM order_items i WHERE i.seller_order_id = so.id
        OFFSET 0) l
    WHERE so.status <> 'CANCELLED'
    UNION ALL
    SELECT p.product_id, p.units, p.revenue
    FROM kept JOIN order_figure_seller_products p ON p.day = kept.day
    WHERE p.seller_id = %(seller_id)s AND p.day BETWEEN %(first)s AND %(last)s
)"""
    + STATS_TAIL
    + ", seller"
)


async def seller_stats(conn: AsyncConnection, seller_id: UUID, first: date, last: date) -> StatsRow | None:
    """The UTC days first to last, both included; None when there is no such seller."""
    params = {"seller_id": seller_id, "first": first, "last": last}
    return await db.fetch_one(conn, SELLER_STATS, params, StatsRow)
