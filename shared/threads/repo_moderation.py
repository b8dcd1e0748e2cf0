"""SQL of moderation: the append-only audit of support's reads, the edit history support sees,
and message reports (one per message and reporter)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db, multiplexed
from shared.threads.models import AuditSource, MessageEdit, Report

if TYPE_CHECKING:
    from psycopg import AsyncConnection

INSERT_AUDIT = """
INSERT INTO thread_moderation_audit (thread_id, actor_id, actor_role, action, client_ip, user_agent)
VALUES (%(thread_id)s, %(actor_id)s, %(actor_role)s, %(action)s, %(client_ip)s, %(user_agent)s)
"""


async def audit(conn: AsyncConnection, thread_id: UUID, source: AuditSource, action: str) -> None:
    params = {
        "thread_id": thread_id,
        "actor_id": source.actor_id,
        "actor_role": source.actor_role,
        "action": action,
        "client_ip": source.client_ip,
        "user_agent": source.user_agent,
    }
    await db.execute(conn, INSERT_AUDIT, params)


EDITS_OF = """
SELECT message_id, previous_body, action, edited_by, edited_at FROM message_edits
WHERE thread_id = %(thread_id)s AND message_id = ANY(%(ids)s::bigint[])
ORDER BY message_id, id
"""


async def edits_of(conn: AsyncConnection, thread_id: UUID, message_ids: list[int]) -> list[MessageEdit]:
    return await db.fetch_all(conn, EDITS_OF, {"thread_id": thread_id, "ids": message_ids}, MessageEdit)


REPORT_COLUMNS = "id, thread_id, message_id, reporter_id, reason, created_at"

# Only a message of this thread (live or archived) can be reported; a second report of the
# same message by the same reporter changes nothing (the first is read back).
INSERT_REPORT = f"""
INSERT INTO message_reports (thread_id, message_id, reporter_id, reason)
SELECT %(thread_id)s, %(message_id)s, %(reporter_id)s, %(reason)s
WHERE EXISTS (SELECT FROM messages WHERE thread_id = %(thread_id)s AND id = %(message_id)s)
   OR EXISTS (SELECT FROM archived_messages WHERE thread_id = %(thread_id)s AND id = %(message_id)s)
ON CONFLICT (message_id, reporter_id) DO NOTHING
RETURNING {REPORT_COLUMNS}
"""


async def insert_report(
    conn: AsyncConnection, thread_id: UUID, message_id: int, reporter_id: str, reason: str
) -> Report | None:
    params = {"thread_id": thread_id, "message_id": message_id, "reporter_id": reporter_id, "reason": reason}
    return await db.fetch_one(conn, INSERT_REPORT, params, Report)


SELECT_REPORT = f"""
SELECT {REPORT_COLUMNS} FROM message_reports
WHERE thread_id = %(thread_id)s AND message_id = %(message_id)s AND reporter_id = %(reporter_id)s
"""


async def existing_report(conn: AsyncConnection, thread_id: UUID, message_id: int, reporter_id: str) -> Report | None:
    params = {"thread_id": thread_id, "message_id": message_id, "reporter_id": reporter_id}
    return await db.fetch_one(conn, SELECT_REPORT, params, Report)


LIST_REPORTS = f"""
SELECT {REPORT_COLUMNS} FROM message_reports
WHERE (created_at, id) < (%(after_created_at)s, %(after_id)s)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""


async def list_reports(after: tuple[datetime, UUID], limit: int) -> list[Report]:
    params = {"after_created_at": after[0], "after_id": after[1], "limit": limit}
    return await multiplexed.fetch_all(LIST_REPORTS, params, Report)
