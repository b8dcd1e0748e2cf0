"""Catalog reads; each SQL constant sits next to the one function that runs it.

The product listing is composed from named fragments (one per filter and per sort) because
each combination must stay an index scan; a single statement with `(%(x)s IS NULL OR …)`
guards would get one generic plan for all of them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db
from shared.catalog.models import (
    BrandRow, CategoryRow, ImageRow, OfferAvailabilityRow, ProductQuery, ProductRow, ProductSummaryRow, VariantRow,
)

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


async def product_offers(conn: AsyncConnection, product_id: UUID) -> list[OfferAvailabilityRow]:
    return await db.fetch_all(conn, SELECT_PRODUCT_OFFERS, {"id": product_id}, OfferAvailabilityRow)


# --- the product listing -----------------------------------------------------------------

LISTING = """
WITH page AS (
    SELECT p.id, p.name_en, p.name_ar, p.slug_en, p.slug_ar, p.requires_prescription, p.min_price,
           p.created_at, p.brand_id, {rank} AS rank
    FROM products p{search_from}
    WHERE p.is_active AND p.min_price IS NOT NULL{filters}
    ORDER BY {order}
    LIMIT %(limit)s
)
SELECT page.id, page.name_en, page.name_ar, page.slug_en, page.slug_ar, page.requires_prescription,
       page.min_price, page.created_at, page.brand_id, page.rank,
       b.slug AS brand_slug, b.name_en AS brand_name_en, b.name_ar AS brand_name_ar,
       (SELECT i.url FROM product_images i WHERE i.product_id = page.id
        ORDER BY i.sort_order, i.id LIMIT 1) AS image_url,
       EXISTS (SELECT 1 FROM variants v JOIN offers o ON o.variant_id = v.id
               WHERE v.product_id = page.id AND v.is_active AND o.is_active
                 AND o.on_hand - o.reserved > 0) AS in_stock
FROM page LEFT JOIN brands b ON b.id = page.brand_id
ORDER BY {outer_order}
"""
# The query is normalised like the documents; websearch syntax ("quoted phrases", -exclusions) works.
SEARCH_FROM = """,
    (SELECT websearch_to_tsquery('english', %(q)s) AS en,
            websearch_to_tsquery('arabic', souq_normalize_ar(%(q)s)) AS ar,
            souq_normalize_ar(%(q)s) AS words) s"""
# Full-text in either language, or trigram word similarity for typos (threshold set per query).
SEARCH_MATCH = "\n      AND (p.search_en @@ s.en OR p.search_ar @@ s.ar OR s.words <%% p.search_names)"
SEARCH_RANK = ("(ts_rank_cd(p.search_en, s.en) + ts_rank_cd(p.search_ar, s.ar)"
               " + word_similarity(s.words, p.search_names))::float8")
NO_RANK = "NULL::float8"
FILTERS = {
    "category": """
      AND p.category_id IN (
        WITH RECURSIVE tree AS (
            SELECT id FROM categories WHERE (slug_en = %(category)s OR slug_ar = %(category)s) AND is_active
            UNION ALL
            SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id WHERE c.is_active)
        SELECT id FROM tree)""",
    "brand": "\n      AND p.brand_id = (SELECT id FROM brands WHERE slug = %(brand)s AND is_active)",
    "seller": """
      AND EXISTS (SELECT 1 FROM variants v JOIN offers o ON o.variant_id = v.id
                  JOIN sellers se ON se.id = o.seller_id
                  WHERE v.product_id = p.id AND v.is_active AND o.is_active
                    AND se.slug = %(seller)s AND se.status = 'ACTIVE')""",
    "min_price": "\n      AND p.min_price >= %(min_price)s",
    "max_price": "\n      AND p.min_price <= %(max_price)s",
    "in_stock": """
      AND EXISTS (SELECT 1 FROM variants v JOIN offers o ON o.variant_id = v.id
                  WHERE v.product_id = p.id AND v.is_active AND o.is_active AND o.on_hand - o.reserved > 0)""",
    "out_of_stock": """
      AND NOT EXISTS (SELECT 1 FROM variants v JOIN offers o ON o.variant_id = v.id
                      WHERE v.product_id = p.id AND v.is_active AND o.is_active AND o.on_hand - o.reserved > 0)""",
    "rx_only": "\n      AND p.requires_prescription",
    "rx_exclude": "\n      AND NOT p.requires_prescription",
    "attributes": "\n      AND p.attributes @> %(attributes)s::jsonb",
}
# sort → (inner ORDER BY, keyset condition after the cursor's row, outer ORDER BY)
SORTS = {
    "newest": ("p.created_at DESC, p.id DESC",
               "\n      AND (p.created_at, p.id) < (%(after_value)s::timestamptz, %(after_id)s)",
               "page.created_at DESC, page.id DESC"),
    "price_asc": ("p.min_price ASC, p.id ASC",
                  "\n      AND (p.min_price, p.id) > (%(after_value)s::numeric, %(after_id)s)",
                  "page.min_price ASC, page.id ASC"),
    "price_desc": ("p.min_price DESC, p.id DESC",
                   "\n      AND (p.min_price, p.id) < (%(after_value)s::numeric, %(after_id)s)",
                   "page.min_price DESC, page.id DESC"),
    "relevance": ("rank DESC, p.id DESC",
                  f"\n      AND ({SEARCH_RANK}, p.id) < (%(after_value)s::float8, %(after_id)s)",
                  "page.rank DESC, page.id DESC"),
}
TYPO_THRESHOLD = "SELECT set_config('pg_trgm.word_similarity_threshold', %(threshold)s, true)"
WORD_SIMILARITY_THRESHOLD = "0.4"  # بندول vs بنادول scores 0.44; the default 0.6 misses it


def _active_filters(query: ProductQuery) -> list[str]:
    names = [name for name in ("category", "brand", "seller", "min_price", "max_price")
             if getattr(query, name) is not None]
    if query.in_stock is not None:
        names.append("in_stock" if query.in_stock else "out_of_stock")
    if query.rx is not None:
        names.append(f"rx_{query.rx}")
    if query.attributes:
        names.append("attributes")
    return names


def listing_sql(query: ProductQuery, after: tuple[str, UUID] | None = None) -> tuple[str, dict[str, Any]]:
    """The statement and parameters `GET /products` runs (also used by the plan checks)."""
    order, keyset, outer_order = SORTS[query.effective_sort]
    filters = "".join(FILTERS[name] for name in _active_filters(query))
    if query.q:
        filters = SEARCH_MATCH + filters
    if after is not None:
        filters += keyset
    sql = LISTING.format(rank=SEARCH_RANK if query.q else NO_RANK, search_from=SEARCH_FROM if query.q else "",
                         filters=filters, order=order, outer_order=outer_order)
    params = query.model_dump(include={"q", "category", "brand", "seller", "min_price", "max_price"})
    params |= {"attributes": json.dumps(query.attributes), "limit": query.limit + 1}
    if after is not None:
        params |= {"after_value": after[0], "after_id": after[1]}
    return sql, params


async def list_products(conn: AsyncConnection, query: ProductQuery,
                        after: tuple[str, UUID] | None) -> list[ProductSummaryRow]:
    """One page plus one row (to know whether there is a next page)."""
    sql, params = listing_sql(query, after)
    if not query.q:
        return await db.fetch_all(conn, sql, params, ProductSummaryRow)
    async with conn.transaction():  # the threshold is SET LOCAL: it must share the transaction
        await db.execute(conn, TYPO_THRESHOLD, {"threshold": WORD_SIMILARITY_THRESHOLD})
        return await db.fetch_all(conn, sql, params, ProductSummaryRow)
