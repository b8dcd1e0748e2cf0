"""Catalog reads behind the public API and the warm_cache timer; each SQL constant sits next to
the one function that runs it. Listing and search: repo_listing.py; writes: repo_admin.py;
offers: repo_offers.py.

The column lists below are the tables' own; repo_admin.py returns the same ones after a write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared.catalog.models import BrandRow, CategoryRow, ImageRow, ProductRow, VariantRow
from shared.data import db

if TYPE_CHECKING:
    from psycopg import AsyncConnection

CATEGORY_COLUMNS = """id, parent_id, name_en, name_ar, slug_en, slug_ar, description_en, description_ar,
    image_url, sort_order, is_active, version, created_at, updated_at"""
BRAND_COLUMNS = "id, name_en, name_ar, slug, logo_url, is_active, version, created_at, updated_at"
PRODUCT_COLUMNS = """id, name_en, name_ar, description_en, description_ar, slug_en, slug_ar, meta_title_en,
    meta_title_ar, meta_description_en, meta_description_ar, category_id, brand_id, requires_prescription,
    is_active, attributes, erp_product_id, min_price, version, created_at, updated_at"""
VARIANT_COLUMNS = """id, product_id, sku, options, barcode, price, sale_price, is_active, sort_order, version,
    created_at, updated_at"""
IMAGE_COLUMNS = "id, product_id, url, alt_en, alt_ar, sort_order, created_at"

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
    SELECT c.id, c.parent_id, c.name_en, c.name_ar, c.slug_en, c.slug_ar, c.description_en, c.description_ar,
           c.image_url, c.sort_order, c.is_active, c.version, c.created_at, c.updated_at, path.depth + 1
    FROM categories c JOIN path ON c.id = path.parent_id
)
SELECT {CATEGORY_COLUMNS} FROM path ORDER BY depth DESC
"""


async def category_path(conn: AsyncConnection, category_id: UUID) -> list[CategoryRow]:
    return await db.fetch_all(conn, SELECT_CATEGORY_PATH, {"id": category_id}, CategoryRow)


SELECT_PRODUCT = f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = %(id)s"


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


# "Top" products: the most ordered over the last week (units in orders not cancelled), then
# the newest active ones to fill the list (a new catalog has no orders yet).
SELECT_TOP_PRODUCTS = """
WITH ordered AS (
    SELECT i.product_id, sum(i.quantity) AS units
    FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE o.created_at > now() - interval '7 days' AND o.status <> 'CANCELLED'
    GROUP BY i.product_id
), ranked AS (
    SELECT p.id, coalesce(ordered.units, 0) AS units, p.created_at
    FROM products p LEFT JOIN ordered ON ordered.product_id = p.id
    WHERE p.is_active AND p.min_price IS NOT NULL
      AND (ordered.product_id IS NOT NULL
           OR p.id IN (SELECT id FROM products WHERE is_active AND min_price IS NOT NULL
                       ORDER BY created_at DESC, id DESC LIMIT %(limit)s))
)
SELECT id FROM ranked ORDER BY units DESC, created_at DESC, id DESC LIMIT %(limit)s
"""


async def top_product_ids(conn: AsyncConnection, limit: int) -> list[UUID]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_TOP_PRODUCTS, {"limit": limit})
        return [row[0] for row in await cur.fetchall()]
