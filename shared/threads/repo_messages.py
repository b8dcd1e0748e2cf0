"""SQL of a sender changing their own message: the row locked first (the rules decide on what
is locked, so no check-then-act), then the change and its history row in one statement."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.threads.models import MessageRow
from shared.threads.repo import ATTACHMENTS_OF_M, MESSAGE_COLUMNS

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Live messages only: an archived one is months past any edit window.
LOCK_MESSAGE = f"""
SELECT {MESSAGE_COLUMNS}, '[]'::jsonb AS attachments FROM messages
WHERE thread_id = %(thread_id)s AND id = %(id)s
FOR NO KEY UPDATE
"""


async def lock_message(conn: AsyncConnection, thread_id: UUID, message_id: int) -> MessageRow | None:
    return await db.fetch_one(conn, LOCK_MESSAGE, {"thread_id": thread_id, "id": message_id}, MessageRow)


ARCHIVED_MESSAGE = f"""
SELECT {MESSAGE_COLUMNS}, '[]'::jsonb AS attachments FROM archived_messages
WHERE thread_id = %(thread_id)s AND id = %(id)s
"""


async def archived_message(conn: AsyncConnection, thread_id: UUID, message_id: int) -> MessageRow | None:
    return await db.fetch_one(conn, ARCHIVED_MESSAGE, {"thread_id": thread_id, "id": message_id}, MessageRow)


# The change, the previous text into the history, and the thread's preview when this was its
# last message. `created_at` names the partition, so the update touches one.
CHANGE_MESSAGE = f"""
WITH m AS (
    UPDATE messages SET body = %(body)s, edited_at = CASE WHEN %(action)s = 'edited' THEN %(now)s END,
                        deleted_at = CASE WHEN %(action)s = 'deleted' THEN %(now)s END
    WHERE thread_id = %(thread_id)s AND id = %(id)s AND created_at = %(created_at)s
    RETURNING {MESSAGE_COLUMNS}
), history AS (
    INSERT INTO message_edits (message_id, thread_id, previous_body, action, edited_by, edited_at)
    SELECT id, thread_id, %(previous_body)s, %(action)s, %(edited_by)s, %(now)s FROM m
), thread AS (
    UPDATE threads t SET last_message_preview = %(preview)s FROM m WHERE t.id = m.thread_id AND t.last_message_id = m.id
)
SELECT {MESSAGE_COLUMNS}, {ATTACHMENTS_OF_M} FROM m
"""


async def change_message(
    conn: AsyncConnection, locked: MessageRow, *, body: str, action: str, preview: str, by: str, now: datetime
) -> MessageRow | None:
    params = {
        "thread_id": locked.thread_id,
        "id": locked.id,
        "created_at": locked.created_at,
        "body": body,
        "previous_body": locked.body,
        "action": action,
        "edited_by": by,
        "preview": preview,
        "now": now,
    }
    return await db.fetch_one(conn, CHANGE_MESSAGE, params, MessageRow)
