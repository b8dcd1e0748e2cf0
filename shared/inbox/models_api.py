"""What the inbox API takes and returns, and the queue messages it writes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field

from shared.inbox.models import DeliveryStatus, Direction, Kind, MessageKind, Status
from shared.platform.auth import ADMIN_ROLES, SELLER_ROLES
from shared.platform.base_model import NOT_BLANK, AppModel, Version

# Admins are the platform's support (the auth has no `support` role); seller staff their own.
AGENT_ROLES = SELLER_ROLES
CONNECTION_ROLES = SELLER_ROLES
ADMIN_ONLY = ADMIN_ROLES
PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100
MESSAGE_ID = r"^(0|[1-9][0-9]{0,17})$"
CURSOR = Field(default=None, max_length=200, json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"})
# A secret as platforms issue them: printable ASCII without spaces.
Secret = Annotated[str, Field(min_length=1, max_length=1000, pattern=r"^[!-~]+$")]
ReplyText = Annotated[str, Field(min_length=1, max_length=20000), NOT_BLANK]
Reason = Annotated[str, Field(min_length=1, max_length=500), NOT_BLANK]


# --- queue messages ------------------------------------------------------------------------


class DeliveryEnvelope(AppModel):
    """A raw webhook delivery on CHANNEL_INBOUND_QUEUE: the body inline, or a Blob name."""

    source: Literal["meta", "telegram"]
    connection_id: UUID | None = None  # telegram: the bot's connection (its URL names it)
    received_at: datetime
    body: str | None = None
    blob: str | None = None


class WebhookAck(AppModel):
    queued: bool


# --- agents' reads -------------------------------------------------------------------------


class ConversationsQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    assignee: str | None = Field(default=None, min_length=1, max_length=255, pattern=r"^[^\u0000]+$")
    connection: UUID | None = None
    q: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[^\u0000]+$", description="contact name or username"
    )
    cursor: str | None = CURSOR
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)


class MessagesQuery(AppModel):
    """`after=` polls forward (oldest first); else pages back from the newest (or `before=`)."""

    model_config = ConfigDict(extra="forbid")

    # Message ids are bigint: written as digits (request ints are int4 everywhere in this API).
    after: str | None = Field(default=None, pattern=MESSAGE_ID, description="ids greater than this, oldest first")
    before: str | None = Field(default=None, pattern=MESSAGE_ID, description="ids less than this, newest first")
    limit: int = Field(default=50, ge=1, le=PAGE_LIMIT_MAX)


class ContactOut(AppModel):
    id: UUID
    external_id: str
    name: str | None
    username: str | None
    verified: bool


class ConversationOut(AppModel):
    id: UUID
    connection_id: UUID
    kind: Kind
    connection_name: str
    contact: ContactOut
    status: Status
    snoozed_until: datetime | None
    assignee_id: str | None
    last_message_at: datetime
    last_inbound_at: datetime | None
    unread_count: int = Field(description="inbound messages since an agent last replied")
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    version: int


class ConversationPage(AppModel):
    items: list[ConversationOut]
    next_cursor: str | None
    unread_conversations: int = Field(description="conversations on this page with unread messages")


class HistoryOut(AppModel):
    action: str
    actor_id: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]
    created_at: datetime


class ConversationDetail(ConversationOut):
    history: list[HistoryOut]


class MessageOut(AppModel):
    id: int
    conversation_id: UUID
    direction: Direction
    kind: MessageKind
    external_id: str | None
    text: str
    attachments: list[dict[str, Any]]
    reply_to: str | None
    agent_id: str | None
    delivery_status: DeliveryStatus | None
    error: str | None
    sent_at: datetime | None
    created_at: datetime


class MessagePage(AppModel):
    items: list[MessageOut]
    next_after: int | None = Field(description="poll again with after= this (the newest id seen)")
    next_before: int | None = Field(description="page back with before= this, when older messages exist")


# --- agents' writes ------------------------------------------------------------------------


class ReplyRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$", description="a retry with it stores nothing new"
    )
    text: ReplyText


class CloseRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: Reason


class SnoozeRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    until: AwareDatetime = Field(description="when it wakes (OPEN again), at most 90 days ahead")


class ReopenRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    version: Version


class AssignRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    agent: Annotated[str, Field(min_length=1, max_length=255), NOT_BLANK] | None = Field(
        description="the agent's user id; null unassigns"
    )


# --- connections ---------------------------------------------------------------------------


class ChannelSecrets(AppModel):
    """Per kind: MESSENGER/INSTAGRAM app_secret, page_access_token, verify_token; TELEGRAM
    bot_token, webhook_secret_token; WIDGET widget_secret. Stored encrypted, never returned."""

    model_config = ConfigDict(extra="forbid")

    app_secret: Secret | None = None
    page_access_token: Secret | None = None
    verify_token: Secret | None = None
    bot_token: Secret | None = None
    webhook_secret_token: Secret | None = None
    widget_secret: Secret | None = None


# The secrets each kind needs: checked by shared.inbox.manage, stated in the document.
REQUIRED_SECRETS: dict[str, list[str]] = {
    "MESSENGER": ["app_secret", "page_access_token", "verify_token"],
    "INSTAGRAM": ["app_secret", "page_access_token", "verify_token"],
    "TELEGRAM": ["bot_token", "webhook_secret_token"],
    "WIDGET": ["widget_secret"],
}


def _secrets_by_kind() -> dict[str, Any]:
    return {
        "oneOf": [
            {
                "properties": {
                    "kind": {"const": kind},
                    "secrets": {"required": names, "properties": {name: {"type": "string"} for name in names}},
                }
            }
            for kind, names in REQUIRED_SECRETS.items()
        ]
    }


class CreateConnection(AppModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_secrets_by_kind())

    kind: Kind
    external_id: str = Field(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$", description="page id, IG account id, bot id, token"
    )
    display_name: Annotated[str, Field(min_length=1, max_length=200), NOT_BLANK]
    seller_id: UUID | None = Field(default=None, description="admins: the seller it belongs to (none: the platform)")
    secrets: ChannelSecrets


class RotateSecrets(AppModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    secrets: ChannelSecrets


class ConnectionsQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = CURSOR
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)


class ConnectionOut(AppModel):
    """A connection as the API shows it: never its secrets, only which ones are set."""

    id: UUID
    kind: Kind
    external_id: str
    display_name: str
    seller_id: UUID | None
    active: bool
    secrets_set: list[str]
    secrets_key_id: str
    secrets_updated_at: datetime
    webhook_path: str | None = Field(description="where the platform posts (Telegram: the bot's own)")
    version: int
    created_at: datetime


class ConnectionPage(AppModel):
    items: list[ConnectionOut]
    next_cursor: str | None


class RekeyResult(AppModel):
    resealed: int
    key_id: str


class MetaVerifyQuery(AppModel):
    """Meta's subscription check: `hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`."""

    model_config = ConfigDict(populate_by_name=True)

    mode: str | None = Field(default=None, alias="hub.mode", max_length=50, pattern=r"^[^\u0000]*$")
    verify_token: str | None = Field(default=None, alias="hub.verify_token", max_length=1000, pattern=r"^[^\u0000]*$")
    challenge: str | None = Field(default=None, alias="hub.challenge", max_length=1000, pattern=r"^[^\u0000]*$")
