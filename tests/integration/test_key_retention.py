"""Dedupe keys past their retention (shared.data.key_retention, migration 0017) against the real
PostgreSQL: old keys go in batches and recent ones stay, a run stopped by its batch budget
says so and the next one finishes, two runs at once delete each key once, and a consumer's
key is kept as long as a redelivery can come."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from shared.data import db, key_retention
from shared.events import repo as events_repo
from shared.platform.config import reset_settings
from tests.catalog_support import sql

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)  # the injected clock
PROCESSED = key_retention.KEY_TABLES[0]
CLIENT_IDS = key_retention.KEY_TABLES[1]


def processed(database_url: str, days_ago: float, count: int = 1) -> None:
    for _ in range(count):
        sql(database_url, "INSERT INTO processed_events (event_id, consumer, processed_at) VALUES (%s, 'c', %s)",
            str(uuid.uuid4()), NOW - timedelta(days=days_ago))  # fmt: skip


def ages(database_url: str, table: str, stamp: str) -> list[int]:
    rows = sql(database_url, f"SELECT extract(day FROM %s - {stamp})::int FROM {table} ORDER BY 1", NOW)
    return [row[0] for row in rows]


async def test_keys_past_their_retention_go_in_batches_and_recent_ones_stay(app_env, database_url):
    processed(database_url, 45, count=5)
    processed(database_url, 31)
    processed(database_url, 29)  # the default retention is 30 days
    processed(database_url, 1)
    run = await key_retention.prune(now=NOW, tables=(PROCESSED,), batch=2)
    assert run.deleted == {"processed_events": 6} and run.unfinished == []
    assert ages(database_url, "processed_events", "processed_at") == [1, 29]


async def test_a_run_out_of_batches_says_so_and_the_next_one_finishes(app_env, database_url):
    processed(database_url, 40, count=7)
    first = await key_retention.prune(now=NOW, tables=(PROCESSED,), batch=2, max_batches=2)
    assert first.deleted == {"processed_events": 4} and first.unfinished == ["processed_events"]
    second = await key_retention.prune(now=NOW, tables=(PROCESSED,), batch=2, max_batches=2)
    assert second.deleted == {"processed_events": 3} and second.unfinished == []


async def test_two_runs_at_once_delete_each_key_once(app_env, database_url):
    processed(database_url, 60, count=40)
    processed(database_url, 2, count=3)
    runs = await asyncio.gather(*(key_retention.prune(now=NOW, tables=(PROCESSED,), batch=3) for _ in range(2)))
    assert sum(run.deleted["processed_events"] for run in runs) == 40
    assert ages(database_url, "processed_events", "processed_at") == [2, 2, 2]


async def test_a_redelivered_event_within_retention_is_still_a_repeat(app_env, database_url):
    event_id = uuid.uuid4()
    sql(database_url, "INSERT INTO processed_events (event_id, consumer, processed_at) VALUES (%s, 'c', %s)",
        str(event_id), NOW - timedelta(days=8))  # fmt: skip
    await key_retention.prune(now=NOW)
    async with db.transaction() as conn:
        assert not await events_repo.claim_for_consumer(conn, event_id, "c")


async def test_thread_post_client_ids_expire_with_their_setting(app_env, database_url, monkeypatch):
    sql(database_url, "INSERT INTO users (id) VALUES ('sara')")
    thread = sql(database_url, "INSERT INTO threads (kind, subject, shopper_id) VALUES ('SUPPORT', 's', 'sara')"
                               " RETURNING id")[0][0]  # fmt: skip
    for days_ago, client_id in ((12, "old"), (3, "new")):
        sql(database_url, "INSERT INTO message_client_ids (thread_id, sender_id, client_id, created_at)"
                          " VALUES (%s, 'sara', %s, %s)", thread, client_id, NOW - timedelta(days_ago))  # fmt: skip
    monkeypatch.setenv("MESSAGE_CLIENT_ID_RETENTION_DAYS", "10")
    reset_settings()
    run = await key_retention.prune(now=NOW, tables=(CLIENT_IDS,))
    assert run.deleted == {"message_client_ids": 1}
    assert sql(database_url, "SELECT client_id FROM message_client_ids") == [("new",)]
