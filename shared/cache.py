"""Redis client (a cache only: losing it loses nothing, see ARCHITECTURE "Data rules").

One `redis.asyncio` client per process, created lazily in the running loop. Keys carry the
`REDIS_KEY_PREFIX` (tests use a unique prefix each). With REDIS_AUTH=entra the client
authenticates with the app's managed identity through redis-entraid's credential provider
(tokens refreshed in the background); otherwise the URL's password, if any, is used.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from shared.config import get_settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.settings_model import Settings

REDIS_ENTRA_RESOURCE = "https://redis.azure.com"

_client: "Redis | None" = None
_client_loop: asyncio.AbstractEventLoop | None = None


def key(*parts: str) -> str:
    return get_settings().redis_key_prefix + ":".join(parts)


def _credential_provider(settings: Settings):
    from redis_entraid.cred_provider import create_from_managed_identity
    from redis_entraid.identity_provider import ManagedIdentityIdType, ManagedIdentityType

    if settings.azure_client_id:
        return create_from_managed_identity(
            identity_type=ManagedIdentityType.USER_ASSIGNED,
            resource=REDIS_ENTRA_RESOURCE,
            id_type=ManagedIdentityIdType.CLIENT_ID,
            id_value=settings.azure_client_id,
        )
    return create_from_managed_identity(
        identity_type=ManagedIdentityType.SYSTEM_ASSIGNED, resource=REDIS_ENTRA_RESOURCE
    )


def redis_client() -> "Redis":
    global _client, _client_loop
    loop = asyncio.get_running_loop()
    if _client is None or _client_loop is not loop:
        from redis.asyncio import Redis

        settings = get_settings()
        extra = {}
        if settings.redis_auth == "entra":
            extra["credential_provider"] = _credential_provider(settings)
        _client = Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_timeout_ms / 1000,
            socket_connect_timeout=settings.redis_connect_timeout_ms / 1000,
            health_check_interval=30,
            **extra,
        )
        _client_loop = loop
    return _client


async def ping() -> bool:
    return bool(await redis_client().ping())


async def close_cache() -> None:
    global _client, _client_loop
    client, _client, _client_loop = _client, None, None
    if client is not None:
        await client.aclose()
