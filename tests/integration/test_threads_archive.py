"""Archival and partitions against the real PostgreSQL: quiet threads' messages move to the
archive in the same transaction, archived threads read the same and a new message unarchives
them; two overlapping archival runs archive each thread once and lose no message; two
partition maintenance runs at once create each month once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.data import partitions
from shared.threads import repo_archive
from shared.threads import service as threads
from tests.catalog_support import sql
from tests.order_support import stocked_catalog
from tests.support import bearer, call

LATER = datetime.now(UTC) + timedelta(days=181)  # past THREAD_ARCHIVE_AFTER_DAYS (180)


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


async def thread_of(catalog, shopper: str, messages: int) -> str:
    headers, product = bearer(sub=shopper), catalog.ids["panadol"]
    status, _, thread = await call(
        "start_inquiry", "POST", f"products/{product}/inquiries", body={"seller_id": catalog.sellers["nahdi"]},
        headers=headers, route_params={"id": product},
    )  # fmt: skip
    assert status == 201, thread
    for n in range(messages):
        path = f"threads/{thread['id']}/messages"
        status, _, _ = await call(
            "post_thread_message", "POST", path, body={"body": f"m{n}"}, headers=headers,
            route_params={"id": thread["id"]},
        )  # fmt: skip
        assert status == 201
    return thread["id"]


async def page(thread_id: str, shopper: str) -> list[dict]:
    status, _, body = await call(
        "list_thread_messages", "GET", f"threads/{thread_id}/messages", headers=bearer(sub=shopper),
        route_params={"id": thread_id}, params={"limit": "100"},
    )  # fmt: skip
    assert status == 200, body
    return body["items"]


async def test_archived_threads_read_the_same_and_a_new_message_unarchives(catalog, database_url):
    thread_id = await thread_of(catalog, "arch-sara", 3)
    before = await page(thread_id, "arch-sara")
    assert (await threads.archive_quiet_threads(clock=lambda: datetime.now(UTC))).threads == 0  # not quiet yet
    run = await threads.archive_quiet_threads(clock=lambda: LATER)
    assert (run.threads, run.messages) == (1, 4)
    assert sql(database_url, "SELECT count(*) FROM messages")[0][0] == 0
    assert sql(database_url, "SELECT archived_at IS NOT NULL FROM threads")[0][0]
    assert await page(thread_id, "arch-sara") == before  # the same endpoint, from the archive
    status, _, posted = await call(
        "post_thread_message", "POST", f"threads/{thread_id}/messages", body={"body": "back"},
        headers=bearer(sub="arch-sara"), route_params={"id": thread_id},
    )  # fmt: skip
    assert status == 201
    assert sql(database_url, "SELECT archived_at FROM threads")[0][0] is None
    after = await page(thread_id, "arch-sara")
    assert after == [*before, after[-1]] and after[-1]["id"] == posted["id"] and posted["seq"] == 5


async def test_two_overlapping_runs_archive_each_thread_once_and_lose_no_message(catalog, database_url, monkeypatch):
    for n in range(12):
        await thread_of(catalog, f"arch-{n}", n % 3)
    total = sql(database_url, "SELECT count(*) FROM messages")[0][0]
    # Each run's first batch waits, its claim still held and uncommitted, until the other run's
    # first batch has claimed too: the two transactions overlap for certain.
    both_claimed, waited, real = asyncio.Barrier(2), [], repo_archive.archive_batch

    async def overlapping(conn, cutoff, now, limit):
        done = await real(conn, cutoff, now, limit)
        if len(waited) < 2:
            waited.append(done.threads)
            await both_claimed.wait()
        return done

    monkeypatch.setattr(repo_archive, "archive_batch", overlapping)
    runs = await asyncio.gather(*(threads.archive_quiet_threads(clock=lambda: LATER, batch=3) for _ in range(2)))
    assert waited == [3, 3]  # both claimed a full batch while the other held its own
    assert sum(r.threads for r in runs) == 12 and sum(r.messages for r in runs) == total
    assert sql(database_url, "SELECT count(*), count(DISTINCT thread_id) FROM archived_threads")[0] == (12, 12)
    assert sql(database_url, "SELECT count(*), count(DISTINCT id) FROM archived_messages")[0] == (total, total)
    assert sql(database_url, "SELECT count(*) FROM messages")[0][0] == 0


async def test_two_partition_runs_at_once_create_each_month_once(app_env, database_url):
    month = date(2031, 5, 9)
    results = await asyncio.gather(*(partitions.ensure_partitions(today=month) for _ in range(2)))
    # every registered table: thread and inbox messages, outbox, order history, notifications
    expected = {f"{table}_p2031{m:02d}" for table in partitions.MONTHLY_TABLES for m in (5, 6, 7, 8)}
    created = [name for run in results for name in run.created]
    assert sorted(created) == sorted(expected)  # each made by exactly one of the runs
    assert sum(run.existing for run in results) == len(expected)
    made = "SELECT relname FROM pg_class WHERE relkind = 'r' AND relispartition AND relname LIKE '%%_p2031%%'"
    rows = sql(database_url, made)
    assert {name for (name,) in rows} == expected
    assert {"inbox_messages_p203106", "outbox_events_p203106", "notifications_p203108"} <= expected
    assert "order_status_history_p203105" in expected
    again = await partitions.ensure_partitions(today=month)
    assert again.created == [] and again.existing == len(expected)
    bounds = sql(
        database_url, "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'messages_p203106'"
    )[0][0]
    assert "2031-06-01 00:00:00+00" in bounds and "2031-07-01 00:00:00+00" in bounds
