"""The threads domain's public API: the one module of `shared.threads` a trigger imports (besides
`models`), and the one that opens transactions.

A caller reaches a thread as a `Party` (shopper, the seller its token is bound to, support):
someone else's thread answers 404, like a missing one. Functions meant to run inside another
domain's transaction take the connection (`find_or_create_thread`, `append_message`,
`thread_for_party`, re-exported from the repo for part B's order requests and ORDER threads).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.platform.auth import Principal
from shared.platform.config import get_settings
from shared.platform.errors import NotFound, ValidationFailed
from shared.prescriptions import service as prescriptions
from shared.threads import attachments, repo, repo_reads, rules
from shared.threads.archive import archive_quiet_threads
from shared.threads.errors import ThreadError
from shared.threads.models import (
    AuditSource,
    EditMessage,
    Message,
    MessagePage,
    MessagesQuery,
    Party,
    PostMessage,
    ReadMark,
    Sender,
    Thread,
    ThreadKind,
    ThreadPage,
    ThreadRow,
    ThreadsQuery,
    Unread,
    WelcomeContext,
)
from shared.threads.moderation import list_reports, moderation_view, report_message
from shared.threads.own_messages import delete_message, edit_message
from shared.users.service import ensure_user

if TYPE_CHECKING:
    from psycopg import AsyncConnection

find_or_create_thread = repo.find_or_create_thread
append_message = repo.append_message
thread_for_party = repo.thread_for_party
shopper_party, seller_party, support_party = rules.shopper_party, rules.seller_party, rules.support_party
start_attachment, attachment_url = attachments.start_attachment, attachments.attachment_url
__all__ = [
    "archive_quiet_threads",
    "delete_message",
    "edit_message",
    "list_reports",
    "moderation_view",
    "report_message",
]

WELCOME_SENDER = "system:welcome"


def utcnow() -> datetime:
    return datetime.now(UTC)


def audit_source(principal: Principal, headers: Mapping[str, str]) -> AuditSource:
    """Who reads as support and from where: the audit source prescriptions record too."""
    return prescriptions.audit_source(principal, headers)


# --- finding or starting a thread ----------------------------------------------------------


async def start_inquiry(
    principal: Principal, product_id: UUID, seller_id: UUID, clock: Callable[[], datetime] = utcnow
) -> tuple[Thread, bool]:
    """My inquiry thread about this product with this seller: (the thread, created now). The
    first creation posts the seller's welcome (SYSTEM) in my language, in the same transaction."""
    return await _start(principal, "PRODUCT_INQUIRY", seller_id, product_id, clock())


async def start_direct(
    principal: Principal, seller_id: UUID, clock: Callable[[], datetime] = utcnow
) -> tuple[Thread, bool]:
    """My DIRECT thread with this seller (one per pair), started like an inquiry."""
    return await _start(principal, "DIRECT", seller_id, None, clock())


async def _start(
    principal: Principal, kind: ThreadKind, seller_id: UUID, product_id: UUID | None, now: datetime
) -> tuple[Thread, bool]:
    async with db.transaction() as conn:
        await ensure_user(conn, principal)
        context = await _welcome_context(conn, principal.user_id, seller_id, product_id)
        subject = (context.product_name_en if product_id else context.seller_name_en) or ""
        thread, created = await repo.find_or_create_thread(
            conn, kind, shopper_id=principal.user_id, seller_id=seller_id, product_id=product_id,
            subject=rules.inquiry_subject(subject), now=now,
        )  # fmt: skip
        if created:
            await post_welcome(conn, thread, context, now)
    relay.relay_soon()
    return Thread(**thread.model_dump()), created


async def _welcome_context(
    conn: AsyncConnection, user_id: str, seller_id: UUID, product_id: UUID | None
) -> WelcomeContext:
    context = await repo.welcome_context(conn, user_id, seller_id, product_id)
    assert context is not None, "ensure_user ran first"
    if context.seller_name_en is None:
        raise NotFound(f"no seller {seller_id}", code=ThreadError.SELLER_NOT_FOUND)
    if product_id is not None and context.product_name_en is None:
        raise NotFound(f"no product {product_id}", code=ThreadError.PRODUCT_NOT_FOUND)
    return context


async def post_welcome(conn: AsyncConnection, thread: ThreadRow, context: WelcomeContext, now: datetime) -> None:
    """The seller's welcome as the thread's first message (SYSTEM, on the seller's side)."""
    sender = Sender(side="SELLER", user_id=WELCOME_SENDER)
    metadata = {"welcome": True, "language": context.preferred_language}
    await repo.append_message(conn, thread.id, sender, "SYSTEM", rules.welcome_text(context), metadata, None, now)


# --- posting and reading -------------------------------------------------------------------


async def post_message(
    party: Party, thread_id: UUID, body: PostMessage, clock: Callable[[], datetime] = utcnow
) -> tuple[Message, bool]:
    """(the message, posted now): a retry with the same client message id returns the first
    post (False). Attachments are checked in Storage first, outside the transaction."""
    await attachments.verify_for_post(party, thread_id, body.attachment_ids)
    sender = Sender(side=party.side, user_id=party.user_id)
    kind = rules.message_kind(body.body, len(body.attachment_ids))
    async with db.transaction() as conn:
        if body.reply_to is not None and not await repo.message_in_thread(conn, thread_id, body.reply_to):
            await _require_thread(conn, thread_id, party)
            raise ValidationFailed("reply_to is not a message of this thread", code=ThreadError.REPLY_NOT_IN_THREAD)
        row = await repo.append_message(
            conn, thread_id, sender, kind, body.body or "", None, body.client_message_id, clock(),
            reply_to=body.reply_to, attachment_ids=body.attachment_ids, scope=party,
        )  # fmt: skip
        if row is None:
            raise rules.thread_not_found(thread_id)
        if not row.replayed:
            attachments.check_all_linked(row, body.attachment_ids)
    relay.relay_soon()
    return Message(**row.model_dump(exclude={"replayed"})), not row.replayed


async def _require_thread(conn: AsyncConnection, thread_id: UUID, party: Party) -> ThreadRow:
    thread = await repo.thread_for_party(conn, thread_id, party)
    if thread is None:
        raise rules.thread_not_found(thread_id)
    return thread


async def list_messages(party: Party, thread_id: UUID, query: MessagesQuery) -> MessagePage:
    """One page, oldest first: the latest, `before` an id (back) or `after` an id (polling).
    An archived thread reads the same, its archived messages included (slower path)."""
    async with db.connection() as conn:
        thread = await _require_thread(conn, thread_id, party)
        return await repo_reads.message_page(conn, thread, query)


async def mark_read(party: Party, thread_id: UUID, up_to: int) -> ReadMark:
    """Moves my side's watermark to `up_to`, never back (a conditional update)."""
    async with db.transaction() as conn:
        await _require_thread(conn, thread_id, party)
        mark = await repo_reads.mark_read(conn, thread_id, party, up_to)
    if mark is None:
        raise rules.message_not_found(up_to)
    return mark


async def list_threads(party: Party, query: ThreadsQuery) -> ThreadPage:
    """My threads (or my seller's), newest activity first, keyset pages, with unread counts."""
    return await repo_reads.thread_page(party, query)


async def unread(party: Party) -> Unread:
    """The total unread count and the count per thread, in one query."""
    return await repo_reads.unread(party)


async def edit_own_message(
    party: Party, thread_id: UUID, message_id: int, body: EditMessage, clock: Callable[[], datetime] = utcnow
) -> Message:
    return await edit_message(
        party, thread_id, message_id, body.body, clock(), get_settings().thread_edit_window_minutes
    )


async def delete_own_message(
    party: Party, thread_id: UUID, message_id: int, clock: Callable[[], datetime] = utcnow
) -> Message:
    return await delete_message(party, thread_id, message_id, clock(), get_settings().thread_edit_window_minutes)
