"""Recording one normalized channel event inside the caller's transaction: the path every
channel's messages take (the channel-inbound consumer, and the widget's sessions).

Order of the writes, and why:
1. the message's key (and its extra keys) in `inbox_message_keys`: a redelivery stops here,
   before it could touch the contact or open a conversation (a redelivered message whose
   conversation was closed meanwhile must not open an empty new one);
2. the contact (upserted: names fill in, last_seen_at forward only);
3. the active conversation, found or created and locked (repo_contacts explains the race with
   a close); an echo (OUT) never opens one: it joins the active one or the latest one;
4. the message (its id taken now, under the conversation's lock: ids follow commit order within
   a conversation, so agents and visitors polling `after=<id>` never skip one), then the
   conversation's activity (forward-only times, unread count, a
   SNOOZED conversation wakes), then `inbox.message_received` in the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.events import repo as outbox
from shared.inbox import repo_contacts, repo_conversations, repo_messages
from shared.inbox.models import (
    CONVERSATION_AGGREGATE,
    MESSAGE_RECEIVED,
    ChannelEvent,
    ConversationRow,
    InboundMessage,
    InboundOutcome,
    MessageRow,
    Watermark,
)

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def record_event(
    conn: AsyncConnection, connection_id: UUID, event: ChannelEvent, now: datetime
) -> InboundOutcome:
    """One message or receipt of `connection_id`. Run inside a transaction."""
    if isinstance(event, Watermark):
        return await record_watermark(conn, connection_id, event)
    return await record_message(conn, connection_id, event, now)


async def record_message(
    conn: AsyncConnection, connection_id: UUID, message: InboundMessage, now: datetime
) -> InboundOutcome:
    """Stores `message` once per (connection, external id); see the module's order of writes."""
    if not await repo_messages.claim_keys(conn, connection_id, message.external_id, message.dedupe_keys):
        return InboundOutcome("duplicate")
    contact = await repo_contacts.upsert_contact(conn, connection_id, message.contact, now)
    created = False
    conversation: ConversationRow | None
    if message.direction == "IN":
        conversation, created = await repo_contacts.find_or_create_active(conn, connection_id, contact.id, now)
    else:
        conversation = await repo_contacts.active_for_update(conn, connection_id, contact.id)
        conversation = conversation or await repo_contacts.latest_conversation_for_update(conn, contact.id)
        if conversation is None:
            return InboundOutcome("no_conversation")
    if message.direction == "IN" and conversation.status == "SNOOZED":
        await repo_conversations.add_history(conn, conversation, "woke", "contact", to_status="OPEN", now=now)
    stored = await repo_messages.insert_message(conn, conversation, message, now)
    await repo_messages.record_activity(conn, conversation.id, message.sent_at, inbound=message.direction == "IN")
    await write_received_event(conn, conversation, stored, created=created)
    return InboundOutcome("stored", message=stored, conversation=conversation, conversation_created=created)


async def record_watermark(conn: AsyncConnection, connection_id: UUID, receipt: Watermark) -> InboundOutcome:
    contact = await repo_contacts.contact_by_external_id(conn, connection_id, receipt.contact_external_id)
    if contact is None:
        return InboundOutcome("watermark")
    updated = await repo_messages.apply_watermark(conn, contact.id, receipt.status, receipt.watermark)
    return InboundOutcome("watermark", updated=updated)


async def write_received_event(
    conn: AsyncConnection, conversation: ConversationRow, message: MessageRow, *, created: bool
) -> None:
    payload = {
        "conversation_id": str(conversation.id),
        "connection_id": str(conversation.connection_id),
        "message_id": message.id,
        "direction": message.direction,
        "conversation_created": created,
    }
    await outbox.record_event(
        conn,
        MESSAGE_RECEIVED,
        aggregate_type=CONVERSATION_AGGREGATE,
        aggregate_id=str(conversation.id),
        payload=payload,
    )
