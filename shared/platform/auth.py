"""Bearer JWT validation (PyJWT): RS256/ES256 only, keys from a cached JWKS.

The JWKS is fetched with httpx and cached; a token with an unknown `kid` triggers a refetch
at most once per `AUTH_JWKS_MIN_REFRESH_SECONDS` (key rotation works, a flood of forged kids
cannot hammer the identity provider). `alg=none`, HS256 and unsigned tokens never validate:
the allowed algorithms are fixed here, not configurable.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.platform.config import get_settings
from shared.platform.errors import DependencyUnavailable, Forbidden, PlatformError, Unauthorized

if TYPE_CHECKING:  # PyJWT pulls in cryptography: imported on the first authenticated call
    import jwt

ALLOWED_ALGORITHMS = ("RS256", "ES256")
KNOWN_ROLES = frozenset({"customer", "seller", "pharmacist", "admin", "super_admin"})
ADMIN_ROLES = frozenset({"admin", "super_admin"})
# Seller endpoints: a seller for its own seller id, admins for any.
SELLER_ROLES = ADMIN_ROLES | {"seller"}
# A seller's own dashboards: admins read any seller's under /ops instead.
SELLER_ONLY = frozenset({"seller"})
JWKS_FETCH_TIMEOUT_SECONDS = 3.0
# Verified tokens are remembered until they expire: apps send the same token for an hour, and
# RS256 verification is the largest CPU cost of a small authenticated request. Bounded LRU.
VERIFIED_TOKEN_CACHE_SIZE = 5000
# The wall clock the verified-token cache compares `exp` with: a test passes a fake one to see
# a token leave the cache without waiting for it to expire.
token_clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: frozenset[str]
    seller_id: str | None = None
    email: str | None = None
    name: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_any_role(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


class JwksCache:
    def __init__(self, url: str, min_refresh_seconds: float) -> None:
        self.url = url
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            await self._refresh_if_allowed()
        if kid not in self._keys:
            raise Unauthorized("token signed by an unknown key", code=PlatformError.UNKNOWN_SIGNING_KEY)
        return self._keys[kid]

    async def _refresh_if_allowed(self) -> None:
        async with self._lock:  # one fetch at a time; waiters reuse its result
            if time.monotonic() - self._fetched_at < self.min_refresh_seconds:
                return
            self._keys = await self._fetch()
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        import httpx
        import jwt

        try:
            async with httpx.AsyncClient(timeout=JWKS_FETCH_TIMEOUT_SECONDS) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DependencyUnavailable("identity provider (JWKS)", retry_after=10) from error
        keys = {}
        for item in document.get("keys", []):
            if item.get("kid") and item.get("alg", "RS256") in ALLOWED_ALGORITHMS:
                keys[item["kid"]] = jwt.PyJWK(item)
        return keys


_jwks: JwksCache | None = None
_verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()


def reset_caches() -> None:
    """Forget keys and verified tokens (tests change issuers and keys between cases)."""
    global _jwks
    _jwks = None
    _verified.clear()


def _remembered(token: str) -> Principal | None:
    entry = _verified.get(token)
    if entry is None:
        return None
    if entry[0] <= token_clock():  # expired: verify again (and fail) rather than serve it
        del _verified[token]
        return None
    _verified.move_to_end(token)
    return entry[1]


def _remember(token: str, expires_at: float, principal: Principal) -> None:
    _verified[token] = (expires_at, principal)
    if len(_verified) > VERIFIED_TOKEN_CACHE_SIZE:
        _verified.popitem(last=False)


def jwks_cache() -> JwksCache:
    global _jwks
    settings = get_settings()
    if _jwks is None or _jwks.url != settings.auth_jwks_url:
        _jwks = JwksCache(settings.auth_jwks_url, settings.auth_jwks_min_refresh_seconds)
    return _jwks


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a Bearer token is required", code=PlatformError.MISSING_TOKEN)
    return token.strip()


async def authenticate(authorization: str | None) -> Principal:
    import jwt

    token = bearer_token(authorization)
    if (known := _remembered(token)) is not None:
        return known
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("malformed token", code=PlatformError.INVALID_TOKEN) from None
    if header.get("alg") not in ALLOWED_ALGORITHMS or not header.get("kid"):
        raise Unauthorized("token algorithm not accepted", code=PlatformError.INVALID_TOKEN)
    key = await jwks_cache().key_for(header["kid"])
    if key.algorithm_name != header["alg"]:  # an RSA key never verifies an ES256 header
        raise Unauthorized("token algorithm does not match its key", code=PlatformError.INVALID_TOKEN)
    claims = decode(token, key)
    principal = principal_from_claims(claims)
    _remember(token, float(claims["exp"]), principal)
    return principal


def decode(token: str, key: jwt.PyJWK) -> dict[str, Any]:
    import jwt

    settings = get_settings()
    try:
        return jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            leeway=settings.auth_leeway_seconds,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired", code=PlatformError.TOKEN_EXPIRED) from None
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}", code=PlatformError.INVALID_TOKEN) from None


def _is_uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return value is not None


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    raw_roles = claims.get("roles") or []
    roles = frozenset(r for r in raw_roles if r in KNOWN_ROLES) or frozenset({"customer"})
    seller_id = claims.get("seller_id")
    if "seller" in roles and not _is_uuid(seller_id):
        raise Unauthorized(
            "seller tokens must carry a seller_id claim holding a UUID", code=PlatformError.INVALID_TOKEN
        )
    return Principal(
        user_id=str(claims["sub"]),
        roles=roles,
        seller_id=str(seller_id) if seller_id else None,
        email=claims.get("email") or claims.get("preferred_username"),
        name=claims.get("name"),
        claims=claims,
    )


def require_role(principal: Principal, roles: frozenset[str]) -> None:
    if not principal.has_any_role(roles):
        raise Forbidden(f"requires one of the roles: {', '.join(sorted(roles))}")
