"""Reading orders: the shopper's list, the seller's child orders, the admins' list and the
dashboards. Admin routes live under `/api/ops/…`: the Functions host reserves every route that
starts with `admin`, even under `/api`.
"""

from uuid import UUID

import azure.functions as func

from shared.orders import service as orders
from shared.orders.models import (
    MyOrdersQuery,
    OpsOrderPage,
    OpsOrdersQuery,
    Order,
    OrderPage,
    OrderStats,
    SellerOrderPage,
    SellerOrdersQuery,
    SellerStats,
    StatsQuery,
)
from shared.orders.models_seller import SellerOrderView
from shared.platform.auth import ADMIN_ROLES, SELLER_ONLY, SELLER_ROLES
from shared.platform.http import ApiCall, endpoint

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint


@bp.route(route="orders", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My orders, newest first (keyset pages; ?status= on the order's status)",
    query=MyOrdersQuery,
    response=OrderPage,
    authenticated=True,
    tags=("orders",),
)
async def list_my_orders(call: ApiCall) -> OrderPage:
    return await orders.list_my_orders(call.user, call.query)


@bp.route(route="seller/orders", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My child orders as a seller, newest first (keyset pages; ?status= on the child's status)",
    query=SellerOrdersQuery,
    response=SellerOrderPage,
    roles=SELLER_ROLES,
    tags=("sellers",),
)
async def list_seller_orders(call: ApiCall) -> SellerOrderPage:
    return await orders.list_seller_orders(call.user, call.query)


@bp.route(route="seller/orders/{id:guid}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="One of my child orders: my items, totals and history, and where to deliver",
    response=SellerOrderView,
    roles=SELLER_ROLES,
    tags=("sellers",),
)
async def get_seller_order(call: ApiCall) -> SellerOrderView:
    return await orders.seller_order(call.user, UUID(call.route["id"]))


@bp.route(route="seller/stats", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My sales figures over a date range (default: the last 30 days)",
    query=StatsQuery,
    response=SellerStats,
    roles=SELLER_ONLY,
    tags=("sellers",),
)
async def get_seller_stats(call: ApiCall) -> SellerStats:
    return await orders.seller_stats(call.user, call.query)


@bp.route(route="ops/sellers/{id:guid}/stats", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Any seller's sales figures over a date range (default: the last 30 days)",
    query=StatsQuery,
    response=SellerStats,
    roles=ADMIN_ROLES,
    tags=("ops",),
)
async def get_ops_seller_stats(call: ApiCall) -> SellerStats:
    return await orders.any_seller_stats(UUID(call.route["id"]), call.query)


@bp.route(route="ops/orders", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="All orders, newest first (?status=&seller=<id or slug>&from=&to=)",
    query=OpsOrdersQuery,
    response=OpsOrderPage,
    roles=ADMIN_ROLES,
    tags=("ops",),
)
async def list_ops_orders(call: ApiCall) -> OpsOrderPage:
    return await orders.list_ops_orders(call.query)


@bp.route(route="ops/orders/{id:guid}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Any order with its seller orders, items and history", response=Order, roles=ADMIN_ROLES, tags=("ops",)
)
async def get_ops_order(call: ApiCall) -> Order:
    return await orders.any_order(UUID(call.route["id"]))


@bp.route(route="ops/stats", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Marketplace order figures over a date range (default: the last 30 days)",
    query=StatsQuery,
    response=OrderStats,
    roles=ADMIN_ROLES,
    tags=("ops",),
)
async def get_ops_stats(call: ApiCall) -> OrderStats:
    return await orders.marketplace_stats(call.query)
