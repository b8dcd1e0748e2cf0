"""Message threads, sellers' side: any staff token of a seller reads and answers that seller's
threads (they share its side: one watermark, one unread count); another seller's thread is 404."""

from uuid import UUID

import azure.functions as func

from shared.platform.http import ApiCall, Reply, endpoint
from shared.threads import service as threads
from shared.threads.models import (
    SELLER_STAFF,
    AttachmentTicket,
    AttachmentUrl,
    EditMessage,
    Message,
    MessagePage,
    MessagesQuery,
    PostMessage,
    ReadMark,
    ReadUpTo,
    StartAttachment,
    ThreadPage,
    ThreadsQuery,
    Unread,
)

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint
TAGS = ("threads",)
THREAD = "seller/threads/{id:guid}"
MESSAGE = f"{THREAD}/messages/{{message_id:long}}"


def _thread(call: ApiCall) -> UUID:
    return UUID(call.route["id"])


@bp.route(route="seller/threads", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My seller's threads, newest activity first (keyset pages), with unread counts and the shopper's name",
    query=ThreadsQuery,
    response=ThreadPage,
    roles=SELLER_STAFF,
    tags=TAGS,
)
async def list_seller_threads(call: ApiCall) -> ThreadPage:
    return await threads.list_threads(threads.seller_party(call.user), call.query)


@bp.route(route=f"{THREAD}/messages", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Messages of my seller's thread: the latest, ?before= an id (back) or ?after= an id (poll)",
    query=MessagesQuery,
    response=MessagePage,
    roles=SELLER_STAFF,
    tags=TAGS,
)
async def list_seller_thread_messages(call: ApiCall) -> MessagePage:
    return await threads.list_messages(threads.seller_party(call.user), _thread(call), call.query)


@bp.route(route=f"{THREAD}/messages", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Answer in my seller's thread (a retry with the same client_message_id returns the first post, 200)",
    body=PostMessage,
    response=Message,
    status=201,
    also=(200,),
    roles=SELLER_STAFF,
    tags=TAGS,
    errors=(409,),
)
async def post_seller_thread_message(call: ApiCall) -> Reply:
    message, posted = await threads.post_message(threads.seller_party(call.user), _thread(call), call.body)
    return Reply(body=message, status=201 if posted else 200)


@bp.route(route=MESSAGE, methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(
    summary="Edit my own message within the edit window",
    body=EditMessage,
    response=Message,
    roles=SELLER_STAFF,
    tags=TAGS,
    errors=(409,),
)
async def edit_seller_thread_message(call: ApiCall) -> Message:
    party = threads.seller_party(call.user)
    return await threads.edit_own_message(party, _thread(call), int(call.route["message_id"]), call.body)


@bp.route(route=MESSAGE, methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(
    summary="Delete my own message within the edit window (blanked, kept)",
    response=Message,
    roles=SELLER_STAFF,
    tags=TAGS,
    errors=(409,),
)
async def delete_seller_thread_message(call: ApiCall) -> Message:
    party = threads.seller_party(call.user)
    return await threads.delete_own_message(party, _thread(call), int(call.route["message_id"]))


@bp.route(route=f"{THREAD}/read", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Move my seller's read watermark forward to up_to (never back)",
    body=ReadUpTo,
    response=ReadMark,
    roles=SELLER_STAFF,
    tags=TAGS,
)
async def mark_seller_thread_read(call: ApiCall) -> ReadMark:
    return await threads.mark_read(threads.seller_party(call.user), _thread(call), call.body.up_to)


@bp.route(route="seller/unread", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My seller's unread messages: the total and per thread", response=Unread, roles=SELLER_STAFF, tags=TAGS
)
async def get_seller_unread(call: ApiCall) -> Unread:
    return await threads.unread(threads.seller_party(call.user))


@bp.route(route=f"{THREAD}/attachments", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Start an attachment in my seller's thread: its id and a write-only URL (PUT, 5 minutes)",
    body=StartAttachment,
    response=AttachmentTicket,
    status=201,
    roles=SELLER_STAFF,
    tags=TAGS,
    errors=(503,),
)
async def start_seller_thread_attachment(call: ApiCall) -> Reply:
    ticket = await threads.start_attachment(threads.seller_party(call.user), _thread(call), call.body)
    return Reply(body=ticket, status=201)


@bp.route(route=f"{THREAD}/attachments/{{attachment_id:guid}}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="A read-only URL of an attachment of my seller's thread, valid 5 minutes",
    response=AttachmentUrl,
    roles=SELLER_STAFF,
    tags=TAGS,
    errors=(409, 503),
)
async def get_seller_thread_attachment(call: ApiCall) -> AttachmentUrl:
    party, attachment = threads.seller_party(call.user), UUID(call.route["attachment_id"])
    return await threads.attachment_url(
        party, _thread(call), attachment, threads.audit_source(call.user, call.request.headers)
    )
