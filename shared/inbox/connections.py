"""Channel connections: created with their secrets (sealed before they reach the database),
secrets rotated, listed without secrets; and the opened secrets the channels need, cached in
the process for a short time (webhook intake verifies every delivery against them)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from shared.inbox import repo_connections, secrets
from shared.inbox.models import ConnectionRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Opened secrets per (connection id, secrets version): a rotation changes the version, so a
# stale entry is never used after the rotating process re-reads the row.
OPENED_SECRETS_TTL_SECONDS = 30.0
_opened: dict[tuple[UUID, int], tuple[float, dict[str, str]]] = {}


def opened_secrets(connection: ConnectionRow) -> dict[str, str]:
    """The connection's secrets in clear text (never returned by the API, never logged)."""
    key = (connection.id, connection.version)
    hit = _opened.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    opened = secrets.open_sealed(connection.id, secrets.Sealed(connection.secrets_key_id, connection.secrets))
    if len(_opened) > 10_000:
        _opened.clear()
    _opened[key] = (time.monotonic() + OPENED_SECRETS_TTL_SECONDS, opened)
    return opened


async def create_connection_in(
    conn: AsyncConnection,
    *,
    kind: str,
    external_id: str,
    display_name: str,
    seller_id: UUID | None,
    channel_secrets: dict[str, str],
) -> ConnectionRow | None:
    """A new connection with its secrets sealed; None when (kind, external id) is taken."""
    connection_id = uuid4()
    sealed = secrets.seal(connection_id, channel_secrets)
    return await repo_connections.insert_connection(
        conn,
        connection_id,
        kind=kind,
        external_id=external_id,
        display_name=display_name,
        seller_id=seller_id,
        sealed=(sealed.key_id, sealed.blob),
    )
