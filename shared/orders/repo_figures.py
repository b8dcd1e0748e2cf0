"""SQL for the closed days' marketplace figures (`shared.orders.figures`); each constant sits
right before the one function that runs it. The dashboard's statement that reads them is
`repo_stats.MARKETPLACE_STATS`; the triggers that note changes are in migration 0018."""

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
)
DELETE FROM order_figure_products WHERE day = %(day)s"""

# The same figures as the dashboard's live part (repo_stats.MARKETPLACE_STATS), for one day.
FILL_DAY = """
WITH day_orders AS (
    SELECT id, status, payment_status, total FROM orders
    WHERE created_at >= (%(day)s::date)::timestamp AT TIME ZONE 'UTC'
      AND created_at < (%(day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
), statuses AS (
    INSERT INTO order_figure_statuses (day, status, payment_status, orders, total)
    SELECT %(day)s, status, payment_status, count(*), sum(total)
    FROM day_orders GROUP BY status, payment_status
)
INSERT INTO order_figure_products (day, product_id, units, revenue)
SELECT %(day)s, i.product_id, sum(i.quantity), sum(i.line_total)
FROM day_orders o
JOIN seller_orders so ON so.order_id = o.id
JOIN order_items i ON i.seller_order_id = so.id
WHERE o.status <> 'CANCELLED' AND so.status <> 'CANCELLED'
GROUP BY i.product_id"""


async def refresh_day(conn: AsyncConnection, day: date) -> None:
    """In the caller's transaction: lock the day, drop its notes and figures, compute them again."""
    params = {"day": day}
    for statement in (LOCK_DAY, CLEAR_DAY, FILL_DAY):
        await db.execute(conn, statement, params)
