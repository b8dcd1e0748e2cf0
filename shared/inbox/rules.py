"""Pure rules of the inbox: webhook authentication, Meta's reply windows, Telegram's message
size, what a snooze may ask for, who sees which connections, and the errors they raise."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from shared.inbox.errors import InboxError
from shared.inbox.models import META_KINDS, ConnectionRow, ConversationRow
from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed

# Meta: a reply within 24 h of the contact's last message is a RESPONSE; up to 7 days an agent
# may answer with the HUMAN_AGENT tag; after that nothing may be sent.
RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
TELEGRAM_MAX_TEXT = 4096
MAX_SNOOZE = timedelta(days=90)
# Bodies above this go to Blob and the queue message carries a reference (Storage queues take
# 64 KiB messages, base64 makes 48 KiB of body 64 KiB).
QUEUE_INLINE_BODY_BYTES = 48 * 1024
META_SIGNATURE_PREFIX = "sha256="

Window = Literal["RESPONSE", "HUMAN_AGENT"]


# --- webhooks ------------------------------------------------------------------------------


def meta_signature(app_secret: str, body: bytes) -> str:
    return META_SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def meta_signature_valid(header: str | None, app_secret: str, body: bytes) -> bool:
    """X-Hub-Signature-256 is an HMAC-SHA256 of the raw body bytes; compared in constant time."""
    if not header or not app_secret:
        return False
    return hmac.compare_digest(header.strip().encode(), meta_signature(app_secret, body).encode())


def token_matches(sent: str | None, expected: str | None) -> bool:
    """A shared-secret token (Meta's verify token, Telegram's secret token) in constant time."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


# --- replies -------------------------------------------------------------------------------


def meta_window(last_inbound_at: datetime | None, now: datetime) -> Window | None:
    """How a Meta reply may be sent now, or None when the contact wrote too long ago."""
    if last_inbound_at is None:
        return None
    quiet = now - last_inbound_at
    if quiet <= RESPONSE_WINDOW:
        return "RESPONSE"
    if quiet <= HUMAN_AGENT_WINDOW:
        return "HUMAN_AGENT"
    return None


def check_reply_window(connection: ConnectionRow, conversation: ConversationRow, now: datetime) -> Window | None:
    """Raises 409 outside_messaging_window for a Meta channel whose windows have passed."""
    if connection.kind not in META_KINDS:
        return None
    window = meta_window(conversation.last_inbound_at, now)
    if window is None:
        raise Conflict(
            "the contact last wrote more than 7 days ago: Meta allows no reply until they write again",
            code=InboxError.OUTSIDE_MESSAGING_WINDOW,
            extra={"last_inbound_at": conversation.last_inbound_at},
        )
    return window


def split_text(text: str, limit: int = TELEGRAM_MAX_TEXT) -> list[str]:
    """Telegram takes at most 4,096 characters a message: longer replies go as several, cut at
    the last line break (else space) before the limit when there is one."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut < limit // 2:  # no break in the second half: cut the word
            parts.append(rest[:limit])
            rest = rest[limit:]
        else:  # the break itself is dropped
            parts.append(rest[:cut])
            rest = rest[cut + 1 :]
    return [*parts, rest]


# --- actions -------------------------------------------------------------------------------


def check_snooze_until(until: datetime, now: datetime) -> None:
    if until <= now:
        raise _field_error("until", "must be in the future", InboxError.SNOOZE_IN_PAST)
    if until - now > MAX_SNOOZE:
        raise _field_error("until", "at most 90 days ahead", InboxError.SNOOZE_TOO_FAR)


def _field_error(path: str, message: str, code: InboxError) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(path=path, message=message, code=code)])


def conversation_not_found(conversation_id: UUID) -> NotFound:
    return NotFound(f"no conversation {conversation_id}", code=InboxError.CONVERSATION_NOT_FOUND)


def connection_not_found(connection_id: UUID) -> NotFound:
    return NotFound(f"no channel connection {connection_id}", code=InboxError.CONNECTION_NOT_FOUND)


def action_refused(action: str, current: ConversationRow, version: int) -> Conflict:
    """Why a versioned action matched nothing: a stale version, or a status it cannot leave."""
    if current.version != version:
        return Conflict(
            f"the conversation is at version {current.version}, not {version}",
            code=InboxError.VERSION_CONFLICT,
            extra={"current_version": current.version},
        )
    code = InboxError.NOT_CLOSED if action == "reopen" else InboxError.NOT_ACTIVE
    return Conflict(f"a {current.status} conversation cannot be {action}d", code=code, extra={"status": current.status})


def active_conversation_exists(active: ConversationRow) -> Conflict:
    return Conflict(
        f"the contact already has an active conversation {active.id}",
        code=InboxError.ACTIVE_CONVERSATION_EXISTS,
        extra={"active_conversation_id": str(active.id)},
    )


# --- scope ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What an agent sees: None = every connection (admins), else one seller's."""

    seller_id: UUID | None


def agent_scope(principal: Principal) -> Scope:
    """Admins (who are the platform's support: the auth has no `support` role) see every
    connection; a seller's staff their seller's. Role checks happen at the endpoint."""
    if principal.has_any_role(ADMIN_ROLES):
        return Scope(None)
    if principal.seller_id is None:
        raise Forbidden("this token names no seller", code=InboxError.NO_SELLER)
    return Scope(UUID(principal.seller_id))


def owns_connection(scope: Scope, connection: ConnectionRow) -> bool:
    return scope.seller_id is None or connection.seller_id == scope.seller_id


def agent_id(principal: Principal) -> str:
    return principal.user_id
