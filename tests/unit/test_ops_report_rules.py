"""The database reports' rules without a database: the 409 naming what is missing for
pg_stat_statements, the literals masked in statement texts, and the connection budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.ops import rules_reports as rules
from shared.ops.errors import OpsError
from shared.ops.models_reports import (
    ConnectionGroup,
    ConnectionLimits,
    ConnectionsReport,
    IndexUsageReport,
    StatementsExtension,
    TableHealth,
    TablesReport,
    UnusedIndex,
)

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_nothing_missing_is_no_problem():
    assert rules.statements_not_enabled(StatementsExtension(installed=True, preloaded=True)) is None


@pytest.mark.parametrize(
    ("installed", "preloaded", "named", "not_named"),
    [
        (True, False, "shared_preload_libraries", "CREATE EXTENSION"),
        (False, True, "CREATE EXTENSION", "shared_preload_libraries"),
        (False, False, "shared_preload_libraries", None),
    ],
)
def test_the_409_names_each_missing_step_only(installed, preloaded, named, not_named):
    problem = rules.statements_not_enabled(StatementsExtension(installed=installed, preloaded=preloaded))
    assert problem is not None and problem.status == 409
    assert problem.code is OpsError.PG_STAT_STATEMENTS_NOT_ENABLED
    assert named in problem.detail and (not_named is None or not_named not in problem.detail)
    assert problem.extra == {"installed": installed, "preloaded": preloaded}


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("SELECT * FROM users WHERE id = $1 LIMIT $2", "SELECT * FROM users WHERE id = $1 LIMIT $2"),
        ("ALTER ROLE app PASSWORD 'hunter2'", "ALTER ROLE app PASSWORD ?"),
        ("SET application_name = 'it''s'", "SET application_name = ?"),
        ("SET statement_timeout = 5000", "SET statement_timeout = ?"),
        ("SELECT E'\\x41', x1 FROM t2", "SELECT ?, x1 FROM t2"),
        ("DO $body$ BEGIN PERFORM 'x'; END $body$", "DO ?"),
    ],
)
def test_statement_texts_keep_their_shape_and_lose_their_literals(text, scrubbed):
    assert rules.scrub_statement(text) == scrubbed


def test_a_long_statement_is_bounded():
    assert len(rules.scrub_statement("SELECT " + "a, " * 5000)) == rules.QUERY_TEXT_MAX_LENGTH


def test_connections_against_the_limit_and_the_pool_budget():
    groups = [
        ConnectionGroup(state="active", application_name="souq-api", connections=3),
        ConnectionGroup(state="idle", application_name="souq-api", connections=7),
    ]
    limits = ConnectionLimits(max_connections=50, reserved_connections=5)
    report = rules.connections_report(groups, limits, pool_max=5, generated_at=NOW)
    assert (report.in_use, report.usage_ratio, report.instances_that_fit) == (10, round(10 / 45, 4), 9)


def test_a_server_with_nothing_left_for_clients_is_full():
    report = rules.connections_report(
        [], ConnectionLimits(max_connections=3, reserved_connections=3), pool_max=5, generated_at=NOW
    )
    assert (report.usage_ratio, report.instances_that_fit) == (1.0, 0)


def index_report(*sizes: int) -> IndexUsageReport:
    unused = [
        UnusedIndex(schema_name="public", table_name="t", index_name=f"i{n}", size_bytes=size, definition="…")
        for n, size in enumerate(sizes)
    ]
    return IndexUsageReport(
        generated_at=NOW,
        stats_reset=None,
        min_rows=0,
        unused_indexes=unused,
        unused_index_bytes=sum(sizes),
        seq_scanned_tables=[],
    )


def table(name: str, live: int, dead: int) -> TableHealth:
    ratio = dead / (live + dead) if live + dead else 0.0
    return TableHealth(
        schema_name="public",
        table_name=name,
        total_bytes=1,
        table_bytes=1,
        live_rows=live,
        dead_rows=dead,
        dead_ratio=ratio,
        last_autovacuum=None,
        last_autoanalyze=None,
        last_vacuum=None,
        last_analyze=None,
    )


LIMITS = rules.HealthThresholds(unused_index_bytes=1000, dead_ratio=0.2, connections_ratio=0.8)


def connections(in_use: int) -> ConnectionsReport:
    groups = [ConnectionGroup(state="idle", application_name="souq-api", connections=in_use)] if in_use else []
    limits = ConnectionLimits(max_connections=13, reserved_connections=3)
    return rules.connections_report(groups, limits, pool_max=5, generated_at=NOW)


def test_the_health_check_warns_over_each_threshold_only():
    tables = TablesReport(
        generated_at=NOW,
        tables=[table("bloated", 700, 300), table("tiny", 1, 9), table("fine", 9000, 100)],
    )
    warnings = rules.health_warnings(index_report(999, 1000), tables, connections(8), LIMITS)
    assert len(warnings) == 3, warnings
    assert "i1" in warnings[0] and "1000 bytes" in warnings[0]
    assert "public.bloated" in warnings[1] and "30% dead" in warnings[1] and "never" in warnings[1]
    assert warnings[2].startswith("connections: 8 in use, 80%")


def test_a_healthy_database_has_no_warnings_and_a_summary():
    tables = TablesReport(generated_at=NOW, tables=[table("fine", 9000, 100)])
    assert rules.health_warnings(index_report(10), tables, connections(7), LIMITS) == []
    summary = rules.health_summary(index_report(10), tables, connections(7))
    assert summary["unused_indexes"] == 1 and summary["dead_rows"] == 100 and summary["connections_in_use"] == 7
