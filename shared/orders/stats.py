"""Dashboards: order figures over a date range, for the whole marketplace or one seller.

Each is ONE statement: a `scoped` CTE picks the rows (parent orders, or one seller's child
orders) and a shared tail computes every figure from it, so the cost is one round trip however
many orders, statuses or products the range holds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.data import db
from shared.orders.models import ChildStatus, ParentStatus
from shared.orders.queries import day_bounds, seller_scope
from shared.orders.views import DateRange, OrderStats, SellerStats, SellerStatsQuery, StatsQuery, TopProduct
from shared.platform.auth import Principal
from shared.platform.base_model import AppModel
from shared.platform.config import get_settings
from shared.platform.errors import FieldError, NotFound, ValidationFailed

DEFAULT_DAYS = 30
MAX_DAYS = 366

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


class StatsRow(AppModel):
    orders: int
    revenue: Decimal
    average_order_value: Decimal | None
    orders_by_status: dict[str, int]
    top_products: list[TopProduct]


async def marketplace_stats(query: StatsQuery, *, today: date | None = None) -> OrderStats:
    first, last = stats_window(query, today=today)
    async with db.connection(read_only=True) as conn:
        row = await db.fetch_one(conn, MARKETPLACE_STATS, _window_params(first, last), StatsRow)
    assert row is not None  # aggregates always give one row
    return OrderStats(**_figures(row, first, last, statuses=ParentStatus.__args__))


async def seller_stats(principal: Principal, query: SellerStatsQuery, *, today: date | None = None) -> SellerStats:
    seller_id = seller_scope(principal, query.seller)
    if seller_id is None:
        raise ValidationFailed(
            "admins name the seller: ?seller=<id>",
            code="seller_required",
            errors=[FieldError("seller", "required for admins", "missing")],
        )
    first, last = stats_window(query, today=today)
    params = _window_params(first, last) | {"seller_id": seller_id}
    async with db.connection(read_only=True) as conn:
        row = await db.fetch_one(conn, SELLER_STATS, params, StatsRow)
    if row is None:
        raise NotFound(f"no seller {seller_id}", code="seller_not_found")
    return SellerStats(**_figures(row, first, last, statuses=ChildStatus.__args__), seller_id=seller_id)


def _window_params(first: date, last: date) -> dict[str, datetime | None]:
    starts, ends = day_bounds(first, last)
    return {"starts": starts, "ends": ends}


def _figures(row: StatsRow, first: date, last: date, *, statuses: tuple[str, ...]) -> dict[str, Any]:
    # every status present, zero when none: dashboards need no special case
    by_status = {status: row.orders_by_status.get(status, 0) for status in statuses}
    return row.model_dump() | {
        "from_": first,
        "to": last,
        "currency": get_settings().order_currency,
        "orders_by_status": by_status,
    }


def stats_window(query: DateRange, *, today: date | None = None) -> tuple[date, date]:
    """`to` defaults to today (UTC), `from` to 30 days up to `to`; more than 366 days is 422."""
    last = query.to or today or datetime.now(UTC).date()
    first = query.from_ or last - timedelta(days=DEFAULT_DAYS - 1)
    day_bounds(first, last)  # from after to → 422
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            f"the range is longer than {MAX_DAYS} days",
            code="date_range_too_long",
            errors=[FieldError("from", f"at most {MAX_DAYS} days before `to`", "too_long")],
        )
    return first, last
