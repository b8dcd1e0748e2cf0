"""SQL of monthly partitions (shared.data.partitions). Identifiers go through `psycopg.sql`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import AsyncConnection

DUPLICATE_TABLE = "42P07"
# IF NOT EXISTS makes a second run a no-op; two runs at once may still both pass the check,
# and the loser's error is read as "already there" by the caller.
CREATE_PARTITION = "CREATE TABLE IF NOT EXISTS {partition} PARTITION OF {parent} FOR VALUES FROM ({start}) TO ({end})"


async def create_partition(conn: AsyncConnection, parent: str, partition: str, start: datetime, end: datetime) -> bool:
    """True when this statement made the partition; False when it existed (the server's
    "already exists, skipping" notice)."""
    from psycopg import sql

    statement = sql.SQL(CREATE_PARTITION).format(
        partition=sql.Identifier(partition), parent=sql.Identifier(parent), start=sql.Literal(start),
        end=sql.Literal(end),
    )  # fmt: skip
    notices: list[str | None] = []

    def notice(diagnostic: Any) -> None:
        notices.append(diagnostic.sqlstate)

    conn.add_notice_handler(notice)
    try:
        await conn.execute(statement)
    finally:
        conn.remove_notice_handler(notice)
    return DUPLICATE_TABLE not in notices


LIST_PARTITIONS = """
SELECT c.relname FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass(%(parent)s)
ORDER BY c.relname
"""


async def partitions_of(conn: AsyncConnection, parent: str) -> list[str]:
    async with conn.cursor() as cur:
        await cur.execute(LIST_PARTITIONS, {"parent": parent})
        return [row[0] for row in await cur.fetchall()]


# A month of the outbox is dropped only once every event in it is published (the partial index
# outbox_events_unpublished answers with a probe).
HOLDS_UNPUBLISHED_EVENTS = "SELECT EXISTS (SELECT FROM {partition} WHERE published_at IS NULL)"
# DETACH (not CONCURRENTLY: that cannot run in a transaction) locks the parent exclusively:
# a short wait, else the run gives up on this partition rather than queue every writer behind it.
DETACH_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '5s'"
DETACH_PARTITION = "ALTER TABLE {parent} DETACH PARTITION {partition}"
DROP_DETACHED = "DROP TABLE {partition}"


async def detach_and_drop(conn: AsyncConnection, parent: str, partition: str, refuse_if: str | None) -> bool:
    """In the caller's transaction: detaches, then drops unless `refuse_if` holds for the
    detached table. True when refused: the caller rolls back, and the partition is attached again."""
    from psycopg import sql

    names = {"parent": sql.Identifier(parent), "partition": sql.Identifier(partition)}
    await conn.execute(DETACH_LOCK_TIMEOUT)
    await conn.execute(sql.SQL(DETACH_PARTITION).format(**names))
    if refuse_if is not None:
        row = await (await conn.execute(sql.SQL(refuse_if).format(**names))).fetchone()
        if row and row[0]:
            return True
    await conn.execute(sql.SQL(DROP_DETACHED).format(**names))
    return False
