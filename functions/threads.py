"""Message threads, shoppers' side: start an inquiry about a product or a direct thread with a
seller, list my threads, read and post messages (attachments, replies, retries with a client
message id), edit or delete my own, move my read watermark, report a message. Support reads any
thread (audited) and the reports; the daily timer archives quiet threads (monthly partitions
are kept by functions/ops.py's maintain_partitions). Sellers' routes: functions/seller_threads.py."""

from uuid import UUID

import azure.functions as func

from shared.platform.http import ApiCall, Reply, endpoint
from shared.platform.jobs import background_job
from shared.threads import service as threads
from shared.threads.models import (
    MODERATOR_ROLES,
    AttachmentTicket,
    AttachmentUrl,
    EditMessage,
    Message,
    MessagePage,
    MessagesQuery,
    ModerationView,
    PostMessage,
    ReadMark,
    ReadUpTo,
    Report,
    ReportMessage,
    ReportPage,
    ReportsQuery,
    StartAttachment,
    StartInquiry,
    Thread,
    ThreadPage,
    ThreadsQuery,
    Unread,
)

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint
TAGS = ("threads",)
MESSAGE = "threads/{id:guid}/messages/{message_id:long}"


def _thread(call: ApiCall) -> UUID:
    return UUID(call.route["id"])


def _found_or_made(thread: Thread, created: bool) -> Reply:
    return Reply(
        body=thread, status=201 if created else 200, headers={"Location": f"/api/threads/{thread.id}/messages"}
    )


@bp.route(route="products/{id:guid}/inquiries", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Find or start my inquiry about this product with this seller (201 new, with its welcome; 200 found)",
    body=StartInquiry,
    response=Thread,
    status=201,
    also=(200,),
    authenticated=True,
    tags=TAGS,
)
async def start_inquiry(call: ApiCall) -> Reply:
    return _found_or_made(*await threads.start_inquiry(call.user, UUID(call.route["id"]), call.body.seller_id))


@bp.route(route="sellers/{seller_id:guid}/direct", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Find or start my direct thread with this seller (201 new, 200 found)",
    response=Thread,
    status=201,
    also=(200,),
    authenticated=True,
    tags=TAGS,
)
async def start_direct_thread(call: ApiCall) -> Reply:
    return _found_or_made(*await threads.start_direct(call.user, UUID(call.route["seller_id"])))


@bp.route(route="threads", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My threads, newest activity first (keyset pages), with unread counts, last message and the seller's name",
    query=ThreadsQuery,
    response=ThreadPage,
    authenticated=True,
    tags=TAGS,
)
async def list_my_threads(call: ApiCall) -> ThreadPage:
    return await threads.list_threads(threads.shopper_party(call.user), call.query)


@bp.route(route="threads/{id:guid}/messages", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Messages of my thread, oldest first: the latest, ?before= an id (back) or ?after= an id (poll)",
    query=MessagesQuery,
    response=MessagePage,
    authenticated=True,
    tags=TAGS,
)
async def list_thread_messages(call: ApiCall) -> MessagePage:
    return await threads.list_messages(threads.shopper_party(call.user), _thread(call), call.query)


@bp.route(route="threads/{id:guid}/messages", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Post to my thread: text, attachments, a reply; a retry (same client_message_id) returns the first (200)",
    body=PostMessage,
    response=Message,
    status=201,
    also=(200,),
    authenticated=True,
    tags=TAGS,
    errors=(409,),
)
async def post_thread_message(call: ApiCall) -> Reply:
    message, posted = await threads.post_message(threads.shopper_party(call.user), _thread(call), call.body)
    return Reply(body=message, status=201 if posted else 200)


@bp.route(route=MESSAGE, methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(
    summary="Edit my message within the edit window (the previous text is kept for support)",
    body=EditMessage,
    response=Message,
    authenticated=True,
    tags=TAGS,
    errors=(409,),
)
async def edit_thread_message(call: ApiCall) -> Message:
    party = threads.shopper_party(call.user)
    return await threads.edit_own_message(party, _thread(call), int(call.route["message_id"]), call.body)


@bp.route(route=MESSAGE, methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(
    summary="Delete my message within the edit window (the body is blanked, the message stays)",
    response=Message,
    authenticated=True,
    tags=TAGS,
    errors=(409,),
)
async def delete_thread_message(call: ApiCall) -> Message:
    party = threads.shopper_party(call.user)
    return await threads.delete_own_message(party, _thread(call), int(call.route["message_id"]))


@bp.route(route="threads/{id:guid}/read", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Move my read watermark forward to up_to (never back)",
    body=ReadUpTo,
    response=ReadMark,
    authenticated=True,
    tags=TAGS,
)
async def mark_thread_read(call: ApiCall) -> ReadMark:
    return await threads.mark_read(threads.shopper_party(call.user), _thread(call), call.body.up_to)


@bp.route(route="me/unread", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="My unread messages: the total and per thread", response=Unread, authenticated=True, tags=TAGS)
async def get_my_unread(call: ApiCall) -> Unread:
    return await threads.unread(threads.shopper_party(call.user))


@bp.route(route="threads/{id:guid}/attachments", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Start an attachment: its id and a write-only URL (PUT, 5 minutes); name the id when posting",
    body=StartAttachment,
    response=AttachmentTicket,
    status=201,
    authenticated=True,
    tags=TAGS,
    errors=(503,),
)
async def start_thread_attachment(call: ApiCall) -> Reply:
    ticket = await threads.start_attachment(threads.shopper_party(call.user), _thread(call), call.body)
    return Reply(body=ticket, status=201)


@bp.route(route="threads/{id:guid}/attachments/{attachment_id:guid}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="A read-only URL of an attachment of my thread, valid 5 minutes",
    response=AttachmentUrl,
    authenticated=True,
    tags=TAGS,
    errors=(409, 503),
)
async def get_thread_attachment(call: ApiCall) -> AttachmentUrl:
    party, attachment = threads.shopper_party(call.user), UUID(call.route["attachment_id"])
    return await threads.attachment_url(
        party, _thread(call), attachment, threads.audit_source(call.user, call.request.headers)
    )


@bp.route(route=f"{MESSAGE}/report", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Report a message of my thread to support (201; 200 when I reported it before)",
    body=ReportMessage,
    response=Report,
    status=201,
    also=(200,),
    authenticated=True,
    tags=TAGS,
)
async def report_thread_message(call: ApiCall) -> Reply:
    party = threads.shopper_party(call.user)
    report, made = await threads.report_message(party, _thread(call), int(call.route["message_id"]), call.body)
    return Reply(body=report, status=201 if made else 200)


# --- support: moderation -------------------------------------------------------------------


@bp.route(route="ops/threads/{id:guid}/messages", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Read any thread for moderation (audited): a page of messages and the earlier text of each edit or delete",
    query=MessagesQuery,
    response=ModerationView,
    roles=MODERATOR_ROLES,
    tags=TAGS,
)
async def moderate_thread(call: ApiCall) -> ModerationView:
    source = threads.audit_source(call.user, call.request.headers)
    return await threads.moderation_view(_thread(call), call.query, source)


@bp.route(route="ops/threads/{id:guid}/attachments/{attachment_id:guid}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="A read-only URL of any thread's attachment, valid 5 minutes (audited)",
    response=AttachmentUrl,
    roles=MODERATOR_ROLES,
    tags=TAGS,
    errors=(409, 503),
)
async def moderate_thread_attachment(call: ApiCall) -> AttachmentUrl:
    party, source = threads.support_party(call.user), threads.audit_source(call.user, call.request.headers)
    return await threads.attachment_url(party, _thread(call), UUID(call.route["attachment_id"]), source)


@bp.route(route="ops/message-reports", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Reported messages, newest first (keyset pages)",
    query=ReportsQuery,
    response=ReportPage,
    roles=MODERATOR_ROLES,
    tags=TAGS,
)
async def list_message_reports(call: ApiCall) -> ReportPage:
    return await threads.list_reports(call.query)


# --- timers --------------------------------------------------------------------------------


@bp.timer_trigger(schedule="0 0 1 * * *", arg_name="timer", run_on_startup=False)
@background_job
async def archive_threads(timer: func.TimerRequest, context: func.Context) -> dict:
    run = await threads.archive_quiet_threads()
    return {"threads_archived": run.threads, "messages_moved": run.messages}
