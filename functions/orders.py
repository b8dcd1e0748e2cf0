"""Shoppers' orders (`/api/orders`): place one (idempotent), read their own."""

from uuid import UUID

import azure.functions as func

from shared.http import ApiCall, Reply, endpoint
from shared.orders import service as orders
from shared.orders.models import Order, PlaceOrder

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token is checked by @endpoint
TAGS = ("orders",)


@bp.route(route="orders", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(summary="Place an order (Idempotency-Key header required; stock reserved until paid or expired)",
          body=PlaceOrder, response=Order, status=201, authenticated=True, tags=TAGS)
async def place_order(call: ApiCall) -> Reply:
    order, replayed = await orders.place(call.user, call.body, call.request.headers.get("idempotency-key"))
    headers = {"Location": f"/api/orders/{order.id}", "ETag": f'"{order.version}"'}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Reply(body=order, status=201, headers=headers)


@bp.route(route="orders/{id:guid}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="One of my orders with its seller orders, items and history", response=Order,
          authenticated=True, tags=TAGS)
async def get_my_order(call: ApiCall) -> Order:
    return await orders.my_order(call.user, UUID(call.route["id"]))
