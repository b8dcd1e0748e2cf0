"""The inbox domain's public API: the one module of `shared.inbox` a trigger imports (besides
`models_api`). Use cases live in `intake` (webhooks in), `delivery` (the channel-inbound
consumer), `inbound` (the one path every channel's messages take), `reads`, `replies` and
`outbound` (agents' replies out), `actions` (close, snooze, reopen, assign; timers) and
`manage` (connections)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.events.consumer import max_dequeue_count
from shared.events.models import Consumer, EventEnvelope, MalformedEvent
from shared.inbox import actions, delivery, intake, manage, outbound, reads, replies, widget
from shared.inbox.models import MESSAGE_RECEIVED
from shared.inbox.models_api import (
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
    RekeyResult,
    ReopenRequest,
    ReplyRequest,
    RotateSecrets,
    SnoozeRequest,
    WebhookAck,
)
from shared.inbox.models_widget import (
    PollQuery,
    SendMessage,
    SessionRequest,
    VisitorMessage,
    VisitorSession,
    VisitorThread,
)
from shared.platform.auth import Principal
from shared.platform.config import get_settings

if TYPE_CHECKING:
    from psycopg import AsyncConnection


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- webhooks and queues -------------------------------------------------------------------


async def verify_meta_subscription(mode: str | None, token: str | None, challenge: str | None) -> str:
    return await intake.verify_meta_subscription(mode, token, challenge)


async def receive_meta_webhook(body: bytes, signature: str | None) -> WebhookAck:
    return await intake.receive_meta(body, signature, utcnow())


async def receive_telegram_webhook(connection_id: UUID, body: bytes, secret_token: str | None) -> WebhookAck:
    return await intake.receive_telegram(connection_id, body, secret_token, utcnow())


async def process_channel_delivery(
    body: bytes, *, message_id: str | None, clock: Callable[[], datetime] = utcnow
) -> dict[str, object]:
    result = await delivery.process_delivery(body, clock, message_id=message_id)
    return {"outcome": result.outcome, **result.counts}


async def send_channel_reply(body: bytes, *, dequeue_count: int, clock: Callable[[], datetime] = utcnow) -> str:
    """One queued reply out; the host's last attempt records FAILED rather than leave it QUEUED."""
    try:
        event = EventEnvelope.model_validate_json(body)
        int(event.payload["message_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedEvent(f"not a queued reply: {error}") from error
    return await outbound.send_reply(event, clock, last_attempt=dequeue_count >= max_dequeue_count())


# --- agents --------------------------------------------------------------------------------


async def list_conversations(principal: Principal, query: ConversationsQuery) -> ConversationPage:
    return await reads.list_conversations(principal, query)


async def get_conversation(principal: Principal, conversation_id: UUID) -> ConversationDetail:
    return await reads.get_conversation(principal, conversation_id)


async def list_messages(principal: Principal, conversation_id: UUID, query: MessagesQuery) -> MessagePage:
    return await reads.list_messages(principal, conversation_id, query)


async def reply(principal: Principal, conversation_id: UUID, body: ReplyRequest) -> tuple[MessageOut, bool]:
    """The stored reply and whether it is new (a retried client id returns the first)."""
    message, created = await replies.post_reply(principal, conversation_id, body, utcnow())
    return reads.message_out(message), created


async def act(
    principal: Principal,
    conversation_id: UUID,
    action: str,
    body: CloseRequest | SnoozeRequest | ReopenRequest | AssignRequest,
) -> ConversationDetail:
    await actions.act(principal, conversation_id, action, body, utcnow())
    return await reads.get_conversation(principal, conversation_id)


async def wake_snoozed_conversations(clock: Callable[[], datetime] = utcnow) -> int:
    return await actions.wake_snoozed(clock())


async def auto_close_conversations(clock: Callable[[], datetime] = utcnow) -> int:
    return await actions.auto_close(clock(), get_settings().inbox_auto_close_after_hours)


# --- connections ---------------------------------------------------------------------------


async def create_connection(principal: Principal, body: CreateConnection) -> ConnectionOut:
    return await manage.create(principal, body)


async def rotate_connection_secrets(principal: Principal, connection_id: UUID, body: RotateSecrets) -> ConnectionOut:
    return await manage.rotate(principal, connection_id, body)


async def list_connections(principal: Principal, query: ConnectionsQuery) -> ConnectionPage:
    return await manage.list_connections(principal, query)


async def rekey_connections() -> RekeyResult:
    return await manage.rekey()


# --- domain events -------------------------------------------------------------------------


async def message_received(conn: AsyncConnection, event: EventEnvelope) -> None:
    """Nothing to do yet: agents poll the API. The hook for agent notifications (push, email)."""
    return None


# The name is recorded with each processed event: never rename it.
EVENT_CONSUMERS: dict[str, Consumer] = {MESSAGE_RECEIVED: Consumer("inbox_message_received", message_received)}


# --- the chat widget (shared.inbox.widget) -------------------------------------------------


def widget_script() -> bytes:
    return widget.widget_script()


async def start_widget_session(widget_token: str, request: SessionRequest) -> VisitorSession:
    return await widget.start_session(widget_token, request)


async def send_widget_message(authorization: str | None, body: SendMessage) -> tuple[VisitorMessage, bool]:
    return await widget.send_message(authorization, body)


async def poll_widget_messages(authorization: str | None, query: PollQuery) -> VisitorThread:
    return await widget.poll_messages(authorization, query)
