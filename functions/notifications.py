"""In-app notifications: made from order events (queue trigger), read by shoppers and sellers."""

import azure.functions as func

from shared.notifications import service as notifications
from shared.notifications.models import MarkedRead, MarkRead, NotificationPage, NotificationQuery
from shared.platform.config import get_settings
from shared.platform.http import ApiCall, endpoint
from shared.platform.jobs import background_job

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint
SELLER = frozenset({"seller"})


@bp.queue_trigger(arg_name="msg", queue_name="%ORDER_EVENTS_QUEUE%", connection="AzureWebJobsStorage")
@background_job
async def on_order_event(msg: func.QueueMessage, context: func.Context) -> dict:
    outcome = await notifications.consume_order_event(
        msg.get_body(),
        queue_name=get_settings().order_events_queue,
        message_id=msg.id,
        dequeue_count=msg.dequeue_count or 1,
    )
    return {"event_message": msg.id, "outcome": outcome, "dequeue_count": msg.dequeue_count}


@bp.route(route="me/notifications", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My notifications, newest first (keyset pages; unread=true for unread only)",
    query=NotificationQuery,
    response=NotificationPage,
    authenticated=True,
    tags=("notifications",),
)
async def list_my_notifications(call: ApiCall) -> NotificationPage:
    return await notifications.list_shopper_notifications(call.user, call.query)


@bp.route(route="me/notifications/read", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Mark my notifications read (ids, or all: true)",
    body=MarkRead,
    response=MarkedRead,
    authenticated=True,
    tags=("notifications",),
)
async def mark_my_notifications_read(call: ApiCall) -> MarkedRead:
    return await notifications.mark_shopper_notifications_read(call.user, call.body)


@bp.route(route="seller/notifications", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My seller account's notifications, newest first (keyset pages)",
    query=NotificationQuery,
    response=NotificationPage,
    roles=SELLER,
    tags=("notifications",),
)
async def list_seller_notifications(call: ApiCall) -> NotificationPage:
    return await notifications.list_seller_notifications(call.user, call.query)


@bp.route(route="seller/notifications/read", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Mark my seller account's notifications read (ids, or all: true)",
    body=MarkRead,
    response=MarkedRead,
    roles=SELLER,
    tags=("notifications",),
)
async def mark_seller_notifications_read(call: ApiCall) -> MarkedRead:
    return await notifications.mark_seller_notifications_read(call.user, call.body)
