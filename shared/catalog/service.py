"""The catalog's public API, what the triggers call:

- public reads, cache-aside in Redis (shared.cache.store, docs/catalog.md): cached values are
  rendered JSON bytes, so a hit is one Redis round trip and no model work. A product's page
  (60 s, availability changes often) is assembled from the product entry (1 h) and its
  per-seller offers read fresh;
- catalog management (admin.py) and sellers' offers (offers.py): each write commits, then
  invalidates the cache tags it touched (rules.write_tags);
- `warm_cache`, the timer's work: fill the hot keys (rules.warm_steps) before shoppers ask.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from uuid import UUID

from pydantic import TypeAdapter

from shared.cache import store as cache
from shared.catalog import admin, offers, repo, repo_listing, repo_offers, rules
from shared.catalog.errors import CatalogError
from shared.catalog.models import (
    BrandList,
    BrandView,
    CategoryDetail,
    CategoryNode,
    CategoryTree,
    Lang,
    ProductDetail,
    ProductPage,
    ProductQuery,
    ProductSummary,
    ProductSummaryRow,
)
from shared.catalog.models_offers import SellerOffer
from shared.data import db
from shared.platform.config import get_settings
from shared.platform.errors import NotFound
from shared.platform.pagination import cut_page

# Catalog management and sellers' offers: the use cases live in admin.py and offers.py.
language = rules.language
create = admin.create
patch = admin.patch
deactivate = admin.deactivate
create_variant = admin.create_variant
add_image = admin.add_image
remove_image = admin.remove_image
put_offer = offers.put_offer
list_offers = offers.list_offers


@functools.cache
def offers_json() -> TypeAdapter:
    return TypeAdapter(list[SellerOffer])  # built on first use, like the models (shared/platform/base_model.py)


async def _cached(
    parts: tuple[str, ...], ttl: int, tags: tuple[str, ...], load: Callable[[], Awaitable[bytes | None]]
) -> bytes | None:
    return await cache.get_or_load(cache.versioned_key(*parts), ttl=ttl, load=load, tags=tags)


# --- categories and brands -----------------------------------------------------------------


async def category_tree(lang: Lang) -> bytes:
    async def load() -> bytes:
        async with db.connection(read_only=True) as conn:
            rows = await repo.active_categories(conn)
        items = CategoryNode.tree(rules.children_by_parent(rows), lang)
        return CategoryTree(lang=lang, items=items).model_dump_json().encode()

    ttl = get_settings().cache_product_ttl_seconds
    return await _cached(("categories", lang), ttl, (rules.TAG_CATEGORIES,), load) or b""


async def category_by_slug(slug: str, lang: Lang) -> CategoryDetail:
    async with db.connection(read_only=True) as conn:
        rows = await repo.active_categories(conn)
    path = rules.category_path(rows, slug)
    if path is None:
        raise NotFound(f"no active category with slug {slug!r}", code=CatalogError.CATEGORY_NOT_FOUND)
    return CategoryDetail.from_path(path, rules.children_by_parent(rows), lang)


async def brand_list(lang: Lang) -> bytes:
    async def load() -> bytes:
        async with db.connection(read_only=True) as conn:
            rows = await repo.active_brands(conn)
        items = sorted((BrandView.from_row(r, lang) for r in rows), key=lambda brand: brand.name)
        return BrandList(lang=lang, items=items).model_dump_json().encode()

    ttl = get_settings().cache_product_ttl_seconds
    return await _cached(("brands", lang), ttl, (rules.TAG_BRANDS,), load) or b""


# --- products ----------------------------------------------------------------------------


async def _load_product(product_id: UUID, lang: Lang) -> bytes | None:
    async with db.connection(read_only=True) as conn:
        product = await repo.get_product(conn, product_id)
        if product is None or not product.is_active:
            return None
        brand = await repo.get_brand(conn, product.brand_id) if product.brand_id else None
        path = await repo.category_path(conn, product.category_id)
        variants = await repo.active_variants(conn, product_id)
        images = await repo.product_images(conn, product_id)
    return ProductDetail.from_rows(product, brand, path, variants, images, lang).model_dump_json().encode()


async def _load_offers(product_id: UUID, lang: Lang) -> bytes:
    rows = await repo_offers.product_offers(product_id)
    return offers_json().dump_json([SellerOffer.from_row(row, lang) for row in rows])


async def product_detail(product_id: UUID, lang: Lang) -> bytes:
    """The product page: one cache entry (availability TTL) assembled from the longer-lived
    product entry and fresh offers, so a hit is a single Redis round trip."""
    settings = get_settings()
    tags = (rules.product_tag(product_id), rules.TAG_STRUCTURE)

    async def assemble() -> bytes | None:
        product = await _cached(
            ("product", str(product_id), lang),
            settings.cache_product_ttl_seconds,
            tags,
            lambda: _load_product(product_id, lang),
        )
        if product is None:
            return None
        return product[:-1] + b',"offers":' + await _load_offers(product_id, lang) + b"}"

    page = await _cached(("page", str(product_id), lang), settings.cache_availability_ttl_seconds, tags, assemble)
    if page is None:
        raise NotFound(f"no active product {product_id}", code=CatalogError.PRODUCT_NOT_FOUND)
    return page


async def product_detail_by_slug(slug: str, lang: Lang) -> bytes:
    async with db.connection(read_only=True) as conn:
        product_id = await repo.product_id_by_slug(conn, slug)
    if product_id is None:
        raise NotFound(f"no active product with slug {slug!r}", code=CatalogError.PRODUCT_NOT_FOUND)
    return await product_detail(product_id, lang)


# --- listing and search --------------------------------------------------------------------


async def list_products(query: ProductQuery, lang: Lang) -> bytes:
    """A page of products; first pages (no cursor) are cached for CACHE_LISTING_TTL_SECONDS."""

    async def load() -> bytes:
        return (await _load_listing(query, lang)).model_dump_json().encode()

    if query.cursor:
        return await load()
    ttl = get_settings().cache_listing_ttl_seconds
    return await _cached(rules.listing_cache_parts(query, lang), ttl, (rules.TAG_LISTINGS,), load) or b""


async def _load_listing(query: ProductQuery, lang: Lang) -> ProductPage:
    after, mode = rules.listing_start(query)
    async with db.connection(read_only=True) as conn:
        category_ids = await repo_listing.category_subtree(conn, query.category) if query.category else None
        if category_ids == []:  # no such active category: nothing to list
            return ProductPage(lang=lang, items=[], next_cursor=None)
        plan = repo_listing.Listing(query, category_ids, mode)
        if mode == "relaxed":
            plan = replace(plan, relaxed_terms=await repo_listing.corrected_words(conn, query.q or ""))
        rows = await repo_listing.list_products(conn, plan, after)
        if not rows and query.q and mode == "strict" and after is None:  # nothing as typed: try the spelling
            terms = await repo_listing.corrected_words(conn, query.q)
            if terms:
                plan = replace(plan, mode="relaxed", relaxed_terms=terms)
                rows = await repo_listing.list_products(conn, plan, None)
    return _page(query, lang, plan.mode, rows)


def _page(query: ProductQuery, lang: Lang, mode: rules.SearchMode, rows: list[ProductSummaryRow]) -> ProductPage:
    page, next_cursor = cut_page(
        rows,
        query.limit,
        order=rules.cursor_order(query, mode),
        key_of=lambda last: (rules.sort_value(last, query.effective_sort), str(last.id)),
    )
    return ProductPage(lang=lang, items=[ProductSummary.from_row(r, lang) for r in page], next_cursor=next_cursor)


# --- the warm_cache timer ------------------------------------------------------------------
# Filling is enough (no forced rebuild): every write invalidates what it changes, so an entry
# that is present is current. Runs are idempotent and stop at a deadline, so a slow database
# can never make runs pile up.

WARM_DEADLINE_SECONDS = 120.0  # the timer fires every 10 minutes
WARM_CONCURRENCY = 4  # leave the pool to the shoppers


async def warm_cache(deadline_seconds: float = WARM_DEADLINE_SECONDS) -> dict[str, int]:
    """Returns how many keys of each kind were warmed (and how many steps the deadline cut)."""
    async with db.connection(read_only=True) as conn:
        product_ids = await repo.top_product_ids(conn, get_settings().cache_warm_top_products)
        categories = await repo.active_categories(conn)
    steps = rules.warm_steps(product_ids, rules.root_slugs(categories))
    stop_at = time.monotonic() + deadline_seconds
    warmed = dict.fromkeys((*rules.WARM_KINDS, "skipped"), 0)
    gate = asyncio.Semaphore(WARM_CONCURRENCY)

    async def run(step: rules.WarmStep) -> None:
        async with gate:
            if time.monotonic() > stop_at:
                warmed["skipped"] += 1
                return
            await _warm(step)
            warmed[step.kind] += 1

    await asyncio.gather(*(run(step) for step in steps))
    return warmed


async def _warm(step: rules.WarmStep) -> None:
    if step.kind == "categories":
        await category_tree(step.lang)
    elif step.kind == "brands":
        await brand_list(step.lang)
    elif step.kind == "listings":
        await list_products(ProductQuery(category=step.category), step.lang)
    elif step.product_id is not None:
        await product_detail(step.product_id, step.lang)
