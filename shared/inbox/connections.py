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
    connection_id: UUID | None = None,
) -> ConnectionRow | None:
    """A new connection with its secrets sealed; None when (kind, external id) is taken.
    `connection_id`: a fixed id (demo data), else a new one."""
    connection_id = connection_id or uuid4()
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


# Active connections by (kind, external id) and by id, as intake and the consumer look them up
# for every delivery: read from the database at most every CONNECTION_CACHE_SECONDS per key.
# A deactivated connection may take that long to stop accepting webhooks; a rotation is seen
# at once by the process that made it (`forget_connection`).
CONNECTION_CACHE_SECONDS = 30.0
_by_key: dict[tuple[str, str], tuple[float, ConnectionRow | None]] = {}


async def active_connection(kind: str, external_id: str) -> ConnectionRow | None:
    from shared.data import db

    key = (kind, external_id)
    hit = _by_key.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    async with db.connection(read_only=True) as conn:
        rows = await repo_connections.active_by_external_ids(conn, kind, [external_id])
    if len(_by_key) > 10_000:
        _by_key.clear()
    _by_key[key] = (time.monotonic() + CONNECTION_CACHE_SECONDS, rows[0] if rows else None)
    return rows[0] if rows else None


async def active_connection_by_id(connection_id: UUID) -> ConnectionRow | None:
    from shared.data import db

    key = ("id", str(connection_id))
    hit = _by_key.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    async with db.connection(read_only=True) as conn:
        row = await repo_connections.connection(conn, connection_id)
    row = row if row is not None and row.active else None
    _by_key[key] = (time.monotonic() + CONNECTION_CACHE_SECONDS, row)
    return row


def forget_connection(row: ConnectionRow) -> None:
    _by_key.pop((row.kind, row.external_id), None)
    _by_key.pop(("id", str(row.id)), None)


def forget_all() -> None:
    """Tests: every database is new."""
    _by_key.clear()
    _opened.clear()
