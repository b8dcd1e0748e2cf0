"""Inbox rows (typed, as the repo reads them) and the normalized events the channels produce.
The API's request and response models are in `models_api`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

Kind = Literal["MESSENGER", "INSTAGRAM", "TELEGRAM", "WIDGET"]
KINDS: tuple[Kind, ...] = ("MESSENGER", "INSTAGRAM", "TELEGRAM", "WIDGET")
META_KINDS: tuple[Kind, ...] = ("MESSENGER", "INSTAGRAM")
Status = Literal["OPEN", "SNOOZED", "CLOSED"]
ACTIVE: tuple[Status, ...] = ("OPEN", "SNOOZED")
Direction = Literal["IN", "OUT"]
DeliveryStatus = Literal["QUEUED", "SENT", "DELIVERED", "READ", "FAILED"]
MessageKind = Literal["message", "postback"]

MESSAGE_RECEIVED = "inbox.message_received"
REPLY_QUEUED = "inbox.reply_queued"
# Outbox aggregate types: replies go to CHANNEL_OUTBOUND_QUEUE (shared.events.relay), the rest
# to the domain queue.
CONVERSATION_AGGREGATE = "inbox_conversation"
OUTBOUND_AGGREGATE = "inbox_outbound"


@dataclass
class ConnectionRow:
    id: UUID
    kind: Kind
    external_id: str
    display_name: str
    seller_id: UUID | None
    active: bool
    secrets: bytes
    secrets_key_id: str
    secrets_updated_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass
class ContactRow:
    id: UUID
    connection_id: UUID
    external_id: str
    name: str | None
    username: str | None
    avatar_url: str | None
    verified: bool
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass
class ConversationRow:
    id: UUID
    connection_id: UUID
    contact_id: UUID
    status: Status
    snoozed_until: datetime | None
    assignee_id: str | None
    last_message_at: datetime
    last_inbound_at: datetime | None
    unread_count: int
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    version: int


@dataclass
class MessageRow:
    id: int
    conversation_id: UUID
    connection_id: UUID
    direction: Direction
    external_id: str | None
    kind: MessageKind
    text: str
    attachments: list[dict[str, Any]]
    reply_to: str | None
    agent_id: str | None
    delivery_status: DeliveryStatus | None
    error: str | None
    sent_at: datetime | None
    created_at: datetime
    # set by the repo, not a column: True when a retried reply returned the first one
    replayed: bool = False


@dataclass
class HistoryRow:
    id: int
    conversation_id: UUID
    action: str
    actor_id: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ContactIn:
    """Who wrote, as the channel names them (only external_id is always known)."""

    external_id: str
    name: str | None = None
    username: str | None = None
    avatar_url: str | None = None
    verified: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """One message event of a channel, normalized. `direction` OUT is an echo: a message the
    page sent from another tool (recorded, never opens a conversation). `dedupe_keys` are
    extra keys claimed with it (Telegram's `update:<update_id>`)."""

    contact: ContactIn
    external_id: str
    sent_at: datetime
    direction: Direction = "IN"
    kind: MessageKind = "message"
    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_to: str | None = None
    dedupe_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Watermark:
    """Meta's delivery / read receipts: every OUT message to the contact sent up to `watermark`."""

    contact_external_id: str
    status: Literal["DELIVERED", "READ"]
    watermark: datetime


ChannelEvent = InboundMessage | Watermark


@dataclass
class InboundOutcome:
    """What recording one inbound event did."""

    outcome: Literal["stored", "duplicate", "no_conversation", "watermark"]
    message: MessageRow | None = None
    conversation: ConversationRow | None = None
    conversation_created: bool = False
    updated: int = 0
