"""Files attached to messages, through the same helpers as prescriptions (shared.uploads):

1. `start_attachment`: a participant gets a write-only URL (≤ 5 minutes, create-only) for a
   blob the server names, in the private THREAD_ATTACHMENTS_CONTAINER.
2. The post names the attachment ids: each unchecked file is checked first, outside any
   transaction (exists, ≤ 10 MB, JPEG/PNG/PDF/WebP by its magic bytes), then the post links
   the checked, unused ones in its transaction; a missing link rolls the post back.
3. `attachment_url`: a read URL valid ≤ 5 minutes, for the thread's participants (and support,
   audited), of a file that was checked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

from shared import uploads
from shared.data import db
from shared.platform.config import get_settings
from shared.platform.errors import Conflict, NotFound, ValidationFailed
from shared.threads import repo, repo_attachments, repo_moderation, rules
from shared.threads.errors import ThreadError
from shared.threads.models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    AttachmentTicket,
    AttachmentUrl,
    AuditSource,
    MessageRow,
    Party,
    StartAttachment,
    UploadRequest,
)

DEV_ENVIRONMENTS = ("local", "test", "dev")
URL_SECONDS = 300


def utcnow() -> datetime:
    return datetime.now(UTC)


async def start_attachment(
    party: Party, thread_id: UUID, body: StartAttachment, clock: Callable[[], datetime] = utcnow
) -> AttachmentTicket:
    settings, attachment_id = get_settings(), uuid4()
    container, blob_name = settings.thread_attachments_container, rules.blob_name(thread_id, attachment_id)
    async with db.connection() as conn:
        if await repo.thread_for_party(conn, thread_id, party) is None:
            raise rules.thread_not_found(thread_id)
    if settings.souq_env in DEV_ENVIRONMENTS:  # Azure's container comes from infra/
        await uploads.ensure_container(container)
    signed = await uploads.upload_url(container, blob_name, seconds=URL_SECONDS, now=clock())
    async with db.transaction() as conn:
        row = await repo_attachments.insert_attachment(conn, attachment_id, thread_id, party, blob_name, body.file_name)
    upload = UploadRequest(url=signed.url, method="PUT", headers=signed.headers, expires_at=signed.expires_at)
    return AttachmentTicket(
        id=row.id, upload=upload, max_bytes=ATTACHMENT_MAX_BYTES, accepted_types=list(ATTACHMENT_TYPES)
    )


async def verify_for_post(party: Party, thread_id: UUID, ids: list[UUID]) -> None:
    """Every named attachment is the caller's upload in this thread, unused, and its file passes
    the checks (422 otherwise); files not checked yet are checked now and marked."""
    if not ids:
        return
    settings = get_settings()
    async with db.connection() as conn:
        if await repo.thread_for_party(conn, thread_id, party) is None:  # 404 before any 422
            raise rules.thread_not_found(thread_id)
        rows = await repo_attachments.uploads_of(conn, thread_id, party.user_id, ids)
    missing = set(ids) - {row.id for row in rows}
    if missing:
        raise ValidationFailed(f"no attachment {sorted(map(str, missing))[0]} of yours in this thread",
                               code=ThreadError.ATTACHMENT_NOT_FOUND)  # fmt: skip
    for row in rows:
        if row.message_id is not None:
            raise Conflict(f"attachment {row.id} is already on a message", code=ThreadError.ATTACHMENT_USED)
        if row.verified_at is None:
            found = await uploads.inspect_upload(
                settings.thread_attachments_container, row.blob_name,
                max_bytes=ATTACHMENT_MAX_BYTES, allowed_types=ATTACHMENT_TYPES,
            )  # fmt: skip
            rules.check_upload(found.problem, row.id, max_bytes=ATTACHMENT_MAX_BYTES)
            assert found.content_type is not None
            async with db.transaction() as conn:
                await repo_attachments.mark_verified(conn, row.id, found.content_type, found.size)


def check_all_linked(row: MessageRow, ids: list[UUID]) -> None:
    """Raised inside the post's transaction (rolling it back) when a concurrent post took one
    of the attachments first."""
    if len(row.attachments) != len(set(ids)):
        raise Conflict("an attachment was put on another message meanwhile", code=ThreadError.ATTACHMENT_USED)


async def attachment_url(
    party: Party, thread_id: UUID, attachment_id: UUID, source: AuditSource, clock: Callable[[], datetime] = utcnow
) -> AttachmentUrl:
    async with db.transaction() as conn:
        if await repo.thread_for_party(conn, thread_id, party) is None:
            raise rules.thread_not_found(thread_id)
        row = await repo_attachments.attachment(conn, thread_id, attachment_id)
        if row is None or (row.message_id is None and row.uploader_id != party.user_id):
            raise NotFound(f"no attachment {attachment_id} in this thread", code=ThreadError.ATTACHMENT_NOT_FOUND)
        if row.content_type is None:
            raise Conflict("the file was not checked yet: post it first", code=ThreadError.ATTACHMENT_NOT_READY)
        if party.is_support:
            await repo_moderation.audit(conn, thread_id, source, "attachment_viewed")
    signed = await uploads.read_url(
        get_settings().thread_attachments_container, row.blob_name, seconds=URL_SECONDS, now=clock(),
        content_type=row.content_type,
    )  # fmt: skip
    return AttachmentUrl(url=signed.url, expires_at=signed.expires_at, content_type=row.content_type,
                         file_name=row.file_name)  # fmt: skip
