"""Migrations on a fresh database: all up, all down, up again; concurrent runs apply once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg

from scripts.migrate import migrate_down, migrate_up, migration_status

APP_TABLES = {"users", "addresses", "outbox_events", "processed_events", "rejected_messages"}


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows} & APP_TABLES


def test_up_down_up(fresh_database):
    applied = migrate_up(fresh_database)
    assert applied >= 1 and tables(fresh_database) == APP_TABLES
    assert all(done for _, done in migration_status(fresh_database))
    assert migrate_down(fresh_database) == applied
    assert tables(fresh_database) == set()
    assert migrate_up(fresh_database) == applied and tables(fresh_database) == APP_TABLES


def test_concurrent_runs_apply_each_migration_once(fresh_database):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: migrate_up(fresh_database), range(4)))
    assert sorted(results) == [0, 0, 0, len(migration_status(fresh_database))]
    with psycopg.connect(fresh_database) as conn:
        applied = conn.execute("SELECT count(*) FROM _yoyo_migration").fetchone()[0]
    assert applied == len(migration_status(fresh_database))
