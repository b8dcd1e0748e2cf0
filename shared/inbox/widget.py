"""The chat widget's use cases (shared.inbox.service exposes them to functions/inbox_widget.py).

- A session: the widget token names an active WIDGET connection; the visitor gets a signed
  token for a new anonymous subject, or for the site's verified identifier. Nothing is written:
  a page view that never chats leaves no contact behind.
- A message: the visitor token names the connection and the contact; the send takes a slot of
  the visitor's window and goes through THE inbound path (shared.inbox.inbound.record_message)
  in the same transaction, directly rather than through the channel-inbound queue: the request
  is already authenticated and small, and the visitor's next poll must show it (a queue hop
  would add its polling delay and a second place to fail). A retry with the same client id
  returns the first message (200), whatever the window says.
- A poll: the visitor's messages of every conversation since a little before the cursor, and
  the latest conversation's status (CLOSED: the next message opens a new one).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.inbox import connections, inbound, repo_connections, repo_widget
from shared.inbox import rules_widget as rules
from shared.inbox import widget_tokens as tokens
from shared.inbox.errors_widget import WidgetError
from shared.inbox.models import ConnectionRow, ContactIn, InboundMessage
from shared.inbox.models_widget import (
    PollQuery,
    SendMessage,
    SessionRequest,
    VisitorMessage,
    VisitorMessageRow,
    VisitorSession,
    VisitorThread,
)
from shared.platform.config import get_settings
from shared.platform.errors import FieldError, NotFound, PlatformError, TooManyRequests, Unauthorized, ValidationFailed
from shared.platform.pagination import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from psycopg import AsyncConnection

WIDGET_SCRIPT = Path(__file__).with_name("static") / "widget.js"
WIDGET_SECRET = "widget_secret"  # the connection's secret the site signs identifiers with
clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - tests replace it


@cache
def widget_script() -> bytes:
    """widget.js, read once per process."""
    return WIDGET_SCRIPT.read_bytes()


async def start_session(widget_token: str, request: SessionRequest) -> VisitorSession:
    now = clock()
    async with db.connection(read_only=True) as conn:
        found = await repo_connections.active_by_external_ids(conn, "WIDGET", [widget_token])
    if not found:
        raise NotFound("no active chat widget has this token", code=WidgetError.WIDGET_NOT_FOUND)
    connection = found[0]
    subject = _subject(connection, request)
    claims = rules.new_claims(connection.id, subject, now=now, days=get_settings().widget_visitor_token_days)
    return VisitorSession(
        visitor_token=tokens.issue(claims, now),
        expires_at=claims.expires_at,
        verified=claims.verified,
        display_name=connection.display_name,
        poll_interval_ms=rules.POLL_INTERVAL_MS,
    )


def _subject(connection: ConnectionRow, request: SessionRequest) -> str:
    if request.identity is None:
        return rules.anonymous_subject(uuid.uuid4())
    secret = connections.opened_secrets(connection).get(WIDGET_SECRET)
    identity = request.identity
    if not rules.identity_matches(secret.encode() if secret else None, identity.identifier, identity.signature):
        raise Unauthorized(
            "the identifier's signature does not match (HMAC-SHA256 with the widget secret, hex)",
            code=WidgetError.IDENTITY_NOT_VERIFIED,
        )
    return rules.verified_subject(identity.identifier)


class _StoredMeanwhile(Exception):
    """A racing retry stored the message between our read and our key claim: roll back (the
    slot this send took is given back) and answer that message."""


async def send_message(authorization: str | None, body: SendMessage) -> tuple[VisitorMessage, bool]:
    """The stored message, and whether this call stored it (False: a retry of an earlier send)."""
    now = clock()
    claims = tokens.verify(tokens.bearer_visitor_token(authorization), now=now)
    key = rules.message_key(claims.subject, body.client_id)
    try:
        async with db.transaction() as conn:
            await _active_widget(conn, claims.connection_id)
            earlier = await repo_widget.message_by_key(conn, claims.connection_id, key)
            if earlier is not None:
                return _visible(earlier), False
            await _take_slot(conn, claims, now)
            outcome = await inbound.record_message(conn, claims.connection_id, _inbound(claims, key, body, now), now)
            if outcome.message is None:
                raise _StoredMeanwhile
            stored = outcome.message
    except _StoredMeanwhile:
        return await _replayed(claims.connection_id, key), False
    relay.relay_soon()
    row = VisitorMessageRow(stored.id, stored.conversation_id, "IN", key, stored.text, stored.created_at)
    return _visible(row), True


def _inbound(claims: rules.VisitorClaims, key: str, body: SendMessage, now: datetime) -> InboundMessage:
    contact = ContactIn(external_id=claims.subject, verified=claims.verified)
    return InboundMessage(contact=contact, external_id=key, sent_at=now, text=body.text)


async def _take_slot(conn: AsyncConnection, claims: rules.VisitorClaims, now: datetime) -> None:
    window = rules.rate_window_start(now)
    limit = get_settings().widget_messages_per_minute
    if not await repo_widget.take_send_slot(conn, claims.connection_id, claims.subject, window, limit):
        raise TooManyRequests(
            f"at most {limit} messages a minute; wait before sending again",
            retry_after=rules.retry_after_seconds(now, window),
            code=WidgetError.SENDING_TOO_FAST,
        )


async def _replayed(connection_id: UUID, key: str) -> VisitorMessage:
    async with db.connection() as conn:
        earlier = await repo_widget.message_by_key(conn, connection_id, key)
    if earlier is None:  # its transaction has not committed yet: the widget's retry finds it
        raise TooManyRequests("this message is being stored; retry", retry_after=1, code=WidgetError.SENDING_TOO_FAST)
    return _visible(earlier)


async def poll_messages(authorization: str | None, query: PollQuery) -> VisitorThread:
    now = clock()
    claims = tokens.verify(tokens.bearer_visitor_token(authorization), now=now)
    after = _cursor_time(query.after)
    async with db.connection() as conn:  # the primary: a replica's lag would delay replies
        await _active_widget(conn, claims.connection_id)
        rows = await repo_widget.visitor_messages(
            conn, claims.connection_id, claims.subject, since=rules.poll_from(after), limit=query.limit
        )
        conversation = await repo_widget.latest_conversation(conn, claims.connection_id, claims.subject)
    cursor = rules.next_poll_cursor(after, max((row.created_at for row in rows), default=None))
    return VisitorThread(
        messages=[_visible(row) for row in rows],
        cursor=encode_cursor(rules.POLL_ORDER, cursor.isoformat()) if cursor else None,
        conversation=conversation,
    )


def _cursor_time(cursor: str | None) -> datetime | None:
    key = decode_cursor(cursor, rules.POLL_ORDER)
    if key is None:
        return None
    try:
        return datetime.fromisoformat(key[0])
    except (ValueError, IndexError):
        error = FieldError(path="after", message="invalid cursor", code=PlatformError.INVALID_CURSOR)
        raise ValidationFailed("the cursor is not one this API issued", errors=[error]) from None


async def _active_widget(conn: AsyncConnection, connection_id: UUID) -> None:
    """The token's widget still exists and is active (a disabled widget stops its visitors)."""
    connection = await repo_connections.connection(conn, connection_id)
    if connection is None or connection.kind != "WIDGET" or not connection.active:
        raise NotFound("no active chat widget has this token", code=WidgetError.WIDGET_NOT_FOUND)


def _visible(row: VisitorMessageRow) -> VisitorMessage:
    return VisitorMessage(
        id=row.id,
        conversation_id=row.conversation_id,
        direction=row.direction,
        text=row.text,
        created_at=row.created_at,
        client_id=rules.client_id_of(row.external_id) if row.direction == "IN" else None,
    )
