"""Message threads: what the API takes and returns, the typed rows the repos read, and the
values a caller passes in (who sends, which side of a thread a caller is on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from shared.platform.auth import ADMIN_ROLES
from shared.platform.base_model import NOT_BLANK, WHOLE, AppModel, BigId

# Who acts and from where: moderation reads are audited like prescription file views.
from shared.prescriptions.models import AuditSource as AuditSource

ThreadKind = Literal["PRODUCT_INQUIRY", "ORDER", "DIRECT", "SUPPORT"]
Side = Literal["SHOPPER", "SELLER", "SUPPORT"]
MessageKind = Literal["TEXT", "SYSTEM", "ORDER_REQUEST", "ATTACHMENT"]
AttachmentType = Literal["image/jpeg", "image/png", "application/pdf", "image/webp"]
ATTACHMENT_TYPES: tuple[AttachmentType, ...] = ("image/jpeg", "image/png", "application/pdf", "image/webp")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

# Support agents are admins: they read any thread for moderation (audited) and the reports.
MODERATOR_ROLES = ADMIN_ROLES
SELLER_STAFF = frozenset({"seller"})

BODY_MAX = 4000
PAGE_LIMIT_DEFAULT = 30
PAGE_LIMIT_MAX = 100
MAX_ATTACHMENTS = 10
MessageId = BigId
PageLimit = Annotated[int, Field(ge=1, le=PAGE_LIMIT_MAX), WHOLE]
CURSOR = Field(default=None, max_length=200, json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"})
Body = Annotated[str, Field(min_length=1, max_length=BODY_MAX), NOT_BLANK]
ClientId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


# --- who acts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """One side of a thread as a caller reaches it: a shopper (their user id), a seller (the
    seller id every staff user shares) or support (any thread)."""

    side: Side
    party_id: str
    user_id: str

    @property
    def is_support(self) -> bool:
        return self.side == "SUPPORT"


@dataclass(frozen=True)
class Sender:
    """Who posts a message: the user, and the side they post for."""

    side: Side
    user_id: str


# --- requests ------------------------------------------------------------------------------


class StartInquiry(AppModel):
    model_config = ConfigDict(extra="forbid")

    seller_id: UUID = Field(description="the seller asked about this product")


class PostMessage(AppModel):
    """Text (or attachments alone), an optional reply to a message of the same thread, and a
    client message id that makes a retry return the first post instead of posting twice."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["body"], "properties": {"body": {"type": "string"}}},
                {"required": ["attachment_ids"], "properties": {"attachment_ids": {"minItems": 1}}},
            ]
        },
    )

    body: Body | None = Field(default=None, description="the text, up to 4,000 characters")
    reply_to: MessageId | None = Field(default=None, description="a message of this thread")
    attachment_ids: list[UUID] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    client_message_id: ClientId | None = Field(default=None, description="the client's id of this post (retries)")

    @model_validator(mode="after")
    def _says_something(self) -> PostMessage:
        if self.body is None and not self.attachment_ids:
            raise ValueError("a message needs a body or attachments")
        return self


class EditMessage(AppModel):
    model_config = ConfigDict(extra="forbid")

    body: Body


class ReadUpTo(AppModel):
    model_config = ConfigDict(extra="forbid")

    up_to: MessageId = Field(description="the newest message read; the watermark never moves back")


class StartAttachment(AppModel):
    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(
        min_length=1, max_length=255, pattern=r"^[^/\\\u0000]+$", description="what the file is called (shown only)"
    )


class ReportMessage(AppModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=1000), NOT_BLANK]


class MessagesQuery(AppModel):
    """Keyset both ways: `before` an id pages back (newest first, then shown oldest first),
    `after` an id pages forward (how a client polls); both bound a range read forward from
    `after`; neither gives the latest page."""

    model_config = ConfigDict(extra="forbid")

    before: MessageId | None = None
    after: MessageId | None = None
    limit: PageLimit = PAGE_LIMIT_DEFAULT


class ThreadsQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = CURSOR
    limit: PageLimit = 20


class ReportsQuery(ThreadsQuery):
    pass


# --- responses -----------------------------------------------------------------------------


class Attachment(AppModel):
    id: UUID
    file_name: str
    content_type: str | None
    size_bytes: int | None


class Message(AppModel):
    id: int
    thread_id: UUID
    seq: int
    sender_id: str
    sender_side: Side
    kind: MessageKind
    body: str
    reply_to: int | None
    metadata: dict[str, Any]
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    attachments: list[Attachment] = Field(default_factory=list)


class MessagePage(AppModel):
    items: list[Message] = Field(description="oldest first")
    has_more: bool = Field(description="more messages beyond this page in the direction asked")


class Thread(AppModel):
    id: UUID
    kind: ThreadKind
    subject: str
    product_id: UUID | None
    seller_id: UUID | None
    shopper_id: str
    order_id: UUID | None
    last_message_id: int | None
    last_message_at: datetime | None
    last_message_preview: str | None
    last_activity_at: datetime
    archived_at: datetime | None
    created_at: datetime


class ThreadSummary(Thread):
    """A row of a thread list: the caller's unread count and the other party's name."""

    unread_count: int
    other_party_name: str | None


class ThreadPage(AppModel):
    items: list[ThreadSummary]
    next_cursor: str | None


class UnreadThread(AppModel):
    thread_id: UUID
    unread_count: int


class Unread(AppModel):
    total: int
    threads: list[UnreadThread]


class ReadMark(AppModel):
    thread_id: UUID
    last_read_message_id: int
    unread_count: int


class UploadRequest(AppModel):
    url: str
    method: Literal["PUT", "GET"]
    headers: dict[str, str]
    expires_at: datetime


class AttachmentTicket(AppModel):
    id: UUID
    upload: UploadRequest
    max_bytes: int
    accepted_types: list[str]


class AttachmentUrl(AppModel):
    url: str = Field(description="read-only, valid until expires_at")
    expires_at: datetime
    content_type: str
    file_name: str


class Report(AppModel):
    id: UUID
    thread_id: UUID
    message_id: int
    reporter_id: str
    reason: str
    created_at: datetime


class ReportPage(AppModel):
    items: list[Report]
    next_cursor: str | None


class MessageEdit(AppModel):
    message_id: int
    previous_body: str
    action: Literal["edited", "deleted"]
    edited_by: str
    edited_at: datetime


class ModerationView(AppModel):
    """A thread as support reads it: every message (deleted ones blank) and every edit's text."""

    thread: Thread
    messages: MessagePage
    edits: list[MessageEdit]


# --- rows ----------------------------------------------------------------------------------


class ThreadRow(Thread):
    message_seq: int
    has_archived: bool
    version: int


class ThreadListRow(ThreadSummary):
    pass


class MessageRow(Message):
    # True when append_message returned the message an earlier post with the same client id made
    replayed: bool = False


class PostingSlot(AppModel):
    """What bumping a thread for a new message gives: the message's seq and id, and who to tell."""

    message_seq: int
    message_id: int
    shopper_id: str
    seller_id: UUID | None
    subject: str


class AttachmentRow(Attachment):
    thread_id: UUID
    uploader_id: str
    blob_name: str
    verified_at: datetime | None
    message_id: int | None


class WelcomeContext(AppModel):
    """What a welcome message is written from: the shopper's language, the seller's texts."""

    preferred_language: Literal["en", "ar"]
    seller_name_en: str | None
    seller_name_ar: str | None
    welcome_message_en: str | None
    welcome_message_ar: str | None
    product_name_en: str | None
    product_name_ar: str | None


@dataclass
class ArchiveRun:
    threads: int = 0
    messages: int = 0
