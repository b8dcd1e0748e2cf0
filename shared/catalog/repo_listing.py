"""The product listing and search SQL (`GET /products`), composed from named fragments, and the
two reads that resolve a listing before it runs (a category's subtree, a search's spelling).

Each filter and each sort is its own fragment so every combination is planned on its own and
stays an index scan; one statement full of `(%(x)s IS NULL OR …)` guards would get one generic
plan for all of them. Search (see docs/catalog.md):

- the document is chosen by the query's script: Arabic letters → `search_ar`, else `search_en`
  (the Arabic document also holds the Latin ingredient names);
- `strict`: `websearch_to_tsquery` (all words, phrases, `-exclusions`);
- `relaxed` (when strict finds nothing): every word corrected against the `search_words`
  lexicon by trigram similarity, any of them may match (`to_tsquery('w1 | w2')`);
- relevance ranks at most SEARCH_CANDIDATES matches (`ts_rank_cd`), so a broad word costs a
  bounded amount: ranking all 8,000 matches of "paracetamol" in a 200k catalog took 100 ms+.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.catalog import rules
from shared.catalog.models import ProductQuery, ProductSummaryRow
from shared.data import db
from shared.platform.pagination import fetch_size

if TYPE_CHECKING:
    from psycopg import AsyncConnection

SEARCH_CANDIDATES = 1000


@dataclass(frozen=True)
class Listing:
    """A listing query with what the service resolved before running it."""

    query: ProductQuery
    category_ids: list[UUID] | None = None  # the category and its active descendants
    mode: rules.SearchMode = "strict"
    relaxed_terms: list[str] = field(default_factory=list)

    @property
    def arabic(self) -> bool:
        return rules.is_arabic(self.query.q)


COLUMNS = (
    "p.id, p.name_en, p.name_ar, p.slug_en, p.slug_ar, p.requires_prescription, p.min_price, p.created_at, p.brand_id"
)
LISTING = """
WITH {candidates}page AS (
    SELECT {columns}, {rank} AS rank
    FROM {source}
    WHERE {where}
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
# Relevance: rank a bounded set of matches, then page through them by (rank, id).
CANDIDATES = """candidates AS MATERIALIZED (
    SELECT {columns}, ts_rank_cd(p.{document}, {tsquery})::float8 AS rank
    FROM products p
    WHERE {where}
    LIMIT %(candidates)s
), """
TSQUERIES = {
    ("strict", False): "websearch_to_tsquery('english', %(q)s)",
    ("strict", True): "websearch_to_tsquery('arabic', souq_normalize_ar(%(q)s))",
    ("relaxed", False): "to_tsquery('english', %(terms)s)",
    ("relaxed", True): "to_tsquery('arabic', %(terms)s)",
}
# Browsing a category: each category's own ordered index scan (category_id, price or date), merged.
# One `category_id = ANY(…)` scan let the planner walk the global price index instead, passing
# 124k cheaper products of other categories before finding 20 in an expensive one (390 ms).
PER_CATEGORY = """unnest(%(category_ids)s::uuid[]) AS c(id)
    CROSS JOIN LATERAL (
        SELECT {columns} FROM products p
        WHERE p.category_id = c.id AND {where}
        ORDER BY {order}
        LIMIT %(limit)s
    ) p"""
BASE = "p.is_active AND p.min_price IS NOT NULL"
FILTERS = {
    "category_ids": "\n      AND p.category_id = ANY(%(category_ids)s::uuid[])",
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
# sort → (ORDER BY, keyset condition after the cursor's row, outer ORDER BY)
SORTS = {
    "newest": (
        "p.created_at DESC, p.id DESC",
        "\n      AND (p.created_at, p.id) < (%(after_value)s::timestamptz, %(after_id)s)",
        "page.created_at DESC, page.id DESC",
    ),
    "price_asc": (
        "p.min_price ASC, p.id ASC",
        "\n      AND (p.min_price, p.id) > (%(after_value)s::numeric, %(after_id)s)",
        "page.min_price ASC, page.id ASC",
    ),
    "price_desc": (
        "p.min_price DESC, p.id DESC",
        "\n      AND (p.min_price, p.id) < (%(after_value)s::numeric, %(after_id)s)",
        "page.min_price DESC, page.id DESC",
    ),
    "relevance": (
        "p.rank DESC, p.id DESC",
        "\n      AND (p.rank, p.id) < (%(after_value)s::float8, %(after_id)s)",
        "page.rank DESC, page.id DESC",
    ),
}


def _per_category(listing: Listing) -> bool:
    return listing.category_ids is not None and not listing.query.q


def _filter_names(listing: Listing) -> list[str]:
    query = listing.query
    names = ["category_ids"] if listing.category_ids is not None and not _per_category(listing) else []
    names += [name for name in ("brand", "seller", "min_price", "max_price") if getattr(query, name) is not None]
    if query.in_stock is not None:
        names.append("in_stock" if query.in_stock else "out_of_stock")
    if query.rx is not None:
        names.append(f"rx_{query.rx}")
    if query.attributes:
        names.append("attributes")
    return names


def listing_sql(listing: Listing, after: tuple[str, UUID] | None = None) -> tuple[str, dict[str, Any]]:
    """The statement and parameters `GET /products` runs (also used by the plan checks)."""
    query = listing.query
    order, keyset, outer_order = SORTS[query.effective_sort]
    filters = BASE + "".join(FILTERS[name] for name in _filter_names(listing))
    after_cursor = keyset if after else ""
    candidates, source, rank, where = "", "products p", "NULL::float8", filters + after_cursor
    if _per_category(listing):
        source, where = PER_CATEGORY.format(columns=COLUMNS, where=filters + after_cursor, order=order), "true"
    elif query.q:
        document = "search_ar" if listing.arabic else "search_en"
        tsquery = TSQUERIES[(listing.mode, listing.arabic)]
        matching = f"{filters}\n      AND p.{document} @@ {tsquery}"
        where = matching + after_cursor
        if query.effective_sort == "relevance":  # rank a bounded set, then page through it
            candidates = CANDIDATES.format(columns=COLUMNS, document=document, tsquery=tsquery, where=matching)
            source, rank, where = "candidates p", "p.rank", "true" + after_cursor
    sql = LISTING.format(
        candidates=candidates,
        columns=COLUMNS,
        rank=rank,
        source=source,
        where=where,
        order=order,
        outer_order=outer_order,
    )
    return sql, _params(listing, after)


def _params(listing: Listing, after: tuple[str, UUID] | None) -> dict[str, Any]:
    query = listing.query
    params = query.model_dump(include={"q", "brand", "seller", "min_price", "max_price"})
    params |= {
        "attributes": json.dumps(query.attributes),
        "limit": fetch_size(query.limit),
        "candidates": SEARCH_CANDIDATES,
        "category_ids": listing.category_ids,
        "terms": " | ".join(listing.relaxed_terms),
    }
    if after is not None:
        params |= {"after_value": after[0], "after_id": after[1]}
    return params


async def list_products(
    conn: AsyncConnection, listing: Listing, after: tuple[str, UUID] | None
) -> list[ProductSummaryRow]:
    """One page plus one row (to know whether there is a next page)."""
    sql, params = listing_sql(listing, after)
    return await db.fetch_all(conn, sql, params, ProductSummaryRow)


# The category and its active descendants, by either slug; empty when there is no such category.
SELECT_CATEGORY_SUBTREE = """
WITH RECURSIVE tree AS (
    SELECT id FROM categories WHERE (slug_en = %(slug)s OR slug_ar = %(slug)s) AND is_active
    UNION ALL
    SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id WHERE c.is_active
)
SELECT id FROM tree
"""


async def category_subtree(conn: AsyncConnection, slug: str) -> list[UUID]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_CATEGORY_SUBTREE, {"slug": slug})
        return [row[0] for row in await cur.fetchall()]


# Each query word, normalised like the documents, replaced by the closest lexicon word when it
# is not one itself (trigram similarity ≥ pg_trgm.similarity_threshold, 0.3 by default).
CORRECT_WORDS = """
SELECT coalesce((SELECT w.word FROM search_words w WHERE w.word = q.word),
                (SELECT w.word FROM search_words w WHERE w.word %% q.word
                 ORDER BY similarity(w.word, q.word) DESC, w.word LIMIT 1))
FROM souq_search_words(%(q)s) WITH ORDINALITY AS q(word, n)
ORDER BY q.n
"""


async def corrected_words(conn: AsyncConnection, q: str) -> list[str]:
    """The query's words as the catalog spells them; words with no near match are dropped."""
    async with conn.cursor() as cur:
        await cur.execute(CORRECT_WORDS, {"q": q})
        return [row[0] for row in await cur.fetchall() if row[0]]
