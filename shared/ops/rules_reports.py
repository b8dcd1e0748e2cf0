"""The database reports without I/O: when the slow-query report cannot answer and what the
operator does about it, what a statement's text may show, and the connection budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.ops.errors import OpsError
from shared.ops.models_reports import (
    ConnectionGroup,
    ConnectionLimits,
    ConnectionsReport,
    IndexUsageReport,
    SlowQuery,
    StatementsExtension,
    TablesReport,
)
from shared.platform.errors import Conflict

HOW_TO_PRELOAD = (
    "load it at server start: shared_preload_libraries = 'pg_stat_statements' and "
    "pg_stat_statements.track = top (Azure: server parameters, set by infra/modules/postgres.bicep; "
    "make run's private cluster starts with both), then restart the server"
)
HOW_TO_INSTALL = (
    "create it in this database: CREATE EXTENSION pg_stat_statements (migration 0012 does where the server "
    "allows it; on Azure the extension must be allow-listed in azure.extensions)"
)


def statements_not_enabled(extension: StatementsExtension) -> Conflict | None:
    """The 409 telling an operator what is missing for the slow-query report, or None."""
    steps = ([] if extension.preloaded else [HOW_TO_PRELOAD]) + ([] if extension.installed else [HOW_TO_INSTALL])
    if not steps:
        return None
    return Conflict(
        "pg_stat_statements is not enabled: " + "; ".join(steps),
        code=OpsError.PG_STAT_STATEMENTS_NOT_ENABLED,
        extra={"installed": extension.installed, "preloaded": extension.preloaded},
    )


# pg_stat_statements replaces the constants of planned statements by $n. Utility statements
# (SET, ALTER ROLE … PASSWORD, CREATE …) keep their text before PostgreSQL 16, so literals
# that are left are masked: the report shows statement shapes, never values.
QUOTED_LITERAL = re.compile(r"(?:\b[EeBbXxUu]&?)?'(?:[^']|'')*'")
DOLLAR_QUOTED = re.compile(r"\$([A-Za-z_]\w*)?\$.*?\$\1\$", re.DOTALL)
NUMBER = re.compile(r"(?<![\w$.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b")
MASK = "?"
QUERY_TEXT_MAX_LENGTH = 2000


def scrub_statement(text: str) -> str:
    """A statement's text with every literal left in it masked, bounded in length."""
    for pattern in (DOLLAR_QUOTED, QUOTED_LITERAL, NUMBER):
        text = pattern.sub(MASK, text)
    return text[:QUERY_TEXT_MAX_LENGTH]


def scrubbed(statements: Sequence[SlowQuery]) -> list[SlowQuery]:
    return [s.model_copy(update={"query": scrub_statement(s.query)}) for s in statements]


def connections_report(
    groups: Sequence[ConnectionGroup], limits: ConnectionLimits, *, pool_max: int, generated_at: datetime
) -> ConnectionsReport:
    """Connections in use against what the server leaves to clients, and how many instances at
    their pool ceiling (`pool_max` each) fit in it."""
    usable = max(limits.max_connections - limits.reserved_connections, 0)
    in_use = sum(g.connections for g in groups)
    return ConnectionsReport(
        generated_at=generated_at,
        max_connections=limits.max_connections,
        reserved_connections=limits.reserved_connections,
        in_use=in_use,
        usage_ratio=round(in_use / usable, 4) if usable else 1.0,
        pool_max_per_instance=pool_max,
        instances_that_fit=usable // pool_max if pool_max else 0,
        groups=list(groups),
    )


# -- the daily health check (timer report_database_health)

MIN_ROWS_FOR_DEAD_RATIO = 1000  # a tiny table's ratio swings with every update: not worth a warning


@dataclass(frozen=True)
class HealthThresholds:
    unused_index_bytes: int
    dead_ratio: float
    connections_ratio: float


def health_warnings(
    indexes: IndexUsageReport, tables: TablesReport, connections: ConnectionsReport, limits: HealthThresholds
) -> list[str]:
    """One line per thing an operator should look at, by the thresholds from settings."""
    warnings = [
        f"unused index {i.schema_name}.{i.index_name} on {i.table_name}: {i.size_bytes} bytes, never scanned"
        for i in indexes.unused_indexes
        if i.size_bytes >= limits.unused_index_bytes
    ]
    warnings += [
        f"table {t.schema_name}.{t.table_name}: {t.dead_ratio:.0%} dead rows ({t.dead_rows} of "
        f"{t.live_rows + t.dead_rows}), last autovacuum {t.last_autovacuum or 'never'}"
        for t in tables.tables
        if t.live_rows + t.dead_rows >= MIN_ROWS_FOR_DEAD_RATIO and t.dead_ratio >= limits.dead_ratio
    ]
    if connections.usage_ratio >= limits.connections_ratio:
        warnings.append(
            f"connections: {connections.in_use} in use, {connections.usage_ratio:.0%} of what the server leaves "
            f"to clients ({connections.max_connections} max, {connections.reserved_connections} reserved)"
        )
    return warnings


def health_summary(indexes: IndexUsageReport, tables: TablesReport, connections: ConnectionsReport) -> dict[str, Any]:
    return {
        "unused_indexes": len(indexes.unused_indexes),
        "unused_index_bytes": indexes.unused_index_bytes,
        "seq_scanned_tables": len(indexes.seq_scanned_tables),
        "tables": len(tables.tables),
        "dead_rows": sum(t.dead_rows for t in tables.tables),
        "connections_in_use": connections.in_use,
        "connections_usage_ratio": connections.usage_ratio,
    }
