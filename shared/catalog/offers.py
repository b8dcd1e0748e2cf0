"""Sellers manage their own offers: price and stock per variant. A seller acts only for itself
(rules.own_seller); an offer write invalidates its product's cached pages after it commits."""

from __future__ import annotations

from uuid import UUID

from shared.cache import store as cache
from shared.catalog import repo_offers, rules
from shared.catalog.admin import integrity_errors
from shared.catalog.models_offers import OfferPage, OfferPut, OfferQuery, OfferRow
from shared.data import db
from shared.platform.auth import Principal
from shared.platform.pagination import cut_page, fetch_size


async def put_offer(principal: Principal, seller_id: UUID, variant_id: UUID, body: OfferPut) -> OfferRow:
    """Insert or replace the seller's offer; on_hand below the reserved units is a 409."""
    rules.own_seller(principal, seller_id)
    async with integrity_errors(frozenset({"seller_id", "variant_id"})), db.transaction() as conn:
        offer = await repo_offers.upsert_offer(conn, seller_id, variant_id, body.model_dump())
    await cache.invalidate(*rules.product_write_tags(offer.product_id))
    return offer


async def list_offers(principal: Principal, seller_id: UUID, query: OfferQuery) -> OfferPage:
    rules.own_seller(principal, seller_id)
    after = rules.offers_after(query.cursor)
    async with db.connection(read_only=True) as conn:
        if not await repo_offers.seller_exists(conn, seller_id):
            raise rules.seller_not_found(seller_id)
        rows = await repo_offers.list_seller_offers(
            conn, seller_id, low_stock_only=bool(query.low_stock), after=after, limit=fetch_size(query.limit)
        )
    items, next_cursor = cut_page(
        rows, query.limit, order=rules.OFFER_ORDER, key_of=lambda last: (str(last.variant_id),)
    )
    return OfferPage(items=items, next_cursor=next_cursor)
