"""The database reports (GET /api/ops/reports/…) on a database with a planted unused index, a
sequentially scanned table and dead rows; the slow-query report on a throwaway cluster that
preloads pg_stat_statements (scripts.pg_cluster), and its 409 where the extension is missing.

Statistics reach the views when a backend flushes them: the planting session asks for the
flush (pg_stat_force_next_flush) in the transaction it commits, and PostgreSQL flushes before
it answers the COMMIT, so the reports see them without waiting."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from scripts.migrate import migrate_up
from scripts.pg_cluster import LocalCluster, free_port
from tests.support import FakeContext, app_function, bearer, call

ADMIN = bearer("admin", sub="reports-admin")
PLANTED_ROWS = 3000
PLANT = [
    "CREATE TABLE planted_scans (id int PRIMARY KEY, sku text NOT NULL, note text NOT NULL)",
    f"INSERT INTO planted_scans SELECT g, 'sku-' || g, repeat('n', 40) FROM generate_series(1, {PLANTED_ROWS}) g",
    "CREATE INDEX planted_unused_idx ON planted_scans (note)",
    "ANALYZE planted_scans",
]


def run_and_flush(url: str, *statements: str) -> None:
    """`statements` in one transaction whose statistics are in the views when this returns."""
    with psycopg.connect(url) as conn, conn.transaction():
        for statement in statements:
            conn.execute(statement)  # type: ignore[call-overload] - test-only literal SQL
        conn.execute("SELECT pg_stat_force_next_flush()")


async def get(name: str, path: str, **params: str) -> tuple[int, dict, dict]:
    return await call(name, "GET", f"ops/reports/{path}", headers=ADMIN, params=params)


@pytest.fixture
def planted(database_url: str) -> str:
    run_and_flush(database_url, *PLANT)
    run_and_flush(database_url, "SELECT count(*) FROM planted_scans WHERE sku = 'sku-7'")  # no index on sku
    return database_url


async def test_index_usage_shows_the_unused_index_and_the_scanned_table(app_env, planted):
    status, _, body = await get("get_index_usage_report", "index-usage", min_rows="1000")
    assert status == 200, body
    unused = {i["index_name"]: i for i in body["unused_indexes"]}
    assert "planted_unused_idx" in unused and unused["planted_unused_idx"]["size_bytes"] > 0
    assert "planted_scans_pkey" not in unused  # backs the primary key: needed, scanned or not
    assert body["unused_index_bytes"] >= unused["planted_unused_idx"]["size_bytes"]
    scanned = {t["table_name"]: t for t in body["seq_scanned_tables"]}
    assert scanned["planted_scans"]["live_rows"] == PLANTED_ROWS
    assert scanned["planted_scans"]["seq_scans"] >= 1
    assert scanned["planted_scans"]["seq_rows_read"] >= PLANTED_ROWS


async def test_a_table_under_the_row_threshold_is_not_listed(app_env, planted):
    status, _, body = await get("get_index_usage_report", "index-usage", min_rows=str(PLANTED_ROWS + 1))
    assert status == 200, body
    assert "planted_scans" not in {t["table_name"] for t in body["seq_scanned_tables"]}


async def test_tables_report_counts_dead_rows(app_env, planted):
    run_and_flush(planted, "DELETE FROM planted_scans WHERE id <= 1000")
    status, _, body = await get("get_tables_report", "tables", limit="200")
    assert status == 200, body
    table = {t["table_name"]: t for t in body["tables"]}["planted_scans"]
    assert table["dead_rows"] == 1000 and table["live_rows"] == PLANTED_ROWS - 1000
    assert table["dead_ratio"] == pytest.approx(1000 / PLANTED_ROWS)
    assert table["total_bytes"] > table["table_bytes"] > 0
    assert set(table) >= {"last_autovacuum", "last_autoanalyze"}


async def test_the_daily_health_check_warns_on_the_planted_index_and_dead_rows(app_env, planted, monkeypatch, caplog):
    from shared.platform.config import reset_settings

    run_and_flush(planted, "DELETE FROM planted_scans WHERE id <= 1000")
    monkeypatch.setenv("OPS_UNUSED_INDEX_WARN_BYTES", "1")
    monkeypatch.setenv("OPS_DEAD_RATIO_WARN", "0.3")
    reset_settings()
    caplog.set_level(logging.INFO, logger="souq.database")
    await app_function("report_database_health")(timer=None, context=FakeContext("report_database_health"))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("planted_unused_idx" in w and "never scanned" in w for w in warnings), warnings
    assert any("public.planted_scans: 33% dead rows (1000 of 3000)" in w for w in warnings), warnings
    assert not any("planted_scans_pkey" in w for w in warnings)
    summary = [
        r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "database health" in r.getMessage()
    ]
    assert summary and "'dead_rows'" in summary[0]


async def test_connections_report_against_the_limit_and_the_pool_budget(app_env, database_url):
    status, _, body = await get("get_connections_report", "connections")
    assert status == 200, body
    with psycopg.connect(database_url) as conn:
        max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
    assert body["max_connections"] == max_connections
    assert body["pool_max_per_instance"] == app_env.database_pool_max
    usable = max_connections - body["reserved_connections"]
    assert body["instances_that_fit"] == usable // app_env.database_pool_max
    assert body["in_use"] == sum(g["connections"] for g in body["groups"]) >= 1
    groups = {(g["state"], g["application_name"]) for g in body["groups"]}
    assert ("active", app_env.database_application_name) in groups


async def test_reports_are_for_admins_only(app_env):
    for name, path in [("get_tables_report", "tables"), ("get_slow_queries_report", "slow-queries")]:
        status, _, body = await call(name, "GET", f"ops/reports/{path}", headers=bearer("customer"))
        assert status == 403, body


async def test_bad_report_parameters_are_422(app_env):
    for params in ({"order": "max"}, {"limit": "0"}, {"limit": "1.5"}):
        status, _, body = await get("get_slow_queries_report", "slow-queries", **params)
        assert status == 422 and body["code"] == "validation_failed", (params, body)


async def test_slow_queries_answer_409_with_the_missing_step_where_the_server_does_not_preload(app_env, database_url):
    with psycopg.connect(database_url) as conn:
        preloaded = "pg_stat_statements" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]
    status, headers, body = await get("get_slow_queries_report", "slow-queries")
    if preloaded:  # a developer's server that has it: the report answers
        assert status == 200, body
        return
    assert status == 409 and body["code"] == "pg_stat_statements_not_enabled", body
    assert body["preloaded"] is False and "shared_preload_libraries" in body["detail"]
    assert headers["content-type"].startswith("application/problem+json")


# -- on a cluster that preloads pg_stat_statements (as make run's private cluster and Azure do)


@pytest.fixture(scope="module")
def statistics_cluster():
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="souq-pgss-")), free_port())
    cluster.init().start()
    migrate_up(cluster.url)
    yield cluster.url
    cluster.control("-m", "immediate", "stop")
    shutil.rmtree(cluster.datadir, ignore_errors=True)


@pytest.fixture
async def on_statistics_cluster(app_env, monkeypatch, statistics_cluster):
    from shared.data import db
    from shared.platform.config import reset_settings

    await db.close_pools()
    monkeypatch.setenv("DATABASE_URL", statistics_cluster)
    reset_settings()
    with psycopg.connect(statistics_cluster, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        conn.execute("SELECT pg_sleep(0.05), 'a-secret-value' AS leaked")
        conn.execute("SET application_name = 'leaky-literal'")  # a utility statement keeps its text
        for _ in range(3):
            conn.execute("SELECT count(*) FROM users WHERE id = 'someone'")
    yield statistics_cluster
    await db.close_pools()


@pytest.mark.slow
async def test_slow_queries_by_mean_show_normalized_text_only(on_statistics_cluster):
    status, _, body = await get("get_slow_queries_report", "slow-queries", order="mean", limit="5")
    assert status == 200, body
    first = body["statements"][0]
    assert "pg_sleep" in first["query"] and first["mean_ms"] >= 50 and first["calls"] == 1
    assert first["max_ms"] >= first["mean_ms"] and first["total_ms"] >= first["mean_ms"]
    texts = " ".join(s["query"] for s in body["statements"])
    assert "a-secret-value" not in texts and "someone" not in texts and "0.05" not in texts


@pytest.mark.slow
async def test_slow_queries_by_total_count_calls_rows_and_blocks(on_statistics_cluster):
    status, _, body = await get("get_slow_queries_report", "slow-queries", order="total", limit="50")
    assert status == 200, body
    assert body["order"] == "total"
    totals = [s["total_ms"] for s in body["statements"]]
    assert totals == sorted(totals, reverse=True)
    counted = [s for s in body["statements"] if "FROM users" in s["query"]]
    assert counted and counted[0]["calls"] == 3 and counted[0]["rows"] == 3
    assert counted[0]["shared_blks_hit"] + counted[0]["shared_blks_read"] >= 0
    assert "leaky-literal" not in str(body)


@pytest.mark.slow
async def test_slow_queries_say_to_create_the_extension_where_it_is_not(on_statistics_cluster):
    with psycopg.connect(on_statistics_cluster, autocommit=True) as conn:
        conn.execute("DROP EXTENSION pg_stat_statements")
    try:
        status, _, body = await get("get_slow_queries_report", "slow-queries")
        assert status == 409 and body["code"] == "pg_stat_statements_not_enabled", body
        assert body["installed"] is False and body["preloaded"] is True
        assert "CREATE EXTENSION pg_stat_statements" in body["detail"]
    finally:
        with psycopg.connect(on_statistics_cluster, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
