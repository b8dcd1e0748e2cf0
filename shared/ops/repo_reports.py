"""SQL of the database reports, over PostgreSQL's statistics views; each constant sits next to
the one function that runs it. The views count since the last statistics reset (or the
server's start for pg_stat_statements); the reports say so rather than guess rates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.data import db
from shared.ops.models_reports import (
    ConnectionGroup,
    ConnectionLimits,
    SeqScannedTable,
    SlowQuery,
    SlowQueryOrder,
    StatementsExtension,
    TableHealth,
    UnusedIndex,
)

if TYPE_CHECKING:
    from datetime import datetime

    from psycopg import AsyncConnection


SELECT_STATEMENTS_EXTENSION = """
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed,
       'pg_stat_statements' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))
           AS preloaded
"""


async def statements_extension(conn: AsyncConnection) -> StatementsExtension:
    found = await db.fetch_one(conn, SELECT_STATEMENTS_EXTENSION, None, StatementsExtension)
    assert found is not None
    return found


# Only this database's statements; `query` is the normalized text pg_stat_statements keeps
# (constants replaced by $n), the rules scrub what a utility statement may still carry.
SLOW_QUERIES_COLUMNS = """
SELECT s.query, s.calls, s.mean_exec_time AS mean_ms, s.max_exec_time AS max_ms, s.total_exec_time AS total_ms,
       s.rows, s.shared_blks_hit, s.shared_blks_read
FROM pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.calls > 0
"""
SLOW_QUERIES_BY_MEAN = SLOW_QUERIES_COLUMNS + "ORDER BY s.mean_exec_time DESC LIMIT %(limit)s"
SLOW_QUERIES_BY_TOTAL = SLOW_QUERIES_COLUMNS + "ORDER BY s.total_exec_time DESC LIMIT %(limit)s"
SLOW_QUERIES_BY: dict[SlowQueryOrder, str] = {"mean": SLOW_QUERIES_BY_MEAN, "total": SLOW_QUERIES_BY_TOTAL}


async def slow_queries(conn: AsyncConnection, *, order: SlowQueryOrder, limit: int) -> list[SlowQuery]:
    return await db.fetch_all(conn, SLOW_QUERIES_BY[order], {"limit": limit}, SlowQuery)


# Indexes that back a constraint (primary key, unique, exclusion) are needed whether or not a
# query ever scans them, so they are never "unused".
UNUSED_INDEXES = """
SELECT s.schemaname AS schema_name, s.relname AS table_name, s.indexrelname AS index_name,
       pg_relation_size(s.indexrelid) AS size_bytes, pg_get_indexdef(s.indexrelid) AS definition
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0
  AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
LIMIT %(limit)s
"""


async def unused_indexes(conn: AsyncConnection, *, limit: int) -> list[UnusedIndex]:
    return await db.fetch_all(conn, UNUSED_INDEXES, {"limit": limit}, UnusedIndex)


SEQ_SCANNED_TABLES = """
SELECT schemaname AS schema_name, relname AS table_name, n_live_tup AS live_rows, seq_scan AS seq_scans,
       seq_tup_read AS seq_rows_read, coalesce(idx_scan, 0) AS index_scans
FROM pg_stat_user_tables
WHERE seq_scan > 0 AND n_live_tup >= %(min_rows)s
ORDER BY seq_tup_read DESC, relname
LIMIT %(limit)s
"""


async def seq_scanned_tables(conn: AsyncConnection, *, min_rows: int, limit: int) -> list[SeqScannedTable]:
    return await db.fetch_all(conn, SEQ_SCANNED_TABLES, {"min_rows": min_rows, "limit": limit}, SeqScannedTable)


SELECT_STATS_RESET = "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"


async def stats_reset(conn: AsyncConnection) -> datetime | None:
    since: datetime | None = await db.fetch_value(conn, SELECT_STATS_RESET, None)
    return since


TABLE_HEALTH = """
SELECT schemaname AS schema_name, relname AS table_name,
       pg_total_relation_size(relid) AS total_bytes, pg_relation_size(relid) AS table_bytes,
       n_live_tup AS live_rows, n_dead_tup AS dead_rows,
       CASE WHEN n_live_tup + n_dead_tup = 0 THEN 0
            ELSE n_dead_tup::float8 / (n_live_tup + n_dead_tup) END AS dead_ratio,
       last_autovacuum, last_autoanalyze, last_vacuum, last_analyze
FROM pg_stat_user_tables
ORDER BY pg_total_relation_size(relid) DESC, relname
LIMIT %(limit)s
"""


async def table_health(conn: AsyncConnection, *, limit: int) -> list[TableHealth]:
    return await db.fetch_all(conn, TABLE_HEALTH, {"limit": limit}, TableHealth)


# Client backends of the whole server: every database and application shares max_connections.
CONNECTION_GROUPS = """
SELECT coalesce(state, 'unknown') AS state, coalesce(nullif(application_name, ''), '(none)') AS application_name,
       count(*) AS connections
FROM pg_stat_activity
WHERE backend_type = 'client backend'
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
"""


async def connection_groups(conn: AsyncConnection) -> list[ConnectionGroup]:
    return await db.fetch_all(conn, CONNECTION_GROUPS, None, ConnectionGroup)


# reserved_connections exists from PostgreSQL 16 on; missing_ok reads it as NULL before.
CONNECTION_LIMITS = """
SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int
           + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0) AS reserved_connections
"""


async def connection_limits(conn: AsyncConnection) -> ConnectionLimits:
    found = await db.fetch_one(conn, CONNECTION_LIMITS, None, ConnectionLimits)
    assert found is not None
    return found
