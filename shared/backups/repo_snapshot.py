"""SQL of the backup side: one snapshot shared by several connections, the catalog of what to
copy, each table's COPY and its order-free fingerprint. Also read by the restore, which checks
the restored tables with the same catalog queries and the same fingerprint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from psycopg import sql
from psycopg.rows import class_row

from shared.backups.models import CountedTable, SequenceRow, TableRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection, Connection

# Text that reads back the same on any server and session: the COPY text and row::text (the
# fingerprint) depend on these, so every backup and restore transaction sets them.
STABLE_TEXT_SETTINGS = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, MDY'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
    "SET LOCAL statement_timeout = 0",
)

TRY_BACKUP_LOCK = "SELECT pg_try_advisory_xact_lock(%(key)s)"
EXPORT_SNAPSHOT = "SELECT pg_export_snapshot()"
IMPORT_SNAPSHOT = "SET TRANSACTION SNAPSHOT {}"


async def set_stable_text(conn: AsyncConnection) -> None:
    """Inside a transaction: these settings end with it."""
    for statement in STABLE_TEXT_SETTINGS:
        await conn.execute(statement)


@asynccontextmanager
async def snapshot_transaction(conn: AsyncConnection, snapshot: str | None = None) -> AsyncIterator[None]:
    """REPEATABLE READ READ ONLY: every statement sees the same snapshot; with `snapshot`, the
    one another connection exported (its transaction must still be open)."""
    from psycopg import IsolationLevel

    await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
    await conn.set_read_only(True)
    async with conn.transaction():
        if snapshot:
            await conn.execute(sql.SQL(IMPORT_SNAPSHOT).format(sql.Literal(snapshot)))
        await set_stable_text(conn)
        yield


@contextmanager
def snapshot_transaction_sync(conn: Connection, snapshot: str) -> Iterator[None]:
    from psycopg import IsolationLevel

    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    with conn.transaction():
        conn.execute(sql.SQL(IMPORT_SNAPSHOT).format(sql.Literal(snapshot)))
        for statement in STABLE_TEXT_SETTINGS:
            conn.execute(statement)
        yield


async def try_backup_lock(conn: AsyncConnection, key: int) -> bool:
    """Held until the snapshot transaction ends, however it ends (a killed run releases it)."""
    row = await (await conn.execute(TRY_BACKUP_LOCK, {"key": key})).fetchone()
    return bool(row and row[0])


async def export_snapshot(conn: AsyncConnection) -> str:
    row = await (await conn.execute(EXPORT_SNAPSHOT)).fetchone()
    assert row is not None
    return str(row[0])


# Ordinary and partitioned tables of the public schema (a partition is copied through its
# parent), with the columns COPY reads and writes: generated columns are recomputed on load.
SELECT_TABLES = """
SELECT c.relname::text AS name, c.relkind = 'p' AS partitioned,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
GROUP BY c.relname, c.relkind
ORDER BY c.relname
"""


async def tables(conn: AsyncConnection) -> list[TableRow]:
    async with conn.cursor(row_factory=class_row(TableRow)) as cur:
        await cur.execute(SELECT_TABLES)
        return await cur.fetchall()


# Each partitioned table's partitions, read in the snapshot: the manifest lists them so a
# restore can create the months the rows need.
SELECT_PARTITIONS = """
SELECT parent.relname::text, part.relname::text
FROM pg_inherits i
JOIN pg_class part ON part.oid = i.inhrelid AND part.relkind = 'r'
JOIN pg_class parent ON parent.oid = i.inhparent AND parent.relkind = 'p'
JOIN pg_namespace n ON n.oid = parent.relnamespace
WHERE n.nspname = 'public'
ORDER BY 1, 2
"""


async def partitions(conn: AsyncConnection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for parent, partition in await (await conn.execute(SELECT_PARTITIONS)).fetchall():
        found.setdefault(parent, []).append(partition)
    return found


SELECT_APPLIED_MIGRATIONS = "SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc, migration_id"


async def applied_migrations(conn: AsyncConnection) -> list[str]:
    return [row[0] for row in await (await conn.execute(SELECT_APPLIED_MIGRATIONS)).fetchall()]


# Sequences (identity ones included): never transactional, so this reads their current value,
# which is at least the snapshot's. A sequence never used has no last_value yet.
SELECT_SEQUENCES = """
SELECT sequencename::text AS name, coalesce(last_value, start_value) AS last_value,
       last_value IS NOT NULL AS is_called
FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename
"""


async def sequences(conn: AsyncConnection) -> list[SequenceRow]:
    async with conn.cursor(row_factory=class_row(SequenceRow)) as cur:
        await cur.execute(SELECT_SEQUENCES)
        return await cur.fetchall()


# Order-free: a sum over rows of the first 64 bits of md5(row::text), computed by the server in
# the backup's snapshot (and on the restored table). md5 and row text are the same on every
# PostgreSQL version, unlike the internal hash functions. (The alias is a name no column has:
# `t::text` would read a column called t instead of the row.)
FINGERPRINT = """
SELECT count(*) AS rows,
       coalesce(sum(('x' || left(md5(backed_up_row::text), 16))::bit(64)::bigint), 0)::text AS fingerprint
FROM {table} AS backed_up_row
"""


async def fingerprint(conn: AsyncConnection, table: str) -> CountedTable:
    query = sql.SQL(FINGERPRINT).format(table=sql.Identifier(table))
    async with conn.cursor(row_factory=class_row(CountedTable)) as cur:
        await cur.execute(query)
        row = await cur.fetchone()
    assert row is not None
    return row


COPY_TABLE_OUT = "COPY {table} ({columns}) TO STDOUT"
COPY_PARTITIONED_OUT = "COPY (SELECT {columns} FROM {table}) TO STDOUT"  # COPY reads no partitioned table


def copy_out(conn: Connection, table: TableRow) -> Iterator[Any]:
    """The table's rows in COPY text format, one buffer per row (as libpq hands them over)."""
    template = COPY_PARTITIONED_OUT if table.partitioned else COPY_TABLE_OUT
    query = sql.SQL(template).format(table=sql.Identifier(table.name), columns=column_list(table.columns))
    with conn.cursor() as cur, cur.copy(query) as copy:
        yield from copy


def column_list(columns: list[str]) -> Any:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)
