"""Visitor tokens of the chat widget: HS256 JWTs (PyJWT), signed with the widget connection's
own key (derived from WIDGET_TOKEN_SECRET, shared.inbox.rules_widget.token_key).

A token is read in two steps: its unverified `cid` names the connection, whose key then checks
the signature, the audience (that same connection), the issuer and the expiry. The algorithm is
fixed (never taken from the token), so `alg=none` or an RS256 header never validates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from shared.inbox import rules_widget as rules
from shared.inbox.errors_widget import WidgetError
from shared.platform import logs
from shared.platform.config import get_settings
from shared.platform.errors import DependencyUnavailable, Unauthorized

log = logs.get_logger("inbox.widget")
# Only where nothing is deployed: a development stand-in when WIDGET_TOKEN_SECRET is empty.
LOCAL_ENVIRONMENTS = ("local", "test", "dev")
LOCAL_SECRET = "local-widget-token-secret-not-for-azure"
UNRESOLVED_REFERENCE = "@Microsoft.KeyVault("


def signing_secret() -> str:
    """WIDGET_TOKEN_SECRET; empty in a deployed environment, or an unresolved Key Vault
    reference, is a missing dependency (503), never a guessable key."""
    settings = get_settings()
    secret = settings.widget_token_secret
    # A Key Vault reference the platform could not resolve arrives as its own (public) text.
    if secret and not secret.startswith(UNRESOLVED_REFERENCE):
        return secret
    if not secret and settings.souq_env in LOCAL_ENVIRONMENTS:
        return LOCAL_SECRET
    log.error("WIDGET_TOKEN_SECRET is not set (or its Key Vault reference did not resolve): no visitor tokens")
    raise DependencyUnavailable("widget token secret", retry_after=60)


def issue(claims: rules.VisitorClaims, now: datetime) -> str:
    import jwt

    key = rules.token_key(signing_secret(), claims.connection_id)
    return jwt.encode(rules.claims_payload(claims, now), key, algorithm=rules.TOKEN_ALGORITHM)


def bearer_visitor_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "send the visitor token from POST /api/widget/{widget_token}/sessions as a Bearer token",
            code=WidgetError.VISITOR_TOKEN_MISSING,
        )
    return token.strip()


def verify(token: str, *, now: datetime) -> rules.VisitorClaims:
    """The claims of a valid token; 401 for anything else (forged, expired, another widget's)."""
    import jwt

    connection_id = _claimed_connection(token)
    key = rules.token_key(signing_secret(), connection_id)
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[rules.TOKEN_ALGORITHM],
            audience=rules.token_audience(connection_id),
            issuer=rules.TOKEN_ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise _invalid() from None
    claims = rules.claims_from_payload(payload)
    if claims is None or claims.connection_id != connection_id:
        raise _invalid()
    if claims.expires_at <= now:  # our clock, not the library's: tests inject it
        raise Unauthorized("the visitor token expired; start a new session", code=WidgetError.VISITOR_TOKEN_EXPIRED)
    return claims


def _claimed_connection(token: str) -> UUID:
    import jwt

    try:
        unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        return UUID(str(unverified["cid"]))
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise _invalid() from None


def _invalid() -> Unauthorized:
    return Unauthorized("the visitor token is not valid", code=WidgetError.VISITOR_TOKEN_INVALID)
