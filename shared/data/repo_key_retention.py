"""SQL of dedupe-key retention (shared.data.key_retention). Identifiers go through `psycopg.sql`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# One batch: the oldest keys before the cutoff, found through the time index (migration 0017),
# deleted by primary key. A row another run deleted first is skipped, so overlapping runs
# delete each key once.
DELETE_EXPIRED_BATCH = """
DELETE FROM {table} WHERE ({key}) IN (
    SELECT {key} FROM {table} WHERE {stamp} < %(cutoff)s ORDER BY {stamp} LIMIT %(batch)s
)"""


async def delete_expired_batch(
    conn: AsyncConnection, table: str, key: tuple[str, ...], stamp: str, cutoff: datetime, batch: int
) -> int:
    """Deletes up to `batch` keys stamped before `cutoff`; the number deleted."""
    from psycopg import sql

    statement = sql.SQL(DELETE_EXPIRED_BATCH).format(
        table=sql.Identifier(table), key=sql.SQL(", ").join(map(sql.Identifier, key)), stamp=sql.Identifier(stamp)
    )
    cursor = await conn.execute(statement, {"cutoff": cutoff, "batch": batch})
    return cursor.rowcount
