"""Sellers manage their own offers: price and stock per variant (`/api/sellers/{seller_id}/offers`).

A seller token carries its `seller_id`; another seller's id answers 404 (not 403), so ids of
other sellers cannot be probed. Admins may act for any seller.
"""

from uuid import UUID

import azure.functions as func

from shared.catalog import service as catalog
from shared.catalog.models_offers import OfferPage, OfferPut, OfferQuery, OfferRow
from shared.platform.auth import SELLER_ROLES
from shared.platform.http import ApiCall, Reply, endpoint

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint


@bp.route(route="sellers/{seller_id:guid}/offers/{variant_id:guid}", methods=["PUT"], auth_level=ANONYMOUS)
@endpoint(
    summary="Set my price and stock for a variant (on_hand never below reserved: 409)",
    body=OfferPut,
    response=OfferRow,
    roles=SELLER_ROLES,
    tags=("sellers",),
    errors=(409,),
)
async def put_offer(call: ApiCall) -> Reply:
    offer = await catalog.put_offer(call.user, UUID(call.route["seller_id"]), UUID(call.route["variant_id"]), call.body)
    return Reply(body=offer, headers={"ETag": f'"{offer.version}"'})


@bp.route(route="sellers/{seller_id:guid}/offers", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My offers (low_stock=true: at or below the threshold)",
    query=OfferQuery,
    response=OfferPage,
    roles=SELLER_ROLES,
    tags=("sellers",),
)
async def list_offers(call: ApiCall) -> OfferPage:
    return await catalog.list_offers(call.user, UUID(call.route["seller_id"]), call.query)
