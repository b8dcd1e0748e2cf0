"""The `warm_cache` timer's work: fill the hot catalog keys before shoppers ask for them.

Filling is enough (no forced rebuild): every write invalidates what it changes, so an entry
that is present is current. Runs are idempotent and stop at a deadline, so a slow database
can never make runs pile up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from shared.catalog import service
from shared.catalog.models import ProductQuery
from shared.data import db
from shared.platform import logs
from shared.platform.config import get_settings

log = logs.get_logger("catalog.warming")
LANGS = ("en", "ar")
DEADLINE_SECONDS = 120.0  # the timer fires every 10 minutes
CONCURRENCY = 4  # leave the pool to the shoppers

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


async def top_product_ids(limit: int) -> list[UUID]:
    async with db.connection(read_only=True) as conn, conn.cursor() as cur:
        await cur.execute(SELECT_TOP_PRODUCTS, {"limit": limit})
        return [row[0] for row in await cur.fetchall()]


def _warm_steps(product_ids: list[UUID], root_slugs: list[str]) -> list[tuple[str, Callable[[], Awaitable]]]:
    steps: list[tuple[str, Callable[[], Awaitable]]] = []
    for lang in LANGS:
        steps += [
            ("categories", lambda lang=lang: service.category_tree(lang)),
            ("brands", lambda lang=lang: service.brand_list(lang)),
            ("listings", lambda lang=lang: service.list_products(ProductQuery(), lang)),
        ]
        steps += [
            ("listings", lambda lang=lang, slug=slug: service.list_products(ProductQuery(category=slug), lang))
            for slug in root_slugs
        ]
        steps += [("products", lambda lang=lang, pid=pid: service.product_detail(pid, lang)) for pid in product_ids]
    return steps


async def warm_cache(deadline_seconds: float = DEADLINE_SECONDS) -> dict[str, int]:
    """Returns how many keys of each kind were warmed (and how many steps the deadline cut)."""
    product_ids = await top_product_ids(get_settings().cache_warm_top_products)
    roots = await service.root_category_slugs()
    steps = _warm_steps(product_ids, roots)
    stop_at = time.monotonic() + deadline_seconds
    warmed: dict[str, int] = {"categories": 0, "brands": 0, "listings": 0, "products": 0, "skipped": 0}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def run(kind: str, step: Callable[[], Awaitable]) -> None:
        async with gate:
            if time.monotonic() > stop_at:
                warmed["skipped"] += 1
                return
            await step()
            warmed[kind] += 1

    await asyncio.gather(*(run(kind, step) for kind, step in steps))
    return warmed
