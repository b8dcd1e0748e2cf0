"""Catalog reads; each SQL constant sits next to the one function that runs it.
The product listing and search live in listing.py."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared.catalog.models import (
    BrandRow,
    CategoryRow,
    ImageRow,
    OfferAvailabilityRow,
    ProductRow,
    VariantRow,
)
from shared.data import db, multiplexed

if TYPE_CHECKING:
    from psycopg import AsyncConnection

CATEGORY_COLUMNS = ", ".join(CategoryRow.model_fields)
BRAND_COLUMNS = ", ".join(BrandRow.model_fields)
PRODUCT_COLUMNS = ", ".join(f"p.{c}" for c in ProductRow.model_fields)
VARIANT_COLUMNS = ", ".join(VariantRow.model_fields)
IMAGE_COLUMNS = ", ".join(ImageRow.model_fields)

SELECT_ACTIVE_CATEGORIES = f"""
SELECT {CATEGORY_COLUMNS} FROM categories WHERE is_active ORDER BY sort_order, name_en, id
"""


async def active_categories(conn: AsyncConnection) -> list[CategoryRow]:
    return await db.fetch_all(conn, SELECT_ACTIVE_CATEGORIES, None, CategoryRow)


SELECT_ACTIVE_BRANDS = f"SELECT {BRAND_COLUMNS} FROM brands WHERE is_active ORDER BY name_en, id"


async def active_brands(conn: AsyncConnection) -> list[BrandRow]:
    return await db.fetch_all(conn, SELECT_ACTIVE_BRANDS, None, BrandRow)


SELECT_BRAND = f"SELECT {BRAND_COLUMNS} FROM brands WHERE id = %(id)s"


async def get_brand(conn: AsyncConnection, brand_id: UUID) -> BrandRow | None:
    return await db.fetch_one(conn, SELECT_BRAND, {"id": brand_id}, BrandRow)


# Ancestors first: the breadcrumb from the root down to the category itself.
SELECT_CATEGORY_PATH = f"""
WITH RECURSIVE path AS (
    SELECT {CATEGORY_COLUMNS}, 0 AS depth FROM categories WHERE id = %(id)s
    UNION ALL
    SELECT {", ".join(f"c.{c}" for c in CategoryRow.model_fields)}, path.depth + 1
    FROM categories c JOIN path ON c.id = path.parent_id
)
SELECT {CATEGORY_COLUMNS} FROM path ORDER BY depth DESC
"""


async def category_path(conn: AsyncConnection, category_id: UUID) -> list[CategoryRow]:
    return await db.fetch_all(conn, SELECT_CATEGORY_PATH, {"id": category_id}, CategoryRow)


SELECT_PRODUCT = f"SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = %(id)s"


async def get_product(conn: AsyncConnection, product_id: UUID) -> ProductRow | None:
    return await db.fetch_one(conn, SELECT_PRODUCT, {"id": product_id}, ProductRow)


SELECT_PRODUCT_ID_BY_SLUG = "SELECT id FROM products WHERE (slug_en = %(slug)s OR slug_ar = %(slug)s) AND is_active"


async def product_id_by_slug(conn: AsyncConnection, slug: str) -> UUID | None:
    return await db.fetch_value(conn, SELECT_PRODUCT_ID_BY_SLUG, {"slug": slug})


SELECT_ACTIVE_VARIANTS = f"""
SELECT {VARIANT_COLUMNS} FROM variants WHERE product_id = %(id)s AND is_active ORDER BY sort_order, sku
"""


async def active_variants(conn: AsyncConnection, product_id: UUID) -> list[VariantRow]:
    return await db.fetch_all(conn, SELECT_ACTIVE_VARIANTS, {"id": product_id}, VariantRow)


SELECT_IMAGES = f"SELECT {IMAGE_COLUMNS} FROM product_images WHERE product_id = %(id)s ORDER BY sort_order, id"


async def product_images(conn: AsyncConnection, product_id: UUID) -> list[ImageRow]:
    return await db.fetch_all(conn, SELECT_IMAGES, {"id": product_id}, ImageRow)


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
