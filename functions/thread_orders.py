"""Order requests inside threads, and ORDER threads: a seller proposes an order in a thread, the
shopper accepts it (the order is placed like `POST /api/orders`), declines it, or the seller
cancels it; a timer expires old ones. Each child order has a thread between its shopper and
its seller, created by the first message."""

from uuid import UUID

import azure.functions as func

from shared.platform.http import ApiCall, Reply, endpoint
from shared.platform.jobs import background_job
from shared.thread_orders import service as thread_orders
from shared.thread_orders.models import (
    AcceptedOrderRequest,
    AcceptOrderRequest,
    OrderRequest,
    OrderThread,
    OrderThreadQuery,
    PostOrderMessage,
    ProposeOrder,
)
from shared.threads.models import SELLER_STAFF, Message

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint
TAGS = ("threads",)
SELLER_TAGS = ("threads", "sellers")
REQUEST = "threads/{id:guid}/order-requests/{rid:guid}"
SELLER_REQUEST = "seller/" + REQUEST


def _ids(call: ApiCall) -> tuple[UUID, UUID]:
    return UUID(call.route["id"]), UUID(call.route["rid"])


@bp.route(route="seller/threads/{id:guid}/order-requests", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Propose an order in my thread: lines of my own offers, priced by the server now (client_id: retries)",
    body=ProposeOrder,
    response=OrderRequest,
    status=201,
    roles=SELLER_STAFF,
    tags=SELLER_TAGS,
    errors=(422,),
    links={"GetSellerOrderRequest": ("get_seller_order_request", "rid")},
)
async def propose_order_request(call: ApiCall) -> Reply:
    request, made = await thread_orders.propose(call.user, UUID(call.route["id"]), call.body)
    location = f"/api/seller/threads/{request.thread_id}/order-requests/{request.id}"
    return Reply(body=request, status=201 if made else 200, headers={"Location": location})


@bp.route(route=SELLER_REQUEST, methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="An order request in my thread", response=OrderRequest, roles=SELLER_STAFF, tags=SELLER_TAGS)
async def get_seller_order_request(call: ApiCall) -> OrderRequest:
    return await thread_orders.seller_request(call.user, *_ids(call))


@bp.route(route=SELLER_REQUEST + "/cancel", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Cancel my order request while it is pending",
    response=OrderRequest,
    roles=SELLER_STAFF,
    tags=SELLER_TAGS,
    errors=(409,),
)
async def cancel_order_request(call: ApiCall) -> OrderRequest:
    return await thread_orders.cancel(call.user, *_ids(call))


@bp.route(route=REQUEST, methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="An order request in my thread", response=OrderRequest, authenticated=True, tags=TAGS)
async def get_order_request(call: ApiCall) -> OrderRequest:
    return await thread_orders.my_request(call.user, *_ids(call))


@bp.route(route=REQUEST + "/accept", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Accept an order request: the order is placed (201); accepted before: the same order (200)",
    body=AcceptOrderRequest,
    response=AcceptedOrderRequest,
    status=201,
    authenticated=True,
    tags=TAGS,
    errors=(409, 422),
)
async def accept_order_request(call: ApiCall) -> Reply:
    accepted, placed = await thread_orders.accept(call.user, *_ids(call), call.body)
    return Reply(body=accepted, status=201 if placed else 200, headers={"Location": f"/api/orders/{accepted.order.id}"})


@bp.route(route=REQUEST + "/decline", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Decline an order request while it is pending",
    response=OrderRequest,
    authenticated=True,
    tags=TAGS,
    errors=(409,),
)
async def decline_order_request(call: ApiCall) -> OrderRequest:
    return await thread_orders.decline(call.user, *_ids(call))


@bp.route(route="orders/{id:guid}/thread", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="The thread about one of my child orders (its id: a seller order of my order) and its messages",
    query=OrderThreadQuery,
    response=OrderThread,
    authenticated=True,
    tags=TAGS,
)
async def get_order_thread(call: ApiCall) -> OrderThread:
    return await thread_orders.order_thread(call.user, UUID(call.route["id"]), call.query, as_seller=False)


@bp.route(route="orders/{id:guid}/thread/messages", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Post about one of my child orders to its seller (the thread is created by the first message)",
    body=PostOrderMessage,
    response=Message,
    status=201,
    authenticated=True,
    tags=TAGS,
)
async def post_order_message(call: ApiCall) -> Reply:
    message, posted = await thread_orders.post_order_message(
        call.user, UUID(call.route["id"]), call.body, as_seller=False
    )
    return Reply(body=message, status=201 if posted else 200)


@bp.route(route="seller/orders/{id:guid}/thread", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="The thread about one of my child orders and its messages",
    query=OrderThreadQuery,
    response=OrderThread,
    roles=SELLER_STAFF,
    tags=SELLER_TAGS,
)
async def get_seller_order_thread(call: ApiCall) -> OrderThread:
    return await thread_orders.order_thread(call.user, UUID(call.route["id"]), call.query, as_seller=True)


@bp.route(route="seller/orders/{id:guid}/thread/messages", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Post to the shopper about one of my child orders (the thread is created by the first message)",
    body=PostOrderMessage,
    response=Message,
    status=201,
    roles=SELLER_STAFF,
    tags=SELLER_TAGS,
)
async def post_seller_order_message(call: ApiCall) -> Reply:
    message, posted = await thread_orders.post_order_message(
        call.user, UUID(call.route["id"]), call.body, as_seller=True
    )
    return Reply(body=message, status=201 if posted else 200)


@bp.timer_trigger(schedule="0 */5 * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def expire_order_requests(timer: func.TimerRequest, context: func.Context) -> dict:
    run = await thread_orders.expire_order_requests()
    return {"order_requests_expired": run.expired, "batches": run.batches}
