"""The omnichannel support inbox: channel webhooks in (verified, queued), the channel-inbound
consumer, agents' conversations, replies (sent by the channel-outbound consumer) and actions,
connection management, and the timers that wake snoozed conversations and close quiet ones."""

from uuid import UUID

import azure.functions as func

from shared.inbox import service as inbox
from shared.inbox.models_api import (
    ADMIN_ONLY,
    AGENT_ROLES,
    CONNECTION_ROLES,
    AssignRequest,
    CloseRequest,
    ConnectionOut,
    ConnectionPage,
    ConnectionsQuery,
    ConversationDetail,
    ConversationPage,
    ConversationsQuery,
    CreateConnection,
    MessageOut,
    MessagePage,
    MessagesQuery,
    MetaVerifyQuery,
    RekeyResult,
    ReopenRequest,
    ReplyRequest,
    RotateSecrets,
    SnoozeRequest,
    WebhookAck,
)
from shared.platform.http import ApiCall, HeaderParam, RawBody, Reply, endpoint
from shared.platform.jobs import background_job

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # bearer tokens are checked by @endpoint; webhooks by their secrets
STORAGE = "AzureWebJobsStorage"
TAGS = ("inbox",)
CONVERSATION = "inbox/conversations/{id:guid}"
META_SIGNATURE = HeaderParam("X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the raw body with the app secret>")
TELEGRAM_SECRET = HeaderParam("X-Telegram-Bot-Api-Secret-Token", "the secret_token given to setWebhook")


def _id(call: ApiCall) -> UUID:
    return UUID(call.route["id"])


# --- webhooks and queues -------------------------------------------------------------------


@bp.route(route="webhooks/meta", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Meta's webhook verification: echoes hub.challenge", query=MetaVerifyQuery, tags=TAGS, errors=(403, 503)
)
async def verify_meta_webhook(call: ApiCall) -> Reply:
    q = call.query
    challenge = await inbox.verify_meta_subscription(q.mode, q.verify_token, q.challenge)
    return Reply(body=RawBody(challenge.encode(), "text/plain"))


@bp.route(route="webhooks/meta", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Messenger / Instagram webhook (X-Hub-Signature-256 checked, queued raw)",
    response=WebhookAck,
    headers=(META_SIGNATURE,),
    tags=TAGS,
    errors=(401, 413, 503),
)
async def meta_webhook(call: ApiCall) -> WebhookAck:
    signature = call.request.headers.get("x-hub-signature-256")
    return await inbox.receive_meta_webhook(call.request.get_body() or b"", signature)


@bp.route(route="webhooks/telegram/{connection_id:guid}", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="A Telegram bot's webhook (its secret token checked, queued raw)",
    response=WebhookAck,
    headers=(TELEGRAM_SECRET,),
    tags=TAGS,
    errors=(401, 413, 503),
)
async def telegram_webhook(call: ApiCall) -> WebhookAck:
    secret = call.request.headers.get("x-telegram-bot-api-secret-token")
    body = call.request.get_body() or b""
    return await inbox.receive_telegram_webhook(UUID(call.route["connection_id"]), body, secret)


@bp.queue_trigger(arg_name="msg", queue_name="%CHANNEL_INBOUND_QUEUE%", connection=STORAGE)
@background_job
async def on_channel_delivery(msg: func.QueueMessage, context: func.Context) -> dict:
    outcome = await inbox.process_channel_delivery(msg.get_body(), message_id=msg.id)
    return {"delivery_message": msg.id, "dequeue_count": msg.dequeue_count, **outcome}


@bp.queue_trigger(arg_name="msg", queue_name="%CHANNEL_OUTBOUND_QUEUE%", connection=STORAGE)
@background_job
async def on_channel_outbound(msg: func.QueueMessage, context: func.Context) -> dict:
    outcome = await inbox.send_channel_reply(msg.get_body(), dequeue_count=msg.dequeue_count or 1)
    return {"reply_message": msg.id, "outcome": outcome, "dequeue_count": msg.dequeue_count}


@bp.timer_trigger(schedule="0 * * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def wake_snoozed_conversations(timer: func.TimerRequest, context: func.Context) -> dict:
    return {"woke": await inbox.wake_snoozed_conversations()}


@bp.timer_trigger(schedule="30 */15 * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def auto_close_conversations(timer: func.TimerRequest, context: func.Context) -> dict:
    return {"closed": await inbox.auto_close_conversations()}


# --- agents --------------------------------------------------------------------------------


@bp.route(route="inbox/conversations", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Conversations I may work, newest activity first, with unread-by-agent counts",
    query=ConversationsQuery,
    response=ConversationPage,
    roles=AGENT_ROLES,
    tags=TAGS,
)
async def list_inbox_conversations(call: ApiCall) -> ConversationPage:
    return await inbox.list_conversations(call.user, call.query)


@bp.route(route=CONVERSATION, methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="One conversation with its history", response=ConversationDetail, roles=AGENT_ROLES, tags=TAGS)
async def get_inbox_conversation(call: ApiCall) -> ConversationDetail:
    return await inbox.get_conversation(call.user, _id(call))


@bp.route(route=CONVERSATION + "/messages", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="A conversation's messages: after= polls forward, else pages back from the newest",
    query=MessagesQuery,
    response=MessagePage,
    roles=AGENT_ROLES,
    tags=TAGS,
)
async def list_inbox_messages(call: ApiCall) -> MessagePage:
    return await inbox.list_messages(call.user, _id(call), call.query)


@bp.route(route=CONVERSATION + "/messages", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Reply (idempotent by client_id): stored QUEUED and sent through the channel",
    body=ReplyRequest,
    response=MessageOut,
    status=201,
    roles=AGENT_ROLES,
    tags=TAGS,
    errors=(409, 503),
)
async def reply_to_conversation(call: ApiCall) -> Reply:
    message, created = await inbox.reply(call.user, _id(call), call.body)
    return Reply(body=message, status=201 if created else 200)


def _action(action: str, body: type) -> dict:
    return {
        "summary": f"{action.capitalize()} a conversation (at the version read; recorded in its history)",
        "body": body,
        "response": ConversationDetail,
        "roles": AGENT_ROLES,
        "tags": TAGS,
        "errors": (409,),
    }


@bp.route(route=CONVERSATION + "/close", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(**_action("close", CloseRequest))
async def close_conversation(call: ApiCall) -> ConversationDetail:
    return await inbox.act(call.user, _id(call), "close", call.body)


@bp.route(route=CONVERSATION + "/snooze", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(**_action("snooze", SnoozeRequest))
async def snooze_conversation(call: ApiCall) -> ConversationDetail:
    return await inbox.act(call.user, _id(call), "snooze", call.body)


@bp.route(route=CONVERSATION + "/reopen", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(**_action("reopen", ReopenRequest))
async def reopen_conversation(call: ApiCall) -> ConversationDetail:
    return await inbox.act(call.user, _id(call), "reopen", call.body)


@bp.route(route=CONVERSATION + "/assign", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(**_action("assign", AssignRequest))
async def assign_conversation(call: ApiCall) -> ConversationDetail:
    return await inbox.act(call.user, _id(call), "assign", call.body)


# --- connections ---------------------------------------------------------------------------


@bp.route(route="inbox/connections", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Connect a channel (its secrets are stored encrypted and never returned)",
    body=CreateConnection,
    response=ConnectionOut,
    status=201,
    roles=CONNECTION_ROLES,
    tags=TAGS,
    errors=(409,),
)
async def create_inbox_connection(call: ApiCall) -> Reply:
    return Reply(body=await inbox.create_connection(call.user, call.body), status=201)


@bp.route(route="inbox/connections", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Channel connections I manage (never their secrets)",
    query=ConnectionsQuery,
    response=ConnectionPage,
    roles=CONNECTION_ROLES,
    tags=TAGS,
)
async def list_inbox_connections(call: ApiCall) -> ConnectionPage:
    return await inbox.list_connections(call.user, call.query)


@bp.route(route="inbox/connections/{id:guid}/secrets", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Rotate a connection's secrets (all of its kind's, at the version read)",
    body=RotateSecrets,
    response=ConnectionOut,
    roles=CONNECTION_ROLES,
    tags=TAGS,
    errors=(409,),
)
async def rotate_inbox_connection_secrets(call: ApiCall) -> ConnectionOut:
    return await inbox.rotate_connection_secrets(call.user, _id(call), call.body)


@bp.route(route="ops/inbox/rekey", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint(
    summary="Re-encrypt every connection's secrets under the current CHANNEL_SECRETS_KEY",
    response=RekeyResult,
    roles=ADMIN_ONLY,
    tags=("ops",),
)
async def rekey_inbox_connections(call: ApiCall) -> RekeyResult:
    return await inbox.rekey_connections()
