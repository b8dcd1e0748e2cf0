"""SQL for the closed days' kept figures, the marketplace's and each seller's
(`shared.orders.figures`); each constant sits right before the one function that runs it. The
dashboards' statements that read them are in `repo_stats`; the triggers that note changes are
in migration 0018."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from shared.data import db
from shared.orders.models_figures import DueDay

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Closed days (ended a whole day ago by the server's clock: a change made on its own day needs
# no note, and no transaction outlives a day) with no figures yet, from the first order's day,
# or with a change noted since their refresh; newest first, since dashboards read recent days.
DAYS_TO_REFRESH = """
WITH closed AS (
    SELECT (now() AT TIME ZONE 'UTC')::date - 2 AS through
), first AS (
    SELECT (min(created_at) AT TIME ZONE 'UTC')::date AS day FROM orders
)
SELECT day FROM (
    SELECT g::date AS day
    FROM closed, first, generate_series(first.day, closed.through, interval '1 day') g
    WHERE NOT EXISTS (SELECT 1 FROM order_figure_days d WHERE d.day = g::date)
    UNION
    SELECT c.day FROM order_figure_changes c, closed WHERE c.day <= closed.through
) due
ORDER BY day DESC
LIMIT %(limit)s"""


async def days_to_refresh(conn: AsyncConnection, limit: int) -> list[date]:
    return [row.day for row in await db.fetch_all(conn, DAYS_TO_REFRESH, {"limit": limit}, DueDay)]


# The day's row, locked: two refreshes of one day take turns, so the later one computes from a
# later snapshot and never writes older figures over newer ones.
LOCK_DAY = """
INSERT INTO order_figure_days (day) VALUES (%(day)s)
ON CONFLICT (day) DO UPDATE SET refreshed_at = now()"""

# Only the notes this statement can see go: their changes committed before the figures below
# are computed (a later statement, a later snapshot). A note committed after stays, and the
# day is read live until the next refresh.
CLEAR_DAY = """
WITH notes AS (
    DELETE FROM order_figure_changes WHERE day = %(day)s
), statuses AS (
    DELETE FROM order_figure_statuses WHERE day = %(day)s
), products AS (
    DELETE FROM order_figure_products WHERE day = %(day)s
), seller_statuses AS (
    DELETE FROM order_figure_seller_statuses WHERE day = %(day)s
)
DELETE FROM order_figure_seller_products WHERE day = %(day)s"""

# The same figures as the dashboards' live parts (repo_stats), for one day: the marketplace's
# from the parent orders, each seller's from its child orders (a child's day is its parent's).
FILL_DAY = """
WITH day_orders AS (
    SELECT id, status, payment_status, total FROM orders
    WHERE created_at >= (%(day)s::date)::timestamp AT TIME ZONE 'UTC'
      AND created_at < (%(day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
), day_children AS (
    SELECT so.id, so.seller_id, so.status, o.payment_status, so.total, o.status AS order_status
    FROM day_orders o JOIN seller_orders so ON so.order_id = o.id
), day_lines AS (
    SELECT c.seller_id, c.status, c.order_status, i.product_id, i.quantity, i.line_total
    FROM day_children c JOIN order_items i ON i.seller_order_id = c.id
    WHERE c.status <> 'CANCELLED'
), statuses AS (
    INSERT INTO order_figure_statuses (day, status, payment_status, orders, total)
    SELECT %(day)s, status, payment_status, count(*), sum(total)
    FROM day_orders GROUP BY status, payment_status
), products AS (
    INSERT INTO order_figure_products (day, product_id, units, revenue)
    SELECT %(day)s, product_id, sum(quantity), sum(line_total)
    FROM day_lines WHERE order_status <> 'CANCELLED' GROUP BY product_id
), seller_statuses AS (
    INSERT INTO order_figure_seller_statuses (day, seller_id, status, payment_status, orders, total)
    SELECT %(day)s, seller_id, status, payment_status, count(*), sum(total)
    FROM day_children GROUP BY seller_id, status, payment_status
)
INSERT INTO order_figure_seller_products (day, seller_id, product_id, units, revenue)
SELECT %(day)s, seller_id, product_id, sum(quantity), sum(line_total)
FROM day_lines GROUP BY seller_id, product_id"""


async def refresh_day(conn: AsyncConnection, day: date) -> None:
    """In the caller's transaction: lock the day, drop its notes and figures, compute them again."""
    params = {"day": day}
    for statement in (LOCK_DAY, CLEAR_DAY, FILL_DAY):
        await db.execute(conn, statement, params)
