"""SQL the orders domain runs for the threads domain (shared.orders.service is the way in)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.orders.models_threads import ChildParties, PricedOfferLine

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# A seller's own offers, priced with placement's expression (RESOLVE_LINES in repo_placement):
# the offer's price, else the variant's sale price, else its base price. An offer of another
# seller reads as not orderable, like a missing one, so ids cannot be probed.
PRICE_OWN_OFFERS = """
SELECT w.line_no, w.offer_id, w.quantity,
       coalesce(o.is_active AND v.is_active AND p.is_active AND s.status = 'ACTIVE', false) AS orderable,
       v.id AS variant_id, p.id AS product_id, p.name_en AS product_name_en, p.name_ar AS product_name_ar, v.sku,
       p.requires_prescription, coalesce(o.price, v.sale_price, v.price) AS unit_price,
       o.on_hand - o.reserved AS available
FROM jsonb_to_recordset(%(lines)s) AS w(line_no int, offer_id uuid, quantity int)
LEFT JOIN offers o ON o.id = w.offer_id AND o.seller_id = %(seller_id)s
LEFT JOIN variants v ON v.id = o.variant_id
LEFT JOIN products p ON p.id = v.product_id
LEFT JOIN sellers s ON s.id = o.seller_id
ORDER BY w.line_no
"""


async def price_own_offers(
    conn: AsyncConnection, seller_id: UUID, lines: list[dict[str, Any]]
) -> list[PricedOfferLine]:
    """`lines`: line_no, offer_id, quantity each."""
    params = {"lines": db.json_param(lines), "seller_id": seller_id}
    return await db.fetch_all(conn, PRICE_OWN_OFFERS, params, PricedOfferLine)


SELECT_CHILD_PARTIES = """
SELECT so.id, so.order_id, so.number, so.seller_id, o.user_id
FROM seller_orders so JOIN orders o ON o.id = so.order_id
WHERE so.id = %(id)s
"""


async def child_parties(conn: AsyncConnection, seller_order_id: UUID) -> ChildParties | None:
    return await db.fetch_one(conn, SELECT_CHILD_PARTIES, {"id": seller_order_id}, ChildParties)


SELECT_UNIT_PRICES = "SELECT line_no, unit_price FROM order_items WHERE order_id = %(order_id)s"


async def unit_prices(conn: AsyncConnection, order_id: UUID) -> dict[int, Decimal]:
    """Each line's unit price as the order was placed, by line number."""
    async with conn.cursor() as cur:
        await cur.execute(SELECT_UNIT_PRICES, {"order_id": order_id})
        return {int(row[0]): row[1] for row in await cur.fetchall()}
