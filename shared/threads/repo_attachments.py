"""SQL of message attachments: a row per upload (the blob's name chosen by the server), marked
verified once its bytes were checked, linked to a message by the post (repo.append_message)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.threads.models import AttachmentRow, Party

if TYPE_CHECKING:
    from psycopg import AsyncConnection

ATTACHMENT_COLUMNS = """id, thread_id, uploader_id, blob_name, file_name, content_type, size_bytes, verified_at,
       message_id"""

INSERT_ATTACHMENT = f"""
INSERT INTO message_attachments (id, thread_id, uploader_id, uploader_side, blob_name, file_name)
VALUES (%(id)s, %(thread_id)s, %(uploader_id)s, %(uploader_side)s, %(blob_name)s, %(file_name)s)
RETURNING {ATTACHMENT_COLUMNS}
"""


async def insert_attachment(
    conn: AsyncConnection, attachment_id: UUID, thread_id: UUID, party: Party, blob_name: str, file_name: str
) -> AttachmentRow:
    params = {
        "id": attachment_id,
        "thread_id": thread_id,
        "uploader_id": party.user_id,
        "uploader_side": party.side,
        "blob_name": blob_name,
        "file_name": file_name,
    }
    row = await db.fetch_one(conn, INSERT_ATTACHMENT, params, AttachmentRow)
    assert row is not None
    return row


SELECT_UPLOADS = f"""
SELECT {ATTACHMENT_COLUMNS} FROM message_attachments
WHERE id = ANY(%(ids)s::uuid[]) AND thread_id = %(thread_id)s AND uploader_id = %(uploader_id)s
"""


async def uploads_of(conn: AsyncConnection, thread_id: UUID, uploader_id: str, ids: list[UUID]) -> list[AttachmentRow]:
    """The caller's own uploads of this thread among `ids` (others' are simply not there)."""
    params = {"ids": ids, "thread_id": thread_id, "uploader_id": uploader_id}
    return await db.fetch_all(conn, SELECT_UPLOADS, params, AttachmentRow)


# Once: a second check of the same file (a retried post) changes nothing.
MARK_VERIFIED = """
UPDATE message_attachments SET content_type = %(content_type)s, size_bytes = %(size)s, verified_at = now()
WHERE id = %(id)s AND verified_at IS NULL
"""


async def mark_verified(conn: AsyncConnection, attachment_id: UUID, content_type: str, size: int) -> None:
    await db.execute(conn, MARK_VERIFIED, {"id": attachment_id, "content_type": content_type, "size": size})


SELECT_ATTACHMENT = f"""
SELECT {ATTACHMENT_COLUMNS} FROM message_attachments WHERE id = %(id)s AND thread_id = %(thread_id)s
"""


async def attachment(conn: AsyncConnection, thread_id: UUID, attachment_id: UUID) -> AttachmentRow | None:
    return await db.fetch_one(conn, SELECT_ATTACHMENT, {"id": attachment_id, "thread_id": thread_id}, AttachmentRow)
