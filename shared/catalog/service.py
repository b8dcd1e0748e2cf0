"""Public catalog reads, cache-aside in Redis (see shared.cache.store and docs/catalog.md).

Cached values are rendered JSON bytes, so a hit is one Redis round trip and no model work. A
product's page (60 s, availability changes often) is assembled from the product entry (1 h)
and its per-seller offers read fresh. Writers call `invalidate_*` after their transaction
commits.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from uuid import UUID

from pydantic import TypeAdapter

from shared.cache import store as cache
from shared.catalog import listing, repo
from shared.catalog.models import (
    BrandList,
    BrandView,
    CategoryDetail,
    CategoryLink,
    CategoryNode,
    CategoryRow,
    CategoryTree,
    ImageView,
    Lang,
    OfferAvailabilityRow,
    ProductDetail,
    ProductPage,
    ProductQuery,
    ProductSummary,
    ProductSummaryRow,
    SellerOffer,
    SellerView,
    VariantView,
    pick,
)
from shared.data import db
from shared.platform.config import get_settings
from shared.platform.errors import NotFound, ValidationFailed
from shared.platform.pagination import cut_page, decode_cursor

TAG_CATEGORIES, TAG_BRANDS, TAG_LISTINGS = "categories", "brands", "listings"
# Product pages show brand and category names: renaming either invalidates every cached page.
TAG_STRUCTURE = "catalog-structure"


@functools.cache
def offers_json() -> TypeAdapter:
    return TypeAdapter(list[SellerOffer])  # built on first use, like the models (shared/platform/base_model.py)


def product_tag(product_id: UUID) -> str:
    return f"product:{product_id}"


async def _cached(
    parts: tuple[str, ...], ttl: int, tags: tuple[str, ...], load: Callable[[], Awaitable[bytes | None]]
) -> bytes | None:
    return await cache.get_or_load(cache.versioned_key(*parts), ttl=ttl, load=load, tags=tags)


# --- categories and brands -----------------------------------------------------------------


def build_tree(rows: list[CategoryRow], lang: Lang) -> list[CategoryNode]:
    """Nest the active categories; a child of an inactive parent is hidden with it."""
    nodes = {row.id: CategoryNode.from_row(row, lang) for row in rows}
    roots: list[CategoryNode] = []
    for row in rows:  # rows come sorted, so children keep the sort order
        if row.parent_id is None:
            roots.append(nodes[row.id])
        elif row.parent_id in nodes:
            nodes[row.parent_id].children.append(nodes[row.id])
    return roots


async def category_tree(lang: Lang) -> bytes:
    async def load() -> bytes:
        async with db.connection(read_only=True) as conn:
            rows = await repo.active_categories(conn)
        return CategoryTree(lang=lang, items=build_tree(rows, lang)).model_dump_json().encode()

    ttl = get_settings().cache_product_ttl_seconds
    return await _cached(("categories", lang), ttl, (TAG_CATEGORIES,), load) or b""


async def category_by_slug(slug: str, lang: Lang) -> CategoryDetail:
    async with db.connection(read_only=True) as conn:
        rows = await repo.active_categories(conn)
    found = next((r for r in rows if slug in (r.slug_en, r.slug_ar)), None)
    path = _path_to(found, {r.id: r for r in rows}) if found else None
    if found is None or path is None:
        raise NotFound(f"no active category with slug {slug!r}", code="category_not_found")
    subtree = next(node for node in _flatten(build_tree(rows, lang)) if node.id == found.id)
    links = [CategoryLink.from_row(r, lang) for r in path]
    return CategoryDetail(**subtree.model_dump(), slug_en=found.slug_en, slug_ar=found.slug_ar, path=links)


def _path_to(row: CategoryRow, active: dict[UUID, CategoryRow]) -> list[CategoryRow] | None:
    """Root-to-row ancestors; None when one of them is inactive (the row is hidden with it)."""
    path = [row]
    while path[0].parent_id is not None:
        parent = active.get(path[0].parent_id)
        if parent is None:
            return None
        path.insert(0, parent)
    return path


def _flatten(nodes: list[CategoryNode]):
    for node in nodes:
        yield node
        yield from _flatten(node.children)


async def brand_list(lang: Lang) -> bytes:
    async def load() -> bytes:
        async with db.connection(read_only=True) as conn:
            rows = await repo.active_brands(conn)
        items = [BrandView.from_row(r, lang) for r in rows]
        items.sort(key=lambda brand: brand.name)
        return BrandList(lang=lang, items=items).model_dump_json().encode()

    ttl = get_settings().cache_product_ttl_seconds
    return await _cached(("brands", lang), ttl, (TAG_BRANDS,), load) or b""


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
    detail = ProductDetail(
        id=product.id,
        lang=lang,
        slug=pick(lang, product.slug_en, product.slug_ar),
        slug_en=product.slug_en,
        slug_ar=product.slug_ar,
        name=pick(lang, product.name_en, product.name_ar),
        description=pick(lang, product.description_en, product.description_ar),
        meta_title=pick(lang, product.meta_title_en, product.meta_title_ar),
        meta_description=pick(lang, product.meta_description_en, product.meta_description_ar),
        requires_prescription=product.requires_prescription,
        attributes=product.attributes,
        price_from=product.min_price,
        brand=BrandView.from_row(brand, lang) if brand and brand.is_active else None,
        category_path=[CategoryLink.from_row(c, lang) for c in path],
        variants=[
            VariantView(
                id=v.id,
                sku=v.sku,
                options=v.options,
                barcode=v.barcode,
                price=v.price,
                sale_price=v.sale_price,
                effective_price=v.sale_price or v.price,
            )
            for v in variants
        ],
        images=[ImageView(id=i.id, url=i.url, alt=pick(lang, i.alt_en, i.alt_ar)) for i in images],
        version=product.version,
        updated_at=product.updated_at,
    )
    return detail.model_dump_json().encode()


def seller_offer(row: OfferAvailabilityRow, lang: Lang) -> SellerOffer:
    seller = SellerView(id=row.seller_id, slug=row.seller_slug, name=pick(lang, row.seller_name_en, row.seller_name_ar))
    return SellerOffer(
        variant_id=row.variant_id,
        seller=seller,
        price=row.price,
        available=max(row.available, 0),
        in_stock=row.available > 0,
        low_stock=0 < row.available <= row.low_stock_threshold,
    )


async def _load_offers(product_id: UUID, lang: Lang) -> bytes:
    rows = await repo.product_offers(product_id)
    return offers_json().dump_json([seller_offer(row, lang) for row in rows])


async def product_detail(product_id: UUID, lang: Lang) -> bytes:
    """The product page: one cache entry (availability TTL) assembled from the longer-lived
    product entry and fresh offers, so a hit is a single Redis round trip."""
    settings = get_settings()
    tags = (product_tag(product_id), TAG_STRUCTURE)

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
        raise NotFound(f"no active product {product_id}", code="product_not_found")
    return page


async def product_detail_by_slug(slug: str, lang: Lang) -> bytes:
    async with db.connection(read_only=True) as conn:
        product_id = await repo.product_id_by_slug(conn, slug)
    if product_id is None:
        raise NotFound(f"no active product with slug {slug!r}", code="product_not_found")
    return await product_detail(product_id, lang)


def listing_cache_parts(query: ProductQuery, lang: Lang) -> tuple[str, ...]:
    canonical = query.model_dump_json(exclude={"cursor", "lang"})
    return "listing", lang, hashlib.sha256(canonical.encode()).hexdigest()[:32]


async def list_products(query: ProductQuery, lang: Lang) -> bytes:
    """A page of products; first pages (no cursor) are cached for CACHE_LISTING_TTL_SECONDS."""

    async def load() -> bytes:
        return (await _load_listing(query, lang)).model_dump_json().encode()

    if query.cursor:
        return await load()
    ttl = get_settings().cache_listing_ttl_seconds
    return await _cached(listing_cache_parts(query, lang), ttl, (TAG_LISTINGS,), load) or b""


async def _load_listing(query: ProductQuery, lang: Lang) -> ProductPage:
    after, mode = _listing_cursor(query)
    async with db.connection(read_only=True) as conn:
        category_ids = await listing.category_subtree(conn, query.category) if query.category else None
        if category_ids == []:  # no such active category: nothing to list
            return ProductPage(lang=lang, items=[], next_cursor=None)
        plan = listing.Listing(query, category_ids, mode)
        if mode == "relaxed":
            plan = replace(plan, relaxed_terms=await listing.corrected_words(conn, query.q or ""))
        rows = await listing.list_products(conn, plan, after)
        if not rows and query.q and mode == "strict" and after is None:  # nothing as typed: try the spelling
            terms = await listing.corrected_words(conn, query.q)
            if terms:
                plan = replace(plan, mode="relaxed", relaxed_terms=terms)
                rows = await listing.list_products(conn, plan, None)
    return _page(query, lang, plan.mode, rows)


def _cursor_sort(query: ProductQuery, mode: str) -> str:
    return f"{query.effective_sort}:{mode}" if query.q else query.effective_sort


def _listing_cursor(query: ProductQuery) -> tuple[tuple[str, UUID] | None, str]:
    """Where the page starts, and whether the search ran relaxed (the cursor remembers it)."""
    if not query.cursor or not query.q:
        return _sort_key(query.cursor, query.effective_sort), "strict"
    for mode in ("strict", "relaxed"):
        try:
            return _sort_key(query.cursor, _cursor_sort(query, mode)), mode
        except ValidationFailed:
            continue
    return _sort_key(query.cursor, _cursor_sort(query, "strict")), "strict"  # raises the 422


def _sort_key(cursor: str | None, order: str) -> tuple[str, UUID] | None:
    key = decode_cursor(cursor, order)
    return (key[0], UUID(key[1])) if key else None


def _page(query: ProductQuery, lang: Lang, mode: str, rows: list) -> ProductPage:
    page, next_cursor = cut_page(
        rows,
        query.limit,
        order=_cursor_sort(query, mode),
        key_of=lambda last: (_sort_value(last, query.effective_sort), str(last.id)),
    )
    return ProductPage(lang=lang, items=[ProductSummary.from_row(r, lang) for r in page], next_cursor=next_cursor)


def _sort_value(row: ProductSummaryRow, sort: str) -> str:
    """The row's sort key as the cursor keeps it (exact: repr of a float round-trips)."""
    if sort == "newest":
        return row.created_at.isoformat()
    return repr(row.rank) if sort == "relevance" else str(row.min_price)


async def invalidate_product(product_id: UUID) -> None:
    await cache.invalidate(product_tag(product_id), TAG_LISTINGS)


async def invalidate_structure(*tags: str) -> None:
    """After a category or brand write: the tree or brand list, every listing and product page."""
    await cache.invalidate(*tags, TAG_LISTINGS, TAG_STRUCTURE)


async def root_category_slugs() -> list[str]:
    async with db.connection(read_only=True) as conn:
        rows = await repo.active_categories(conn)
    return [row.slug_en for row in rows if row.parent_id is None]
