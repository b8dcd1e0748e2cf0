"""The chat widget's API models: a visitor's session, a message sent, a poll's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from shared.platform.base_model import NOT_BLANK, WHOLE, AppModel

MESSAGE_MAX_CHARS = 2000
POLL_LIMIT_DEFAULT = 100
POLL_LIMIT_MAX = 200
# A site's customer id as sites write them: numbers, UUIDs, e-mail addresses.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:@+-]{1,200}$"
WIDGET_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{8,200}$"
POLL_CURSOR = Field(
    default=None,
    max_length=200,
    json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"},
    description="the `cursor` of the previous poll (opaque); none on the first",
)


@dataclass
class VisitorMessageRow:
    """A message of the visitor's conversations as the widget's queries read it."""

    id: int
    conversation_id: UUID
    direction: Literal["IN", "OUT"]
    external_id: str | None
    text: str
    created_at: datetime


class Identity(AppModel):
    """The site's signed-in customer: its own id, and the hex HMAC-SHA256 of that id keyed with
    the widget secret, computed on the site's server (never in the browser)."""

    model_config = ConfigDict(extra="forbid")

    identifier: str = Field(min_length=1, max_length=200, pattern=IDENTIFIER_PATTERN)
    signature: str = Field(min_length=64, max_length=64, pattern=r"^[0-9a-fA-F]{64}$")


class SessionRequest(AppModel):
    """Empty for an anonymous visitor."""

    model_config = ConfigDict(extra="forbid")

    identity: Identity | None = None


class VisitorSession(AppModel):
    visitor_token: str = Field(description="send as `Authorization: Bearer …` to /api/widget/messages")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: datetime
    verified: bool = Field(description="the site verified who the visitor is (identity)")
    display_name: str = Field(description="the pharmacy's name, for the panel's title")
    poll_interval_ms: int = Field(description="how often the widget polls while its panel is open")


class SendMessage(AppModel):
    model_config = ConfigDict(extra="forbid")

    client_id: UUID = Field(description="made by the widget per message: a retry with it is stored once")
    text: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX_CHARS), NOT_BLANK]


class PollQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    after: str | None = POLL_CURSOR
    limit: Annotated[int, Field(ge=1, le=POLL_LIMIT_MAX), WHOLE] = POLL_LIMIT_DEFAULT


class VisitorMessage(AppModel):
    """A message as the visitor sees it: IN is the visitor's own, OUT a reply from the pharmacy."""

    id: int
    conversation_id: UUID
    direction: Literal["IN", "OUT"]
    text: str
    created_at: datetime
    client_id: UUID | None = Field(default=None, description="the visitor's own messages: the id it sent")


class VisitorConversation(AppModel):
    id: UUID
    status: Literal["OPEN", "SNOOZED", "CLOSED"]


class VisitorThread(AppModel):
    """Messages of all the visitor's conversations, oldest first. The first poll returns the
    latest `limit`; a poll with `after` returns those since a little before it (the widget
    drops ids it already shows), so a message committed late is never skipped."""

    messages: list[VisitorMessage]
    cursor: str | None = Field(description="pass as `after` on the next poll")
    conversation: VisitorConversation | None = Field(
        description="the latest conversation; CLOSED: the next message opens a new one"
    )
