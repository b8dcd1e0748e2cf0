"""The database reports operators read (GET /api/ops/reports/…): the slowest statements from
pg_stat_statements, unused indexes and sequentially scanned tables, table health, and
connections against the server's limit and the pool budget. Every report reads the primary:
the statistics of a replica are the replica's own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.data import db
from shared.ops import repo_reports as repo
from shared.ops import rules_reports as rules
from shared.ops.models_reports import (
    ConnectionsReport,
    IndexUsageQuery,
    IndexUsageReport,
    SlowQueriesQuery,
    SlowQueriesReport,
    TablesQuery,
    TablesReport,
)
from shared.platform import logs
from shared.platform.config import get_settings

log = logs.get_logger("database")  # souq.database: the daily health check's lines
HEALTH_CHECK_ROWS = 200  # indexes and tables the daily check looks at (largest first)


async def slow_queries(query: SlowQueriesQuery) -> SlowQueriesReport:
    """The statements that took the most time (order=total) or the longest each (order=mean);
    a 409 saying how to enable pg_stat_statements when the server or database lacks it."""
    async with db.connection() as conn:
        missing = rules.statements_not_enabled(await repo.statements_extension(conn))
        if missing is not None:
            raise missing
        statements = await repo.slow_queries(conn, order=query.order, limit=query.limit)
    return SlowQueriesReport(generated_at=datetime.now(UTC), order=query.order, statements=rules.scrubbed(statements))


async def index_usage(query: IndexUsageQuery) -> IndexUsageReport:
    async with db.connection() as conn:
        unused = await repo.unused_indexes(conn, limit=query.limit)
        scanned = await repo.seq_scanned_tables(conn, min_rows=query.min_rows, limit=query.limit)
        since = await repo.stats_reset(conn)
    return IndexUsageReport(
        generated_at=datetime.now(UTC),
        stats_reset=since,
        min_rows=query.min_rows,
        unused_indexes=unused,
        unused_index_bytes=sum(i.size_bytes for i in unused),
        seq_scanned_tables=scanned,
    )


async def tables(query: TablesQuery) -> TablesReport:
    async with db.connection() as conn:
        rows = await repo.table_health(conn, limit=query.limit)
    return TablesReport(generated_at=datetime.now(UTC), tables=rows)


async def connections() -> ConnectionsReport:
    async with db.connection() as conn:
        groups = await repo.connection_groups(conn)
        limits = await repo.connection_limits(conn)
    # The primary's pool: a read replica has connections of its own.
    pool_max = get_settings().database_pool_max
    return rules.connections_report(groups, limits, pool_max=pool_max, generated_at=datetime.now(UTC))


async def log_database_health() -> dict[str, Any]:
    """The daily check: the reports summed up in one INFO line, one WARNING per finding over the
    OPS_* thresholds (unused index size, dead-row ratio, connections near the limit)."""
    settings = get_settings()
    indexes = await index_usage(IndexUsageQuery(min_rows=0, limit=HEALTH_CHECK_ROWS))
    table_report = await tables(TablesQuery(limit=HEALTH_CHECK_ROWS))
    connection_report = await connections()
    limits = rules.HealthThresholds(
        unused_index_bytes=settings.ops_unused_index_warn_bytes,
        dead_ratio=settings.ops_dead_ratio_warn,
        connections_ratio=settings.ops_connections_warn_ratio,
    )
    warnings = rules.health_warnings(indexes, table_report, connection_report, limits)
    for warning in warnings:
        log.warning("database health: %s", warning)
    summary = rules.health_summary(indexes, table_report, connection_report) | {"warnings": len(warnings)}
    log.info("database health: %s", summary)
    return summary
