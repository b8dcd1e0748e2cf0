"""Agents' replies: stored, then sent by the channel-outbound consumer (`outbound`).

`post_reply` runs in one transaction: the conversation (in the agent's scope) locked, the
client id claimed (a retry returns the first reply, replayed), Meta's window checked (409
outside_messaging_window before anything is stored), the message written QUEUED with
`inbox.reply_queued` in the outbox (relayed to CHANNEL_OUTBOUND_QUEUE, keyed by the
conversation so its replies go out in order). A WIDGET contact's reply is SENT at once: the
visitor's poll delivers it, no adapter is called.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.events import repo as outbox
from shared.inbox import repo_connections, repo_conversations, repo_messages, repo_replies, rules
from shared.inbox.errors import InboxError
from shared.inbox.models import OUTBOUND_AGGREGATE, REPLY_QUEUED, ConnectionRow, ConversationRow, MessageRow
from shared.inbox.models_api import ReplyRequest
from shared.platform.auth import Principal
from shared.platform.errors import Conflict

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def post_reply(
    principal: Principal, conversation_id: UUID, body: ReplyRequest, now: datetime
) -> tuple[MessageRow, bool]:
    """The reply and whether it is new (False: the same client id was used before)."""
    scope = rules.agent_scope(principal)
    async with db.transaction() as conn:
        conversation = await repo_conversations.conversation_in_scope(
            conn, conversation_id, scope.seller_id, for_update=True
        )
        if conversation is None:
            raise rules.conversation_not_found(conversation_id)
        message_id = await repo_replies.claim_reply_key(conn, conversation.id, body.client_id, now)
        if message_id is None:
            replayed = await repo_replies.reply_by_key(conn, conversation.id, body.client_id)
            assert replayed is not None
            return replayed, False
        connection = await repo_connections.connection(conn, conversation.connection_id)
        assert connection is not None
        window = _check_can_reply(connection, conversation, now)
        message = await _store_reply(conn, connection, conversation, message_id, body, rules.agent_id(principal), now)
        if connection.kind != "WIDGET":
            await _queue_send(conn, conversation, message, window)
    relay.relay_soon()
    return message, True


def _check_can_reply(connection: ConnectionRow, conversation: ConversationRow, now: datetime) -> str | None:
    if conversation.status == "CLOSED":
        raise Conflict("the conversation is closed: reopen it to reply", code=InboxError.NOT_ACTIVE)
    if not connection.active:
        raise Conflict("the channel connection is inactive", code=InboxError.CONNECTION_INACTIVE)
    return rules.check_reply_window(connection, conversation, now)


async def _store_reply(
    conn: AsyncConnection,
    connection: ConnectionRow,
    conversation: ConversationRow,
    message_id: int,
    body: ReplyRequest,
    agent_id: str,
    now: datetime,
) -> MessageRow:
    message = await repo_replies.insert_reply(
        conn,
        message_id,
        conversation_id=conversation.id,
        connection_id=connection.id,
        text=body.text,
        agent_id=agent_id,
        delivered_by_polling=connection.kind == "WIDGET",
        now=now,
    )
    await repo_messages.record_activity(conn, conversation.id, now, inbound=False)
    await repo_conversations.reset_unread(conn, conversation.id)
    return message


async def _queue_send(
    conn: AsyncConnection,
    conversation: ConversationRow,
    message: MessageRow,
    window: str | None,
) -> None:
    payload = {
        "message_id": message.id,
        "created_at": message.created_at.isoformat(),
        "conversation_id": str(conversation.id),
        "window": window,
    }
    aggregate = {"aggregate_type": OUTBOUND_AGGREGATE, "aggregate_id": str(conversation.id)}
    await outbox.record_event(conn, REPLY_QUEUED, **aggregate, payload=payload)
