"""The threads domain's rules: pure functions and tables, no I/O (tests/unit/test_threads_rules.py).

- Who a caller is in a thread (shopper, the seller their token is bound to, support).
- What a message is: its kind, its preview, the welcome text of a new inquiry.
- What a sender may do to their own message (edit, delete) and until when.
- Who is told about a new message, and the collapsed notification's titles.
- When a thread is quiet enough to archive; what an uploaded file's check means.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from shared.platform.auth import Principal
from shared.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.threads.errors import ThreadError
from shared.threads.models import MessageKind, MessageRow, Party, PostingSlot, Sender, Side, WelcomeContext

PREVIEW_CHARS = 140
BLOB_PREFIX = "threads"
MESSAGE_POSTED = "thread.message_posted"
THREAD_AGGREGATE = "thread"

# --- who a caller is -----------------------------------------------------------------------


def shopper_party(principal: Principal) -> Party:
    return Party(side="SHOPPER", party_id=principal.user_id, user_id=principal.user_id)


def seller_party(principal: Principal) -> Party:
    """Any staff token of a seller acts for that seller: they share its side of the thread."""
    try:
        seller_id = str(UUID(principal.seller_id or ""))
    except ValueError:
        raise Forbidden("this token is not bound to a seller", code=ThreadError.NO_SELLER) from None
    return Party(side="SELLER", party_id=seller_id, user_id=principal.user_id)


def support_party(principal: Principal) -> Party:
    return Party(side="SUPPORT", party_id=principal.user_id, user_id=principal.user_id)


def thread_not_found(thread_id: UUID) -> NotFound:
    """Missing and someone else's answer alike, so ids cannot be probed."""
    return NotFound(f"no thread {thread_id}", code=ThreadError.THREAD_NOT_FOUND)


def message_not_found(message_id: int) -> NotFound:
    return NotFound(f"no message {message_id} in this thread", code=ThreadError.MESSAGE_NOT_FOUND)


# --- what a message is ---------------------------------------------------------------------


def message_kind(body: str | None, attachment_count: int) -> MessageKind:
    """ATTACHMENT for files without text, else TEXT."""
    return "ATTACHMENT" if not body and attachment_count else "TEXT"


def preview(body: str, attachment_count: int = 0) -> str:
    """The last message as a list shows it: one line, at most PREVIEW_CHARS characters."""
    line = " ".join(body.split())
    if not line and attachment_count:
        line = f"📎 {attachment_count} file" + ("s" if attachment_count > 1 else "")
    if len(line) > PREVIEW_CHARS:
        line = line[: PREVIEW_CHARS - 1].rstrip() + "…"
    return line


DEFAULT_WELCOME = {
    "en": "Hello! Thank you for contacting {seller}. We will answer your question{about} shortly.",
    "ar": "مرحبًا! شكرًا لتواصلك مع {seller}. سنجيب على سؤالك{about} قريبًا.",
}
ABOUT = {"en": " about {product}", "ar": " حول {product}"}


def welcome_text(context: WelcomeContext) -> str:
    """The seller's own welcome in the shopper's language when it has one, else the default
    (English or Arabic) naming the seller and the product."""
    language = context.preferred_language
    own = context.welcome_message_ar if language == "ar" else context.welcome_message_en
    if own:
        return own
    seller = context.seller_name_ar if language == "ar" else context.seller_name_en
    product = context.product_name_ar if language == "ar" else context.product_name_en
    about = ABOUT[language].format(product=product) if product else ""
    return DEFAULT_WELCOME[language].format(seller=seller, about=about)


def inquiry_subject(product_name: str) -> str:
    return product_name[:300]


# --- a sender's own message ----------------------------------------------------------------


def check_own_change(message: MessageRow, party: Party, now: datetime, *, window_minutes: int) -> None:
    """A sender edits or deletes only their own TEXT message, not deleted, within the window
    after it was posted (409 once the window has closed)."""
    if message.sender_id != party.user_id or message.sender_side != party.side:
        raise Forbidden("only the sender may change a message", code=ThreadError.NOT_YOUR_MESSAGE)
    if message.deleted_at is not None:
        raise Conflict("the message was deleted", code=ThreadError.MESSAGE_DELETED)
    if message.kind not in ("TEXT", "ATTACHMENT"):
        raise Conflict(f"a {message.kind} message cannot be changed", code=ThreadError.NOT_EDITABLE)
    if now > edit_deadline(message.created_at, window_minutes):
        raise Conflict(
            f"messages can be changed for {window_minutes} minutes after they are posted",
            code=ThreadError.EDIT_WINDOW_CLOSED,
            extra={"window_minutes": window_minutes},
        )


def edit_deadline(created_at: datetime, window_minutes: int) -> datetime:
    return created_at + timedelta(minutes=window_minutes)


# --- who is told ---------------------------------------------------------------------------


def recipients(sender_side: Side, shopper_id: str, seller_id: UUID | None) -> list[tuple[str, str]]:
    """(recipient type, id) of everyone but the sender's side: the shopper (a user) and the
    seller (all its staff share one notification)."""
    told = []
    if sender_side != "SHOPPER":
        told.append(("user", shopper_id))
    if sender_side != "SELLER" and seller_id is not None:
        told.append(("seller", str(seller_id)))
    return told


def posted_payload(thread_id: UUID, slot: PostingSlot, sender: Sender, kind: str, text: str) -> dict[str, Any]:
    """The `thread.message_posted` event: which message, by whom, and who is told."""
    return {
        "thread_id": str(thread_id),
        "message_id": slot.message_id,
        "seq": slot.message_seq,
        "sender_id": sender.user_id,
        "sender_side": sender.side,
        "kind": kind,
        "subject": slot.subject,
        "preview": text,
        "recipients": [{"type": t, "id": i} for t, i in recipients(sender.side, slot.shopper_id, slot.seller_id)],
    }


# --- archival and files --------------------------------------------------------------------


def archive_cutoff(now: datetime, after_days: int) -> datetime:
    """Threads with no activity since this moment are archived."""
    return now - timedelta(days=after_days)


def blob_name(thread_id: UUID, attachment_id: UUID) -> str:
    """Chosen by the server: nothing of the file's name, one per upload."""
    return f"{BLOB_PREFIX}/{thread_id}/{attachment_id}"


FILE_PROBLEMS: dict[str, tuple[ThreadError, str]] = {
    "missing": (ThreadError.FILE_MISSING, "attachment {id} has no file yet: PUT it to its upload URL first"),
    "empty": (ThreadError.FILE_EMPTY, "attachment {id} is empty"),
    "too_large": (ThreadError.FILE_TOO_LARGE, "attachment {id} is larger than {max_bytes} bytes"),
    "wrong_type": (
        ThreadError.FILE_TYPE_NOT_ALLOWED,
        "attachment {id} is not a JPEG, PNG, WebP or PDF (checked by its content, not its name)",
    ),
}


def check_upload(problem: str | None, attachment_id: UUID, *, max_bytes: int) -> None:
    """422 with a clear code when an uploaded file cannot be attached."""
    if problem is None:
        return
    code, message = FILE_PROBLEMS[problem]
    raise ValidationFailed(message.format(id=attachment_id, max_bytes=max_bytes), code=code)
