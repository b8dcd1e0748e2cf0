"""SQL for conversations: agents' reads (scoped to the connections they may see), the
versioned actions with their history rows, and the timers' batches.

Scope: `seller_id` NULL in a query means no filter (admins); a seller's id limits the rows to
that seller's connections. A conversation out of scope reads as missing (404)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.inbox.models import ConversationRow, HistoryRow
from shared.inbox.repo_contacts import CONVERSATION_COLUMNS

if TYPE_CHECKING:
    from psycopg import AsyncConnection

C_COLUMNS = ", ".join(f"c.{name.strip()}" for name in CONVERSATION_COLUMNS.split(","))
IN_SCOPE = "(%(seller_id)s::uuid IS NULL OR cc.seller_id = %(seller_id)s::uuid)"

INSERT_HISTORY = """
INSERT INTO conversation_history (conversation_id, action, actor_id, from_status, to_status, detail, created_at)
VALUES (%(id)s, %(action)s, %(actor_id)s, %(from_status)s, %(to_status)s, %(detail)s, %(now)s)
"""


async def add_history(
    conn: AsyncConnection,
    conversation: ConversationRow,
    action: str,
    actor_id: str,
    *,
    to_status: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    params = {
        "id": conversation.id,
        "action": action,
        "actor_id": actor_id,
        "from_status": conversation.status,
        "to_status": to_status or conversation.status,
        "detail": db.json_param(detail or {}),
        "now": now,
    }
    await db.execute(conn, INSERT_HISTORY, params)


SELECT_IN_SCOPE = f"""
SELECT {C_COLUMNS} FROM conversations c JOIN channel_connections cc ON cc.id = c.connection_id
WHERE c.id = %(id)s AND {IN_SCOPE}
"""


async def conversation_in_scope(
    conn: AsyncConnection, conversation_id: UUID, seller_id: UUID | None, *, for_update: bool = False
) -> ConversationRow | None:
    sql = SELECT_IN_SCOPE + (" FOR UPDATE OF c" if for_update else "")
    return await db.fetch_one(conn, sql, {"id": conversation_id, "seller_id": seller_id}, ConversationRow)


SELECT_ACTIVE_OF_CONTACT = f"""
SELECT {CONVERSATION_COLUMNS} FROM conversations
WHERE connection_id = %(connection_id)s AND contact_id = %(contact_id)s AND status IN ('OPEN', 'SNOOZED')
"""


async def active_of_contact(conn: AsyncConnection, connection_id: UUID, contact_id: UUID) -> ConversationRow | None:
    params = {"connection_id": connection_id, "contact_id": contact_id}
    return await db.fetch_one(conn, SELECT_ACTIVE_OF_CONTACT, params, ConversationRow)


# The versioned actions: each matches only the version the agent read and a status it may
# leave; no match is a stale version or a wrong status (the service tells which).
CLOSE = f"""
UPDATE conversations SET status = 'CLOSED', closed_at = %(now)s, closed_by = %(actor_id)s,
    close_reason = %(reason)s, snoozed_until = NULL, version = version + 1
WHERE id = %(id)s AND version = %(version)s AND status IN ('OPEN', 'SNOOZED')
RETURNING {CONVERSATION_COLUMNS}
"""
SNOOZE = f"""
UPDATE conversations SET status = 'SNOOZED', snoozed_until = %(until)s, version = version + 1
WHERE id = %(id)s AND version = %(version)s AND status IN ('OPEN', 'SNOOZED')
RETURNING {CONVERSATION_COLUMNS}
"""
# A CLOSED conversation comes back OPEN; the partial unique index refuses it while the contact
# has another active one (the service names that one in its 409).
REOPEN = f"""
UPDATE conversations SET status = 'OPEN', closed_at = NULL, closed_by = NULL, close_reason = NULL,
    snoozed_until = NULL, version = version + 1
WHERE id = %(id)s AND version = %(version)s AND status IN ('CLOSED', 'SNOOZED')
RETURNING {CONVERSATION_COLUMNS}
"""
ASSIGN = f"""
UPDATE conversations SET assignee_id = %(assignee_id)s, version = version + 1
WHERE id = %(id)s AND version = %(version)s
RETURNING {CONVERSATION_COLUMNS}
"""
ACTIONS = {"close": CLOSE, "snooze": SNOOZE, "reopen": REOPEN, "assign": ASSIGN}


async def apply_action(conn: AsyncConnection, action: str, params: dict[str, Any]) -> ConversationRow | None:
    """Runs one of ACTIONS with `params` (id, version, now, actor_id and the action's own)."""
    return await db.fetch_one(conn, ACTIONS[action], params, ConversationRow)


RESET_UNREAD = "UPDATE conversations SET unread_count = 0 WHERE id = %(id)s AND unread_count > 0"


async def reset_unread(conn: AsyncConnection, conversation_id: UUID) -> None:
    await db.execute(conn, RESET_UNREAD, {"id": conversation_id})


# Wake: SNOOZED past snoozed_until → OPEN. SKIP LOCKED: two runs at once take disjoint rows, and
# the status condition makes a row woken by an inbound message in between a no-op.
WAKE_DUE = f"""
WITH due AS (
    SELECT id FROM conversations WHERE status = 'SNOOZED' AND snoozed_until <= %(now)s
    ORDER BY snoozed_until LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), woke AS (
    UPDATE conversations c SET status = 'OPEN', snoozed_until = NULL, version = c.version + 1
    FROM due WHERE c.id = due.id AND c.status = 'SNOOZED'
    RETURNING {C_COLUMNS}
), history AS (
    INSERT INTO conversation_history (conversation_id, action, actor_id, from_status, to_status, created_at)
    SELECT id, 'woke', 'timer:wake_snoozed_conversations', 'SNOOZED', 'OPEN', %(now)s FROM woke
)
SELECT {CONVERSATION_COLUMNS} FROM woke
"""


async def wake_due(conn: AsyncConnection, now: datetime, limit: int) -> list[ConversationRow]:
    return await db.fetch_all(conn, WAKE_DUE, {"now": now, "limit": limit}, ConversationRow)


AUTO_CLOSE_QUIET = f"""
WITH quiet AS (
    SELECT id, status FROM conversations WHERE status = 'OPEN' AND last_message_at <= %(before)s
    ORDER BY last_message_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), closed AS (
    UPDATE conversations c SET status = 'CLOSED', closed_at = %(now)s, closed_by = 'timer:auto_close',
        close_reason = 'inactive', version = c.version + 1
    FROM quiet WHERE c.id = quiet.id AND c.status = 'OPEN' AND c.last_message_at <= %(before)s
    RETURNING {C_COLUMNS}
), history AS (
    INSERT INTO conversation_history (conversation_id, action, actor_id, from_status, to_status, created_at)
    SELECT id, 'auto_closed', 'timer:auto_close', 'OPEN', 'CLOSED', %(now)s FROM closed
)
SELECT {CONVERSATION_COLUMNS} FROM closed
"""


async def auto_close_quiet(conn: AsyncConnection, before: datetime, now: datetime, limit: int) -> list[ConversationRow]:
    return await db.fetch_all(conn, AUTO_CLOSE_QUIET, {"before": before, "now": now, "limit": limit}, ConversationRow)


SELECT_HISTORY = """
SELECT id, conversation_id, action, actor_id, from_status, to_status, detail, created_at
FROM conversation_history WHERE conversation_id = %(id)s ORDER BY id LIMIT %(limit)s
"""


async def history(conn: AsyncConnection, conversation_id: UUID, limit: int = 200) -> list[HistoryRow]:
    return await db.fetch_all(conn, SELECT_HISTORY, {"id": conversation_id, "limit": limit}, HistoryRow)
