"""The database reports without I/O: when the slow-query report cannot answer and what the
operator does about it, what a statement's text may show, and the connection budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from shared.ops.errors import OpsError
from shared.ops.models_reports import (
    ConnectionGroup,
    ConnectionLimits,
    ConnectionsReport,
    SlowQuery,
    StatementsExtension,
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
