"""SQL for channel connections. Secrets are stored sealed (shared.inbox.secrets); nothing here
decrypts them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.inbox.models import ConnectionRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection

COLUMNS = """id, kind, external_id, display_name, seller_id, active, secrets, secrets_key_id, secrets_updated_at,
       version, created_at, updated_at"""

INSERT_CONNECTION = f"""
INSERT INTO channel_connections (id, kind, external_id, display_name, seller_id, secrets, secrets_key_id)
VALUES (%(id)s, %(kind)s, %(external_id)s, %(display_name)s, %(seller_id)s, %(secrets)s, %(key_id)s)
ON CONFLICT ON CONSTRAINT channel_connections_one_per_external_id DO NOTHING
RETURNING {COLUMNS}
"""


async def insert_connection(
    conn: AsyncConnection,
    connection_id: UUID,
    *,
    kind: str,
    external_id: str,
    display_name: str,
    seller_id: UUID | None,
    sealed: tuple[str, bytes],
) -> ConnectionRow | None:
    """The new connection, or None when (kind, external id) is taken already."""
    params = {
        "id": connection_id,
        "kind": kind,
        "external_id": external_id,
        "display_name": display_name,
        "seller_id": seller_id,
        "key_id": sealed[0],
        "secrets": sealed[1],
    }
    return await db.fetch_one(conn, INSERT_CONNECTION, params, ConnectionRow)


SELECT_CONNECTION = f"SELECT {COLUMNS} FROM channel_connections WHERE id = %(id)s"


async def connection(conn: AsyncConnection, connection_id: UUID) -> ConnectionRow | None:
    return await db.fetch_one(conn, SELECT_CONNECTION, {"id": connection_id}, ConnectionRow)


SELECT_BY_EXTERNAL_IDS = f"""
SELECT {COLUMNS} FROM channel_connections
WHERE kind = %(kind)s AND external_id = ANY(%(external_ids)s) AND active
"""


async def active_by_external_ids(conn: AsyncConnection, kind: str, external_ids: list[str]) -> list[ConnectionRow]:
    """Active connections of `kind` with these external ids (page ids, IG ids, widget tokens)."""
    params = {"kind": kind, "external_ids": external_ids}
    return await db.fetch_all(conn, SELECT_BY_EXTERNAL_IDS, params, ConnectionRow)


SELECT_ACTIVE_OF_KINDS = f"SELECT {COLUMNS} FROM channel_connections WHERE kind = ANY(%(kinds)s) AND active"


async def active_of_kinds(conn: AsyncConnection, kinds: list[str]) -> list[ConnectionRow]:
    """Every active connection of these kinds (Meta's verification names no page)."""
    return await db.fetch_all(conn, SELECT_ACTIVE_OF_KINDS, {"kinds": kinds}, ConnectionRow)


# Sellers see their own (seller_id), admins every one (seller_id NULL in the query: no filter).
LIST_CONNECTIONS = f"""
SELECT {COLUMNS} FROM channel_connections
WHERE (%(seller_id)s::uuid IS NULL OR seller_id = %(seller_id)s::uuid)
  AND (created_at, id) > (%(after_created)s, %(after_id)s)
ORDER BY created_at, id
LIMIT %(limit)s
"""


async def list_connections(
    conn: AsyncConnection, seller_id: UUID | None, after: tuple[datetime, UUID], limit: int
) -> list[ConnectionRow]:
    params = {"seller_id": seller_id, "after_created": after[0], "after_id": after[1], "limit": limit}
    return await db.fetch_all(conn, LIST_CONNECTIONS, params, ConnectionRow)


UPDATE_SECRETS = f"""
UPDATE channel_connections
SET secrets = %(secrets)s, secrets_key_id = %(key_id)s, secrets_updated_at = now(), version = version + 1,
    updated_at = now()
WHERE id = %(id)s AND version = %(version)s
RETURNING {COLUMNS}
"""


async def update_secrets(
    conn: AsyncConnection, connection_id: UUID, version: int, sealed: tuple[str, bytes]
) -> ConnectionRow | None:
    """The re-sealed row, or None when the version no longer matched."""
    params = {"id": connection_id, "version": version, "key_id": sealed[0], "secrets": sealed[1]}
    return await db.fetch_one(conn, UPDATE_SECRETS, params, ConnectionRow)


UPDATE_ACTIVE = f"""
UPDATE channel_connections SET active = %(active)s, version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s
RETURNING {COLUMNS}
"""


async def set_active(conn: AsyncConnection, connection_id: UUID, version: int, active: bool) -> ConnectionRow | None:
    params = {"id": connection_id, "version": version, "active": active}
    return await db.fetch_one(conn, UPDATE_ACTIVE, params, ConnectionRow)


# A key rotation's batch: rows sealed under another key than the current one.
SELECT_SEALED_UNDER_OTHER_KEYS = f"""
SELECT {COLUMNS} FROM channel_connections WHERE secrets_key_id <> %(key_id)s
ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""


async def sealed_under_other_keys(conn: AsyncConnection, key_id: str, limit: int) -> list[ConnectionRow]:
    return await db.fetch_all(conn, SELECT_SEALED_UNDER_OTHER_KEYS, {"key_id": key_id, "limit": limit}, ConnectionRow)


# Demo data (scripts/demo_data.py): the seller the demo's seller-owned connections belong to.
SELECT_FIRST_ACTIVE_SELLER = "SELECT id FROM sellers WHERE status = 'ACTIVE' ORDER BY slug LIMIT 1"


async def first_active_seller(conn: AsyncConnection) -> UUID | None:
    return await db.fetch_value(conn, SELECT_FIRST_ACTIVE_SELLER, None)
