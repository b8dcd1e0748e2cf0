"""Orders: shoppers place (idempotent), read and cancel their own; sellers and admins move statuses."""

from uuid import UUID

import azure.functions as func

from shared.orders import service as orders
from shared.orders.models import CancelRequest, Order, PlaceOrder, TransitionRequest, TransitionResult
from shared.platform.auth import SELLER_ROLES
from shared.platform.http import ApiCall, HeaderParam, Reply, endpoint

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token is checked by @endpoint
TAGS = ("orders",)
IDEMPOTENCY_KEY = HeaderParam(
    "Idempotency-Key",
    "a key of your choosing (e.g. a UUID): a retry with the same key and body returns the first order",
    pattern=r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$",
    max_length=255,
)


@bp.route(route="orders", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Place an order (Idempotency-Key header required; stock reserved until paid or expired)",
    body=PlaceOrder,
    response=Order,
    status=201,
    authenticated=True,
    tags=TAGS,
    headers=(IDEMPOTENCY_KEY,),
    errors=(409,),
    links={"GetOrder": ("get_my_order", "id"), "CancelOrder": ("cancel_my_order", "id")},
)
async def place_order(call: ApiCall) -> Reply:
    order, replayed = await orders.place(call.user, call.body, call.request.headers.get("idempotency-key"))
    headers = {"Location": f"/api/orders/{order.id}", "ETag": f'"{order.version}"'}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Reply(body=order, status=201, headers=headers)


@bp.route(route="orders/{id:guid}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="One of my orders with its seller orders, items and history", response=Order, authenticated=True, tags=TAGS
)
async def get_my_order(call: ApiCall) -> Order:
    return await orders.my_order(call.user, UUID(call.route["id"]))


@bp.route(route="orders/{id:guid}/cancel", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Cancel my order before the sellers start processing it (stock goes back)",
    body=CancelRequest,
    response=Order,
    authenticated=True,
    tags=TAGS,
    errors=(409,),
)
async def cancel_my_order(call: ApiCall) -> Order:
    return await orders.cancel_my_order(call.user, UUID(call.route["id"]), call.body)


@bp.route(route="seller/orders/{id:guid}/transitions", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Move my seller order's status or delivery status (admins: any order)",
    body=TransitionRequest,
    response=TransitionResult,
    roles=SELLER_ROLES,
    tags=TAGS,
    errors=(409,),
)
async def transition_seller_order(call: ApiCall) -> TransitionResult:
    return await orders.transition(call.user, UUID(call.route["id"]), call.body)
