"""SQL of the chat widget: a visitor's send limit, the messages a visitor sees, and the message
a retried send stored first. Contacts, conversations and messages are written by the inbound
path every channel takes (shared.inbox.inbound.record_message)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.inbox.models_widget import VisitorConversation, VisitorMessageRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# One row per visitor. A new window restarts the count at 1; within the window the count moves
# only while it is below the limit, so the row lock (ON CONFLICT DO UPDATE takes it and
# re-evaluates WHERE on the latest row) admits exactly `limit` of any number of racing sends.
# GREATEST: an instance with a slower clock never moves the window back.
TAKE_SEND_SLOT = """
INSERT INTO widget_send_windows AS w (connection_id, visitor, window_start, sent)
VALUES (%(connection_id)s, %(visitor)s, %(window_start)s, 1)
ON CONFLICT (connection_id, visitor) DO UPDATE
SET window_start = GREATEST(w.window_start, EXCLUDED.window_start),
    sent = CASE WHEN w.window_start < EXCLUDED.window_start THEN 1 ELSE w.sent + 1 END
WHERE w.window_start < EXCLUDED.window_start OR w.sent < %(limit)s
RETURNING window_start
"""


async def take_send_slot(
    conn: AsyncConnection, connection_id: UUID, visitor: str, window_start: datetime, limit: int
) -> bool:
    """Counts one send in the visitor's window; False when the window is full. Run inside the
    send's transaction: a send that fails later gives its slot back."""
    params = {"connection_id": connection_id, "visitor": visitor, "window_start": window_start, "limit": limit}
    return await db.fetch_value(conn, TAKE_SEND_SLOT, params) is not None


MESSAGE_COLUMNS = "m.id, m.conversation_id, m.direction, m.external_id, m.text, m.created_at"
VISITOR_MESSAGES = """
FROM contacts ct
JOIN conversations c ON c.contact_id = ct.id
JOIN inbox_messages m ON m.conversation_id = c.id
WHERE ct.connection_id = %(connection_id)s AND ct.external_id = %(visitor)s
  AND m.kind = 'message' AND m.delivery_status IS DISTINCT FROM 'FAILED'
"""
# The first poll: the newest `limit`, read newest first (the service shows them oldest first).
SELECT_LATEST_VISITOR_MESSAGES = f"""
SELECT {MESSAGE_COLUMNS} {VISITOR_MESSAGES}
ORDER BY m.created_at DESC, m.id DESC LIMIT %(limit)s
"""
# A later poll: everything from `since` (the cursor minus the lookback), oldest first; the
# bound on created_at also prunes the monthly partitions.
SELECT_VISITOR_MESSAGES_SINCE = f"""
SELECT {MESSAGE_COLUMNS} {VISITOR_MESSAGES}
  AND m.created_at >= %(since)s
ORDER BY m.created_at, m.id LIMIT %(limit)s
"""


async def visitor_messages(
    conn: AsyncConnection, connection_id: UUID, visitor: str, *, since: datetime | None, limit: int
) -> list[VisitorMessageRow]:
    """The visitor's messages in every conversation, oldest first."""
    params = {"connection_id": connection_id, "visitor": visitor, "since": since, "limit": limit}
    if since is None:
        rows = await db.fetch_all(conn, SELECT_LATEST_VISITOR_MESSAGES, params, VisitorMessageRow)
        return rows[::-1]
    return await db.fetch_all(conn, SELECT_VISITOR_MESSAGES_SINCE, params, VisitorMessageRow)


# The visitor's current conversation: the active one (at most one, by the partial unique
# index), else the one opened last.
SELECT_LATEST_CONVERSATION = """
SELECT c.id, c.status
FROM contacts ct JOIN conversations c ON c.contact_id = ct.id
WHERE ct.connection_id = %(connection_id)s AND ct.external_id = %(visitor)s
ORDER BY c.status IN ('OPEN', 'SNOOZED') DESC, c.opened_at DESC, c.id DESC LIMIT 1
"""


async def latest_conversation(conn: AsyncConnection, connection_id: UUID, visitor: str) -> VisitorConversation | None:
    params = {"connection_id": connection_id, "visitor": visitor}
    return await db.fetch_one(conn, SELECT_LATEST_CONVERSATION, params, VisitorConversation)


# The message stored under a key before (a retried send): its key row names it.
SELECT_MESSAGE_BY_KEY = f"""
SELECT {MESSAGE_COLUMNS}
FROM inbox_message_keys k
JOIN inbox_messages m ON m.id = k.message_id AND m.created_at = k.message_created_at
WHERE k.connection_id = %(connection_id)s AND k.external_id = %(external_id)s
"""


async def message_by_key(conn: AsyncConnection, connection_id: UUID, external_id: str) -> VisitorMessageRow | None:
    params = {"connection_id": connection_id, "external_id": external_id}
    return await db.fetch_one(conn, SELECT_MESSAGE_BY_KEY, params, VisitorMessageRow)
