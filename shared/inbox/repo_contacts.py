"""SQL for contacts and the find-or-create of a contact's active conversation.

At most one OPEN or SNOOZED conversation per (connection, contact) is the partial unique index
`conversations_one_active` (migration 0013), not code: find-or-create inserts naming its
predicate in ON CONFLICT, and when that did nothing, selects the active one FOR UPDATE. The
row lock is what makes a close racing an inbound message safe: the message either lands in the
conversation before the close commits (the close waits for the lock), or, when the close won,
the SELECT finds nothing active and the insert is tried again and opens a new one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.inbox.models import ContactIn, ContactRow, ConversationRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

CONTACT_COLUMNS = "id, connection_id, external_id, name, username, avatar_url, verified, first_seen_at, last_seen_at"
CONVERSATION_COLUMNS = """id, connection_id, contact_id, status, snoozed_until, assignee_id, last_message_at,
       last_inbound_at, unread_count, opened_at, closed_at, closed_by, close_reason, version"""
# How often find-or-create tries again after an active conversation closed under it.
FIND_OR_CREATE_ATTEMPTS = 5

# Names fill in when the channel tells them; last_seen_at only moves forward.
UPSERT_CONTACT = f"""
INSERT INTO contacts AS c (connection_id, external_id, name, username, avatar_url, verified, first_seen_at,
                           last_seen_at)
VALUES (%(connection_id)s, %(external_id)s, %(name)s, %(username)s, %(avatar_url)s, %(verified)s, %(now)s, %(now)s)
ON CONFLICT ON CONSTRAINT contacts_one_per_external_id DO UPDATE
SET name = COALESCE(EXCLUDED.name, c.name), username = COALESCE(EXCLUDED.username, c.username),
    avatar_url = COALESCE(EXCLUDED.avatar_url, c.avatar_url), verified = c.verified OR EXCLUDED.verified,
    last_seen_at = GREATEST(c.last_seen_at, EXCLUDED.last_seen_at)
RETURNING {CONTACT_COLUMNS}
"""


async def upsert_contact(conn: AsyncConnection, connection_id: UUID, contact: ContactIn, now: datetime) -> ContactRow:
    """The contact of (connection, external id), created or refreshed."""
    params = {
        "connection_id": connection_id,
        "external_id": contact.external_id,
        "name": contact.name,
        "username": contact.username,
        "avatar_url": contact.avatar_url,
        "verified": contact.verified,
        "now": now,
    }
    row = await db.fetch_one(conn, UPSERT_CONTACT, params, ContactRow)
    assert row is not None
    return row


SELECT_CONTACT = f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = %(id)s"


async def contact(conn: AsyncConnection, contact_id: UUID) -> ContactRow | None:
    return await db.fetch_one(conn, SELECT_CONTACT, {"id": contact_id}, ContactRow)


SELECT_CONTACT_BY_EXTERNAL_ID = f"""
SELECT {CONTACT_COLUMNS} FROM contacts WHERE connection_id = %(connection_id)s AND external_id = %(external_id)s
"""


async def contact_by_external_id(conn: AsyncConnection, connection_id: UUID, external_id: str) -> ContactRow | None:
    params = {"connection_id": connection_id, "external_id": external_id}
    return await db.fetch_one(conn, SELECT_CONTACT_BY_EXTERNAL_ID, params, ContactRow)


INSERT_ACTIVE_CONVERSATION = f"""
WITH opened AS (
    INSERT INTO conversations (connection_id, contact_id, status, last_message_at, opened_at)
    VALUES (%(connection_id)s, %(contact_id)s, 'OPEN', %(now)s, %(now)s)
    ON CONFLICT (connection_id, contact_id) WHERE status IN ('OPEN', 'SNOOZED') DO NOTHING
    RETURNING {CONVERSATION_COLUMNS}
), history AS (
    INSERT INTO conversation_history (conversation_id, action, actor_id, to_status, created_at)
    SELECT id, 'opened', %(actor_id)s, 'OPEN', %(now)s FROM opened
)
SELECT {CONVERSATION_COLUMNS} FROM opened
"""

SELECT_ACTIVE_FOR_UPDATE = f"""
SELECT {CONVERSATION_COLUMNS} FROM conversations
WHERE connection_id = %(connection_id)s AND contact_id = %(contact_id)s AND status IN ('OPEN', 'SNOOZED')
FOR UPDATE
"""


async def find_or_create_active(
    conn: AsyncConnection, connection_id: UUID, contact_id: UUID, now: datetime, *, actor_id: str = "contact"
) -> tuple[ConversationRow, bool]:
    """The contact's active conversation, locked for this transaction, and whether it is new.
    Run inside a transaction."""
    params = {"connection_id": connection_id, "contact_id": contact_id, "now": now, "actor_id": actor_id}
    for _ in range(FIND_OR_CREATE_ATTEMPTS):
        created = await db.fetch_one(conn, INSERT_ACTIVE_CONVERSATION, params, ConversationRow)
        if created is not None:
            return created, True
        found = await db.fetch_one(conn, SELECT_ACTIVE_FOR_UPDATE, params, ConversationRow)
        if found is not None:
            return found, False
    raise RuntimeError("the active conversation kept closing under find-or-create")  # retried by the host


async def active_for_update(conn: AsyncConnection, connection_id: UUID, contact_id: UUID) -> ConversationRow | None:
    """The contact's active conversation, locked, or None (echoes never open one)."""
    params = {"connection_id": connection_id, "contact_id": contact_id}
    return await db.fetch_one(conn, SELECT_ACTIVE_FOR_UPDATE, params, ConversationRow)


SELECT_LATEST_CONVERSATION = f"""
SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE contact_id = %(contact_id)s
ORDER BY opened_at DESC, id DESC LIMIT 1
"""


async def latest_conversation(conn: AsyncConnection, contact_id: UUID) -> ConversationRow | None:
    """The contact's newest conversation, whatever its status (a read)."""
    return await db.fetch_one(conn, SELECT_LATEST_CONVERSATION, {"contact_id": contact_id}, ConversationRow)


async def latest_conversation_for_update(conn: AsyncConnection, contact_id: UUID) -> ConversationRow | None:
    """The same, locked: an echo joins it, and message ids follow commit order per conversation."""
    sql = SELECT_LATEST_CONVERSATION + "FOR UPDATE"
    return await db.fetch_one(conn, sql, {"contact_id": contact_id}, ConversationRow)
