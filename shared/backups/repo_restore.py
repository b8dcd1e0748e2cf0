"""SQL of the restore side: is the target empty, which foreign keys and secondary indexes to set
aside while loading (rebuilt once at the end, as pg_restore does), loading a table, and putting
the sequences back. The scratch databases of verification are created and dropped here too."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from psycopg import sql
from psycopg.rows import class_row

from shared.backups.models import ConstraintRow, ForeignKeyRow, IndexRow, SequenceEntry
from shared.backups.repo_snapshot import column_list

if TYPE_CHECKING:
    from psycopg import AsyncConnection, AsyncCopy

AsyncCopyContext = AbstractAsyncContextManager["AsyncCopy"]

COUNT_TABLES = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""


async def table_count(conn: AsyncConnection) -> int:
    row = await (await conn.execute(COUNT_TABLES)).fetchone()
    return int(row[0]) if row else 0


# Top-level keys only (a partition's copy of its parent's key goes with the parent's).
SELECT_FOREIGN_KEYS = """
SELECT t.relname::text AS table_name, r.relname::text AS referenced, c.conname::text AS constraint_name,
       pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_class r ON r.oid = c.confrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f' AND n.nspname = 'public' AND c.conparentid = 0
ORDER BY t.relname, c.conname
"""


async def foreign_keys(conn: AsyncConnection) -> list[ForeignKeyRow]:
    async with conn.cursor(row_factory=class_row(ForeignKeyRow)) as cur:
        await cur.execute(SELECT_FOREIGN_KEYS)
        return await cur.fetchall()


# Primary keys, unique and exclusion constraints (top-level): their indexes are built once after
# the load, as pg_restore does, instead of taking every row as a random B-tree insertion.
SELECT_KEY_CONSTRAINTS = """
SELECT t.relname::text AS table_name, c.conname::text AS constraint_name, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype IN ('p', 'u', 'x') AND n.nspname = 'public' AND c.conparentid = 0
ORDER BY t.relname, c.conname
"""


async def key_constraints(conn: AsyncConnection) -> list[ConstraintRow]:
    async with conn.cursor(row_factory=class_row(ConstraintRow)) as cur:
        await cur.execute(SELECT_KEY_CONSTRAINTS)
        return await cur.fetchall()


# Indexes no constraint owns (primary keys, unique and exclusion constraints stay: keys refer to them).
SELECT_SECONDARY_INDEXES = """
SELECT t.relname::text AS table_name, i.relname::text AS index_name, pg_get_indexdef(i.oid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND NOT i.relispartition AND t.relkind IN ('r', 'p') AND NOT t.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY t.relname, i.relname
"""


async def secondary_indexes(conn: AsyncConnection) -> list[IndexRow]:
    async with conn.cursor(row_factory=class_row(IndexRow)) as cur:
        await cur.execute(SELECT_SECONDARY_INDEXES)
        return await cur.fetchall()


DROP_CONSTRAINT = "ALTER TABLE {table} DROP CONSTRAINT {name}"
ADD_CONSTRAINT = "ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
DROP_INDEX = "DROP INDEX {name}"


async def drop_constraint(conn: AsyncConnection, constraint: ConstraintRow | ForeignKeyRow) -> None:
    name = sql.Identifier(constraint.constraint_name)
    await conn.execute(sql.SQL(DROP_CONSTRAINT).format(table=sql.Identifier(constraint.table_name), name=name))


async def add_constraint(conn: AsyncConnection, constraint: ConstraintRow | ForeignKeyRow) -> None:
    """A key's index built once, a foreign key validated by one scan, instead of work per loaded
    row. The definition is the server's own text (pg_get_constraintdef), read a moment earlier."""
    statement = sql.SQL(ADD_CONSTRAINT).format(
        table=sql.Identifier(constraint.table_name),
        name=sql.Identifier(constraint.constraint_name),
        definition=sql.SQL(constraint.definition),
    )
    await conn.execute(statement)


async def drop_index(conn: AsyncConnection, index: IndexRow) -> None:
    await conn.execute(sql.SQL(DROP_INDEX).format(name=sql.Identifier(index.index_name)))


async def create_index(conn: AsyncConnection, index: IndexRow) -> None:
    await conn.execute(sql.SQL(index.definition))  # pg_get_indexdef's CREATE INDEX, as read


# Owner-only, no superuser: the table's own triggers (search documents, audit guards, prices)
# must not rewrite rows that are being put back as they were. Foreign-key triggers are not USER ones.
SET_USER_TRIGGERS = "ALTER TABLE {table} {action} TRIGGER USER"
TRUNCATE_TABLES = "TRUNCATE {tables}"


async def set_user_triggers(conn: AsyncConnection, table: str, *, enabled: bool) -> None:
    action = sql.SQL("ENABLE" if enabled else "DISABLE")
    await conn.execute(sql.SQL(SET_USER_TRIGGERS).format(table=sql.Identifier(table), action=action))


async def truncate(conn: AsyncConnection, tables: list[str]) -> None:
    """Rows the migrations wrote themselves go: the backup has its own."""
    names = sql.SQL(", ").join(sql.Identifier(t) for t in tables)
    await conn.execute(sql.SQL(TRUNCATE_TABLES).format(tables=names))


COPY_TABLE_IN = "COPY {table} ({columns}) FROM STDIN"
# The table was truncated in this transaction: its rows can be written frozen and all-visible,
# so nothing (index builds, the fingerprints, the first VACUUM) rewrites them afterwards.
# PostgreSQL refuses FREEZE on a partitioned table.
COPY_TABLE_IN_FROZEN = "COPY {table} ({columns}) FROM STDIN WITH (FREEZE)"


def copy_in(conn: AsyncConnection, table: str, columns: list[str], *, freeze: bool) -> AsyncCopyContext:
    """`async with copy_in(...) as copy: await copy.write(chunk)`; chunks need not end on rows."""
    template = COPY_TABLE_IN_FROZEN if freeze else COPY_TABLE_IN
    query = sql.SQL(template).format(table=sql.Identifier(table), columns=column_list(columns))
    return conn.cursor().copy(query)


# Index builds sort in memory up to this (the server default, 64MB, spills a 1 GB database's
# indexes to disk); one backend, for the restore's transaction only.
SET_RESTORE_MEMORY = "SET LOCAL maintenance_work_mem = '256MB'"


async def set_restore_memory(conn: AsyncConnection) -> None:
    await conn.execute(SET_RESTORE_MEMORY)


SET_SEQUENCE = "SELECT setval(quote_ident(%(name)s)::regclass, %(last_value)s, %(is_called)s)"


async def set_sequence(conn: AsyncConnection, sequence: SequenceEntry) -> None:
    await conn.execute(SET_SEQUENCE, sequence.model_dump(include={"name", "last_value", "is_called"}))


CREATE_DATABASE = "CREATE DATABASE {name}"
DROP_DATABASE = "DROP DATABASE IF EXISTS {name} WITH (FORCE)"


async def create_database(conn: AsyncConnection, name: str) -> None:
    """On a connection to the maintenance database, in autocommit (CREATE DATABASE needs it)."""
    await conn.execute(sql.SQL(CREATE_DATABASE).format(name=sql.Identifier(name)))


async def drop_database(conn: AsyncConnection, name: str) -> None:
    await conn.execute(sql.SQL(DROP_DATABASE).format(name=sql.Identifier(name)))
