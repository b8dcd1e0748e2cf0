"""Consistency report: the invariants of orders and stock that no CHECK constraint can hold
because they span rows. Each check is one set-based query; each statement reads one snapshot,
so orders being placed while it runs never show up as false violations.

- `order_totals`: a parent's subtotal / tax / delivery_fee / total ≠ the sum over its children;
- `seller_order_subtotal`: a child's subtotal ≠ the sum of its items' line_total;
- `offer_reserved`: `offers.reserved` ≠ the sum of the offer's ACTIVE reservations;
- `negative_stock`: on_hand, reserved or available (on_hand - reserved) below zero.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.data import db
from shared.platform import logs
from shared.platform.base_model import AppModel

log = logs.get_logger("consistency")
ViolationKind = Literal["order_totals", "seller_order_subtotal", "offer_reserved", "negative_stock"]
MAX_ROWS_PER_CHECK = 1000  # a broken migration could flag every row: the report stays bounded


class Violation(AppModel):
    kind: ViolationKind
    entity_id: UUID = Field(description="orders.id, seller_orders.id or offers.id, by kind")
    field: str
    expected: Decimal = Field(description="what the children / items / reservations add up to; 0 for the stock floor")
    actual: Decimal


class ConsistencyReport(AppModel):
    checked_at: datetime
    ok: bool
    violation_count: int
    violations: list[Violation]


ORDER_TOTALS_VS_CHILDREN = """
SELECT 'order_totals' AS kind, o.id AS entity_id, f.field, f.expected, f.actual
FROM orders o
LEFT JOIN (SELECT order_id, sum(subtotal) AS subtotal, sum(tax) AS tax, sum(delivery_fee) AS delivery_fee,
                  sum(total) AS total
           FROM seller_orders GROUP BY order_id) c ON c.order_id = o.id
CROSS JOIN LATERAL (VALUES ('subtotal', coalesce(c.subtotal, 0), o.subtotal),
                           ('tax', coalesce(c.tax, 0), o.tax),
                           ('delivery_fee', coalesce(c.delivery_fee, 0), o.delivery_fee),
                           ('total', coalesce(c.total, 0), o.total)) AS f(field, expected, actual)
WHERE f.expected <> f.actual
ORDER BY o.id, f.field
LIMIT %(limit)s
"""

SELLER_ORDER_SUBTOTAL_VS_ITEMS = """
SELECT 'seller_order_subtotal' AS kind, so.id AS entity_id, 'subtotal' AS field,
       coalesce(i.subtotal, 0) AS expected, so.subtotal AS actual
FROM seller_orders so
LEFT JOIN (SELECT seller_order_id, sum(line_total) AS subtotal FROM order_items GROUP BY seller_order_id) i
       ON i.seller_order_id = so.id
WHERE so.subtotal <> coalesce(i.subtotal, 0)
ORDER BY so.id
LIMIT %(limit)s
"""

OFFER_RESERVED_VS_ACTIVE_RESERVATIONS = """
SELECT 'offer_reserved' AS kind, o.id AS entity_id, 'reserved' AS field,
       coalesce(r.quantity, 0) AS expected, o.reserved AS actual
FROM offers o
LEFT JOIN (SELECT offer_id, sum(quantity) AS quantity FROM reservations WHERE status = 'ACTIVE'
           GROUP BY offer_id) r ON r.offer_id = o.id
WHERE o.reserved <> coalesce(r.quantity, 0)
ORDER BY o.id
LIMIT %(limit)s
"""

NEGATIVE_STOCK = """
SELECT 'negative_stock' AS kind, o.id AS entity_id, f.field, 0 AS expected, f.actual
FROM offers o
CROSS JOIN LATERAL (VALUES ('on_hand', o.on_hand), ('reserved', o.reserved),
                           ('available', o.on_hand - o.reserved)) AS f(field, actual)
WHERE f.actual < 0
ORDER BY o.id, f.field
LIMIT %(limit)s
"""

CHECKS: dict[ViolationKind, str] = {
    "order_totals": ORDER_TOTALS_VS_CHILDREN,
    "seller_order_subtotal": SELLER_ORDER_SUBTOTAL_VS_ITEMS,
    "offer_reserved": OFFER_RESERVED_VS_ACTIVE_RESERVATIONS,
    "negative_stock": NEGATIVE_STOCK,
}


async def find_violations(*, limit: int = MAX_ROWS_PER_CHECK) -> list[Violation]:
    """Every violation of every check (at most `limit` per check); empty when consistent."""
    found: list[Violation] = []
    async with db.connection() as conn:  # the primary: a replica's lag is not an inconsistency
        for query in CHECKS.values():
            found += await db.fetch_all(conn, query, {"limit": limit}, Violation)
    return found


async def consistency_report() -> ConsistencyReport:
    violations = await find_violations()
    return ConsistencyReport(
        checked_at=datetime.now(UTC), ok=not violations, violation_count=len(violations), violations=violations
    )


MAX_LOGGED_VIOLATIONS = 100


async def log_consistency() -> dict[str, int]:
    """The hourly check: one ERROR line per violation (bounded) and a summary by kind."""
    violations = await find_violations()
    for v in violations[:MAX_LOGGED_VIOLATIONS]:
        log.error(
            "consistency violation %s on %s: %s expected %s, actual %s",
            v.kind,
            v.entity_id,
            v.field,
            v.expected,
            v.actual,
        )
    summary = {kind: sum(1 for v in violations if v.kind == kind) for kind in CHECKS}
    if violations:
        log.warning("consistency check: %d violation(s) %s", len(violations), summary)
    else:
        log.info("consistency check: no violations")
    return summary
