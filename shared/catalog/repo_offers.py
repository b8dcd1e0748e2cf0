"""Offers: what each seller has of a variant. Shoppers read them on the product page; a seller
sets and lists its own. Each SQL constant sits next to the one function that runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.catalog.models_offers import OfferAvailabilityRow, OfferRow
from shared.data import db, multiplexed

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# What each active seller offers for the product's active variants, cheapest first per variant.
SELECT_PRODUCT_OFFERS = """
SELECT o.variant_id, o.seller_id, se.slug AS seller_slug, se.name_en AS seller_name_en,
       se.name_ar AS seller_name_ar, coalesce(o.price, v.sale_price, v.price) AS price,
       o.on_hand - o.reserved AS available, o.low_stock_threshold
FROM variants v
JOIN offers o ON o.variant_id = v.id
JOIN sellers se ON se.id = o.seller_id
WHERE v.product_id = %(id)s AND v.is_active AND o.is_active AND se.status = 'ACTIVE'
ORDER BY v.sort_order, v.sku, price, se.slug
"""


async def product_offers(product_id: UUID) -> list[OfferAvailabilityRow]:
    """A multiplexed read (shared/data/multiplexed.py): it takes no connection of the caller's."""
    return await multiplexed.fetch_all(SELECT_PRODUCT_OFFERS, {"id": product_id}, OfferAvailabilityRow)


# --- a seller's own offers ----------------------------------------------------------------

OFFER_COLUMNS = """
    o.id, o.variant_id, o.seller_id, v.sku, v.product_id, p.name_en AS product_name_en,
    p.name_ar AS product_name_ar, o.price, coalesce(o.price, v.sale_price, v.price) AS effective_price,
    o.on_hand, o.reserved, o.on_hand - o.reserved AS available, o.low_stock_threshold,
    o.on_hand - o.reserved <= o.low_stock_threshold AS low_stock, o.is_active, o.version, o.updated_at"""

# Insert or update in one statement. The CHECK (reserved <= on_hand) refuses an on_hand below
# what unpaid orders hold; the caller turns that into 409. The version moves on every change.
UPSERT_OFFER = f"""
WITH saved AS (
    INSERT INTO offers AS o (variant_id, seller_id, price, on_hand, low_stock_threshold, is_active)
    VALUES (%(variant_id)s, %(seller_id)s, %(price)s, %(on_hand)s, %(low_stock_threshold)s, %(is_active)s)
    ON CONFLICT (variant_id, seller_id) DO UPDATE SET
        price = EXCLUDED.price, on_hand = EXCLUDED.on_hand, low_stock_threshold = EXCLUDED.low_stock_threshold,
        is_active = EXCLUDED.is_active, version = o.version + 1, updated_at = now()
    RETURNING o.id, o.variant_id, o.seller_id, o.price, o.on_hand, o.reserved, o.low_stock_threshold,
              o.is_active, o.version, o.updated_at
)
SELECT {OFFER_COLUMNS}
FROM saved o JOIN variants v ON v.id = o.variant_id JOIN products p ON p.id = v.product_id
"""


async def upsert_offer(conn: AsyncConnection, seller_id: UUID, variant_id: UUID, fields: dict[str, Any]) -> OfferRow:
    params = fields | {"seller_id": seller_id, "variant_id": variant_id}
    row = await db.fetch_one(conn, UPSERT_OFFER, params, OfferRow)
    assert row is not None
    return row


LIST_SELLER_OFFERS = f"""
SELECT {OFFER_COLUMNS}
FROM offers o JOIN variants v ON v.id = o.variant_id JOIN products p ON p.id = v.product_id
WHERE o.seller_id = %(seller_id)s AND o.variant_id > %(after)s{{low_stock}}
ORDER BY o.variant_id
LIMIT %(limit)s
"""
# The low-stock view repeats offers_low_stock's predicate so that partial index serves it.
LIST_SELLER_OFFERS_ALL = LIST_SELLER_OFFERS.format(low_stock="")
LIST_SELLER_OFFERS_LOW = LIST_SELLER_OFFERS.format(low_stock=" AND o.on_hand - o.reserved <= o.low_stock_threshold")


async def list_seller_offers(
    conn: AsyncConnection, seller_id: UUID, *, low_stock_only: bool, after: UUID, limit: int
) -> list[OfferRow]:
    params = {"seller_id": seller_id, "after": after, "limit": limit}
    statement = LIST_SELLER_OFFERS_LOW if low_stock_only else LIST_SELLER_OFFERS_ALL
    return await db.fetch_all(conn, statement, params, OfferRow)


SELECT_SELLER_EXISTS = "SELECT 1 FROM sellers WHERE id = %(id)s"


async def seller_exists(conn: AsyncConnection, seller_id: UUID) -> bool:
    return await db.fetch_value(conn, SELECT_SELLER_EXISTS, {"id": seller_id}) is not None
