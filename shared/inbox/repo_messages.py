"""SQL for inbox messages. Unique (connection, external id) is `inbox_message_keys` (a
partitioned table's unique index must hold its partition key, created_at, which a redelivery
does not know): a message's key is claimed first, and the message is written only by whoever
claimed it, pointing the key at it in the same statement."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.inbox.models import ConversationRow, InboundMessage, MessageRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

COLUMNS = """id, conversation_id, connection_id, direction, external_id, kind, text, attachments, reply_to, agent_id,
       delivery_status, error, sent_at, created_at"""
# Receipts only look this far back for the messages they cover (partition pruning).
WATERMARK_LOOKBACK = timedelta(days=30)

# True when every key was new; false when any was claimed before (a duplicate). The message id
# is not taken here: ids are taken under the conversation's row lock (INSERT_MESSAGE), so within
# a conversation they follow commit order and a poll with after=<id> never skips a message.
CLAIM_KEYS = """
WITH claimed AS (
    INSERT INTO inbox_message_keys (connection_id, external_id)
    SELECT %(connection_id)s, key FROM unnest(%(keys)s::text[]) AS key
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) = cardinality(%(keys)s::text[]) FROM claimed
"""


async def claim_keys(conn: AsyncConnection, connection_id: UUID, message_key: str, extra_keys: tuple[str, ...]) -> bool:
    """Whether the message (and its extra keys) is new. A concurrent claim of the same key waits
    for the first transaction to finish, then finds it taken."""
    params = {"connection_id": connection_id, "keys": [message_key, *extra_keys]}
    return bool(await db.fetch_value(conn, CLAIM_KEYS, params))


# The message, and its key pointed at it, in one statement.
INSERT_MESSAGE = f"""
WITH inserted AS (
    INSERT INTO inbox_messages (conversation_id, connection_id, direction, external_id, kind, text, attachments,
                                reply_to, agent_id, delivery_status, sent_at, created_at)
    VALUES (%(conversation_id)s, %(connection_id)s, %(direction)s, %(external_id)s, %(kind)s, %(text)s,
            %(attachments)s, %(reply_to)s, %(agent_id)s, %(delivery_status)s, %(sent_at)s, %(now)s)
    RETURNING {COLUMNS}
), keyed AS (
    UPDATE inbox_message_keys k SET message_id = inserted.id, message_created_at = inserted.created_at
    FROM inserted WHERE k.connection_id = inserted.connection_id AND k.external_id = inserted.external_id
)
SELECT {COLUMNS} FROM inserted
"""


async def insert_message(
    conn: AsyncConnection, conversation: ConversationRow, message: InboundMessage, now: datetime
) -> MessageRow:
    """A channel's message (or echo), once its key is claimed and its conversation locked."""
    params: dict[str, Any] = {
        "conversation_id": conversation.id,
        "connection_id": conversation.connection_id,
        "direction": message.direction,
        "external_id": message.external_id,
        "kind": message.kind,
        "text": message.text,
        "attachments": db.json_param(message.attachments),
        "reply_to": message.reply_to,
        "agent_id": None,
        "delivery_status": "SENT" if message.direction == "OUT" else None,
        "sent_at": message.sent_at,
        "now": now,
    }
    row = await db.fetch_one(conn, INSERT_MESSAGE, params, MessageRow)
    assert row is not None
    return row


# Forward only: an older redelivery never rewinds last_message_at; an inbound message wakes a
# SNOOZED conversation (and counts as unread for the agents).
RECORD_ACTIVITY = """
UPDATE conversations
SET last_message_at = GREATEST(last_message_at, %(at)s),
    last_inbound_at = CASE WHEN %(inbound)s THEN GREATEST(last_inbound_at, %(at)s) ELSE last_inbound_at END,
    unread_count = unread_count + CASE WHEN %(inbound)s THEN 1 ELSE 0 END,
    status = CASE WHEN %(inbound)s AND status = 'SNOOZED' THEN 'OPEN' ELSE status END,
    snoozed_until = CASE WHEN %(inbound)s AND status = 'SNOOZED' THEN NULL ELSE snoozed_until END,
    version = version + CASE WHEN %(inbound)s AND status = 'SNOOZED' THEN 1 ELSE 0 END
WHERE id = %(id)s
"""


async def record_activity(conn: AsyncConnection, conversation_id: UUID, at: datetime, *, inbound: bool) -> None:
    await db.execute(conn, RECORD_ACTIVITY, {"id": conversation_id, "at": at, "inbound": inbound})


# Receipts: every OUT message to the contact the platform accepted up to the watermark moves
# to DELIVERED / READ, never backwards (READ is not DELIVERED again).
APPLY_WATERMARK = """
UPDATE inbox_messages m SET delivery_status = %(status)s
FROM conversations c
WHERE c.contact_id = %(contact_id)s AND m.conversation_id = c.id AND m.direction = 'OUT'
  AND m.created_at BETWEEN %(since)s AND %(watermark)s AND m.sent_at <= %(watermark)s
  AND m.delivery_status = ANY(%(from_statuses)s)
"""


async def apply_watermark(conn: AsyncConnection, contact_id: UUID, status: str, watermark: datetime) -> int:
    params = {
        "contact_id": contact_id,
        "status": status,
        "watermark": watermark,
        "since": watermark - WATERMARK_LOOKBACK,
        "from_statuses": ["SENT"] if status == "DELIVERED" else ["SENT", "DELIVERED"],
    }
    return await db.execute(conn, APPLY_WATERMARK, params)


# Keyset both ways: `after` (polling, oldest first) or `before` (scrolling back, newest first).
LIST_AFTER = f"""
SELECT {COLUMNS} FROM inbox_messages
WHERE conversation_id = %(conversation_id)s AND id > %(after)s
ORDER BY id LIMIT %(limit)s
"""
LIST_BEFORE = f"""
SELECT {COLUMNS} FROM inbox_messages
WHERE conversation_id = %(conversation_id)s AND id < %(before)s
ORDER BY id DESC LIMIT %(limit)s
"""


async def list_messages(
    conn: AsyncConnection, conversation_id: UUID, *, after: int | None = None, before: int | None = None, limit: int
) -> list[MessageRow]:
    """Oldest first after `after`; else newest first before `before` (or from the newest)."""
    if after is not None:
        params = {"conversation_id": conversation_id, "after": after, "limit": limit}
        return await db.fetch_all(conn, LIST_AFTER, params, MessageRow)
    params = {"conversation_id": conversation_id, "before": before or 2**63 - 1, "limit": limit}
    return await db.fetch_all(conn, LIST_BEFORE, params, MessageRow)
