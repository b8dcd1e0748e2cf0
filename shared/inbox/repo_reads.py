"""SQL of the agents' conversation list: newest activity first by keyset on
(last_message_at, id), filtered, scoped to the connections the agent may see, with each
conversation's contact, channel and unread-by-agent count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.inbox.models import ConversationRow
from shared.inbox.repo_conversations import C_COLUMNS, IN_SCOPE

if TYPE_CHECKING:
    from psycopg import AsyncConnection


@dataclass
class ConversationView(ConversationRow):
    kind: str
    connection_name: str
    contact_external_id: str
    contact_name: str | None
    contact_username: str | None
    contact_verified: bool


VIEW_COLUMNS = f"""{C_COLUMNS}, cc.kind, cc.display_name AS connection_name, ct.external_id AS contact_external_id,
       ct.name AS contact_name, ct.username AS contact_username, ct.verified AS contact_verified"""
VIEW_FROM = """conversations c JOIN channel_connections cc ON cc.id = c.connection_id
JOIN contacts ct ON ct.id = c.contact_id"""

LIST_CONVERSATIONS = f"""
SELECT {VIEW_COLUMNS} FROM {VIEW_FROM}
WHERE {IN_SCOPE}
  AND (%(status)s::text IS NULL OR c.status = %(status)s::text)
  AND (%(assignee)s::text IS NULL OR c.assignee_id = %(assignee)s::text)
  AND (%(connection_id)s::uuid IS NULL OR c.connection_id = %(connection_id)s::uuid)
  AND (%(q)s::text IS NULL OR ct.name ILIKE %(q)s::text OR ct.username ILIKE %(q)s::text
       OR ct.external_id = %(q_exact)s::text)
  AND (c.last_message_at, c.id) < (%(after_at)s, %(after_id)s)
ORDER BY c.last_message_at DESC, c.id DESC
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class ListFilter:
    seller_id: UUID | None
    status: str | None = None
    assignee: str | None = None
    connection_id: UUID | None = None
    q: str | None = None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_conversations(
    conn: AsyncConnection, where: ListFilter, after: tuple[datetime, UUID], limit: int
) -> list[ConversationView]:
    params = {
        "seller_id": where.seller_id,
        "status": where.status,
        "assignee": where.assignee,
        "connection_id": where.connection_id,
        "q": _like(where.q) if where.q else None,
        "q_exact": where.q,
        "after_at": after[0],
        "after_id": after[1],
        "limit": limit,
    }
    return await db.fetch_all(conn, LIST_CONVERSATIONS, params, ConversationView)


SELECT_VIEW = f"SELECT {VIEW_COLUMNS} FROM {VIEW_FROM} WHERE c.id = %(id)s AND {IN_SCOPE}"


async def conversation_view(
    conn: AsyncConnection, conversation_id: UUID, seller_id: UUID | None
) -> ConversationView | None:
    return await db.fetch_one(conn, SELECT_VIEW, {"id": conversation_id, "seller_id": seller_id}, ConversationView)
