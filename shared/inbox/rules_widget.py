"""The chat widget's rules: pure functions and tables, no I/O
(tests/unit/test_inbox_widget_rules.py).

- Who a visitor is: the contact's external id on the widget connection, anonymous or verified.
- Identity verification: the site signs the identifier with the widget's secret (HMAC-SHA256).
- The visitor token: which claims it carries, the key it is signed with (one per connection).
- The send limit: a fixed window per visitor; how long a refused sender waits.
- Polling: how far back a poll reads, so a message committed late is never skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

# --- who a visitor is ----------------------------------------------------------------------

# A contact's external id on a widget connection: an anonymous visitor is a random id the
# session made; a verified one is the site's own identifier, so every device of that customer
# continues the same conversation. The prefixes keep the two apart: an anonymous visitor can
# never claim "user:<someone>" because only a verified session issues that subject.
ANONYMOUS_PREFIX = "visitor:"
VERIFIED_PREFIX = "user:"


def anonymous_subject(visitor_id: UUID) -> str:
    return f"{ANONYMOUS_PREFIX}{visitor_id}"


def verified_subject(identifier: str) -> str:
    return f"{VERIFIED_PREFIX}{identifier}"


def is_verified_subject(subject: str) -> bool:
    return subject.startswith(VERIFIED_PREFIX)


# A visitor's message is stored under "w:<visitor digest>:<client id>": a retried send (same
# client id) is stored once, and one visitor's client ids can never collide with another's.
# The digest keeps the key short whatever the identifier's length.
MESSAGE_KEY_PREFIX = "w:"


def message_key(subject: str, client_id: UUID) -> str:
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"{MESSAGE_KEY_PREFIX}{digest}:{client_id}"


def client_id_of(external_id: str | None) -> UUID | None:
    """The client id a widget message was sent with; None for anything else."""
    if not external_id or not external_id.startswith(MESSAGE_KEY_PREFIX):
        return None
    try:
        return UUID(external_id.rpartition(":")[2])
    except ValueError:
        return None


# --- identity verification -----------------------------------------------------------------


def identity_signature(widget_secret: bytes, identifier: str) -> str:
    """What the site computes on its server: hex HMAC-SHA256 of the identifier (UTF-8)."""
    return hmac.new(widget_secret, identifier.encode("utf-8"), hashlib.sha256).hexdigest()


def identity_matches(widget_secret: bytes | None, identifier: str, signature: str) -> bool:
    """The site's signature is right, compared in constant time. No secret: nothing verifies."""
    if not widget_secret:
        return False
    expected = identity_signature(widget_secret, identifier)
    return hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("ascii"))


# --- the visitor token ---------------------------------------------------------------------

TOKEN_ALGORITHM = "HS256"
TOKEN_ISSUER = "souq-widget"
TOKEN_KEY_CONTEXT = b"souq-widget-visitor-token:"


@dataclass(frozen=True)
class VisitorClaims:
    """What a visitor token says: the widget connection, the contact's external id, whether the
    site verified it, and until when it is valid."""

    connection_id: UUID
    subject: str
    verified: bool
    expires_at: datetime


def token_key(secret: str, connection_id: UUID) -> bytes:
    """The connection's signing key, derived from WIDGET_TOKEN_SECRET: a token made for one
    widget never opens another, whatever its claims say."""
    return hmac.new(secret.encode("utf-8"), TOKEN_KEY_CONTEXT + str(connection_id).encode(), hashlib.sha256).digest()


def token_audience(connection_id: UUID) -> str:
    return f"widget:{connection_id}"


def new_claims(connection_id: UUID, subject: str, *, now: datetime, days: int) -> VisitorClaims:
    expires_at = now.replace(microsecond=0) + timedelta(days=days)
    return VisitorClaims(connection_id, subject, is_verified_subject(subject), expires_at)


def claims_payload(claims: VisitorClaims, now: datetime) -> dict[str, Any]:
    return {
        "iss": TOKEN_ISSUER,
        "aud": token_audience(claims.connection_id),
        "sub": claims.subject,
        "cid": str(claims.connection_id),
        "ver": claims.verified,
        "iat": int(now.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }


def claims_from_payload(payload: dict[str, Any]) -> VisitorClaims | None:
    """The claims of a payload whose signature was checked; None when its shape is not ours
    (the subject must agree with `ver`, so a verified flag cannot be bolted on)."""
    try:
        connection_id = UUID(str(payload["cid"]))
        subject, verified = payload["sub"], payload["ver"]
        expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(subject, str) or verified is not is_verified_subject(subject):
        return None
    if not subject.startswith((ANONYMOUS_PREFIX, VERIFIED_PREFIX)):
        return None
    return VisitorClaims(connection_id, subject, verified, expires_at)


# --- the send limit ------------------------------------------------------------------------

RATE_WINDOW_SECONDS = 60


def rate_window_start(now: datetime, window_seconds: int = RATE_WINDOW_SECONDS) -> datetime:
    """The fixed window `now` falls in (windows start at multiples of its length since 1970)."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)


def retry_after_seconds(now: datetime, window_start: datetime, window_seconds: int = RATE_WINDOW_SECONDS) -> int:
    """Whole seconds until the next window opens; at least 1."""
    remaining = (window_start + timedelta(seconds=window_seconds) - now).total_seconds()
    return max(1, math.ceil(remaining))


# --- polling -------------------------------------------------------------------------------

# A message's created_at is its transaction's start: one committed a little after a poll may
# carry an earlier time than the newest message that poll saw. A poll therefore reads from
# this long before its cursor (more than any statement may run: DATABASE_STATEMENT_TIMEOUT_MS
# is 5 s), and the widget drops ids it already shows.
POLL_LOOKBACK = timedelta(seconds=15)
POLL_ORDER = "widget_after"
POLL_INTERVAL_MS = 1000  # the widget polls this often while its panel is open
IDLE_POLL_INTERVAL_MS = 10000  # and this often while only the bubble shows (an unread badge)


def poll_from(after: datetime | None) -> datetime | None:
    """Where a poll reads from: the lookback before the cursor; everything on the first poll."""
    return None if after is None else after - POLL_LOOKBACK


def next_poll_cursor(after: datetime | None, newest: datetime | None) -> datetime | None:
    """The cursor moves forward only: a page of re-read messages never takes it back."""
    if newest is None:
        return after
    return newest if after is None else max(after, newest)
