"""SQL of agents' replies: stored once per (conversation, client id), then claimed, sent and
recorded by the channel-outbound consumer outside any transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.inbox.models import MessageRow
from shared.inbox.repo_messages import COLUMNS

if TYPE_CHECKING:
    from psycopg import AsyncConnection

M_COLUMNS = ", ".join(f"m.{name.strip()}" for name in COLUMNS.split(","))

# The reply's id, taken with its key; nothing when the client id was used before.
CLAIM_REPLY_KEY = """
INSERT INTO inbox_reply_keys (conversation_id, client_id, message_id, message_created_at)
VALUES (%(conversation_id)s, %(client_id)s, nextval(pg_get_serial_sequence('inbox_messages', 'id')), %(now)s)
ON CONFLICT DO NOTHING
RETURNING message_id
"""


async def claim_reply_key(conn: AsyncConnection, conversation_id: UUID, client_id: str, now: datetime) -> int | None:
    params = {"conversation_id": conversation_id, "client_id": client_id, "now": now}
    value = await db.fetch_value(conn, CLAIM_REPLY_KEY, params)
    return None if value is None else int(value)


SELECT_REPLY_BY_KEY = f"""
SELECT {M_COLUMNS} FROM inbox_reply_keys k
JOIN inbox_messages m ON m.id = k.message_id AND m.created_at = k.message_created_at
WHERE k.conversation_id = %(conversation_id)s AND k.client_id = %(client_id)s
"""


async def reply_by_key(conn: AsyncConnection, conversation_id: UUID, client_id: str) -> MessageRow | None:
    params = {"conversation_id": conversation_id, "client_id": client_id}
    return await db.fetch_one(conn, SELECT_REPLY_BY_KEY, params, MessageRow)


INSERT_REPLY = f"""
INSERT INTO inbox_messages (id, conversation_id, connection_id, direction, external_id, text, agent_id,
                            delivery_status, sent_at, created_at)
VALUES (%(id)s, %(conversation_id)s, %(connection_id)s, 'OUT', %(external_id)s, %(text)s, %(agent_id)s,
        %(status)s, %(sent_at)s, %(now)s)
RETURNING {COLUMNS}
"""


async def insert_reply(
    conn: AsyncConnection,
    message_id: int,
    *,
    conversation_id: UUID,
    connection_id: UUID,
    text: str,
    agent_id: str,
    delivered_by_polling: bool,
    now: datetime,
) -> MessageRow:
    """QUEUED for a channel the sender calls; SENT at once for the widget (its visitor polls)."""
    params = {
        "id": message_id,
        "conversation_id": conversation_id,
        "connection_id": connection_id,
        "external_id": f"out:{message_id}" if delivered_by_polling else None,
        "text": text,
        "agent_id": agent_id,
        "status": "SENT" if delivered_by_polling else "QUEUED",
        "sent_at": now if delivered_by_polling else None,
        "now": now,
    }
    row = await db.fetch_one(conn, INSERT_REPLY, params, MessageRow)
    assert row is not None
    return row


@dataclass
class ClaimedReply:
    id: int
    created_at: datetime
    text: str
    delivery_status: str
    claimed: bool
    connection_id: UUID
    recipient: str


# Taken for `lease` when QUEUED and not held by another sender (or held too long: it died).
# The row comes back either way, so the caller tells "done already" from "someone else has it".
CLAIM_FOR_SENDING = """
WITH target AS (
    SELECT m.id, m.created_at FROM inbox_messages m
    WHERE m.id = %(id)s AND m.created_at = %(created_at)s
), taken AS (
    UPDATE inbox_messages m SET send_claimed_until = %(now)s + %(lease)s
    FROM target
    WHERE m.id = target.id AND m.created_at = target.created_at AND m.delivery_status = 'QUEUED'
      AND (m.send_claimed_until IS NULL OR m.send_claimed_until <= %(now)s)
    RETURNING m.id
)
SELECT m.id, m.created_at, m.text, m.delivery_status, EXISTS (SELECT FROM taken) AS claimed, m.connection_id,
       ct.external_id AS recipient
FROM inbox_messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id
WHERE m.id = %(id)s AND m.created_at = %(created_at)s
"""


async def claim_for_sending(
    conn: AsyncConnection, message_id: int, created_at: datetime, now: datetime, lease: timedelta
) -> ClaimedReply | None:
    params = {"id": message_id, "created_at": created_at, "now": now, "lease": lease}
    return await db.fetch_one(conn, CLAIM_FOR_SENDING, params, ClaimedReply)


HOLD_UNTIL = """
UPDATE inbox_messages SET send_claimed_until = %(until)s
WHERE id = %(id)s AND created_at = %(created_at)s AND delivery_status = 'QUEUED'
"""


async def hold_until(conn: AsyncConnection, message_id: int, created_at: datetime, until: datetime | None) -> None:
    """Keeps other senders off until `until` (a 429's retry_after), or lets them in (None)."""
    await db.execute(conn, HOLD_UNTIL, {"id": message_id, "created_at": created_at, "until": until})


RECORD_OUTCOME = f"""
UPDATE inbox_messages SET delivery_status = %(status)s, external_id = %(external_id)s, error = %(error)s,
    sent_at = %(sent_at)s, send_claimed_until = NULL
WHERE id = %(id)s AND created_at = %(created_at)s AND delivery_status = 'QUEUED'
RETURNING {COLUMNS}
"""


async def record_outcome(
    conn: AsyncConnection,
    message_id: int,
    created_at: datetime,
    *,
    status: str,
    external_id: str | None = None,
    error: str | None = None,
    sent_at: datetime | None = None,
) -> MessageRow | None:
    params = {
        "id": message_id,
        "created_at": created_at,
        "status": status,
        "external_id": external_id,
        "error": error,
        "sent_at": sent_at,
    }
    return await db.fetch_one(conn, RECORD_OUTCOME, params, MessageRow)


# The platform's ids of a sent reply are keys too: its echo (Meta sends one) is a duplicate.
INSERT_SENT_KEYS = """
INSERT INTO inbox_message_keys (connection_id, external_id, message_id, message_created_at)
SELECT %(connection_id)s, key, %(id)s, %(created_at)s FROM unnest(%(keys)s::text[]) AS key
ON CONFLICT DO NOTHING
"""


async def insert_sent_keys(
    conn: AsyncConnection, connection_id: UUID, message_id: int, created_at: datetime, keys: list[str]
) -> None:
    params = {"connection_id": connection_id, "id": message_id, "created_at": created_at, "keys": keys}
    await db.execute(conn, INSERT_SENT_KEYS, params)
