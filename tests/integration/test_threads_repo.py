"""The threads repo at the database, with as many sessions as racing callers: find-or-create
by every kind's unique index, posts into one thread in strict order, watermarks forward only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID

import psycopg
import pytest

from shared.threads import repo, repo_reads
from shared.threads.models import Party, Sender
from tests.catalog_support import sql
from tests.order_support import stocked_catalog


@pytest.fixture
async def world(app_env, database_url):
    catalog = await stocked_catalog(database_url)
    sql(database_url, "INSERT INTO users (id, full_name) VALUES ('repo-shopper', 'Sara') ON CONFLICT DO NOTHING")
    return catalog


async def sessions(database_url: str, count: int) -> list[psycopg.AsyncConnection]:
    return [await psycopg.AsyncConnection.connect(database_url, autocommit=True) for _ in range(count)]


async def find_or_create(conn: psycopg.AsyncConnection, catalog, gate: asyncio.Barrier):
    await gate.wait()
    async with conn.transaction():
        return await repo.find_or_create_thread(
            conn, "PRODUCT_INQUIRY", shopper_id="repo-shopper", seller_id=UUID(catalog.sellers["nahdi"]),
            product_id=UUID(catalog.ids["panadol"]), subject="Panadol", now=datetime.now(UTC),
        )  # fmt: skip


async def test_concurrent_find_or_create_makes_one_thread(world, database_url):
    conns = await sessions(database_url, 20)
    gate = asyncio.Barrier(len(conns))
    try:
        results = await asyncio.gather(*(find_or_create(c, world, gate) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    assert len({thread.id for thread, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert sql(database_url, "SELECT count(*) FROM thread_participants")[0][0] == 2


async def test_concurrent_posts_are_numbered_in_commit_order(world, database_url):
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        thread, _ = await find_or_create(conn, world, asyncio.Barrier(1))
    conns = await sessions(database_url, 20)
    gate = asyncio.Barrier(len(conns))

    async def post(conn: psycopg.AsyncConnection, n: int):
        await gate.wait()
        async with conn.transaction():
            sender = Sender(side="SHOPPER", user_id="repo-shopper")
            return await repo.append_message(conn, thread.id, sender, "TEXT", f"m{n}", None, f"c{n}", datetime.now(UTC))

    try:
        rows = await asyncio.gather(*(post(c, n) for n, c in enumerate(conns)))
    finally:
        for conn in conns:
            await conn.close()
    stored = sql(database_url, "SELECT id, seq FROM messages WHERE thread_id = %s ORDER BY id", thread.id)
    assert [seq for _, seq in stored] == list(range(1, 21))
    assert sorted(row.id for row in rows if row) == [i for i, _ in stored]
    last = sql(database_url, "SELECT last_message_id, message_seq FROM threads WHERE id = %s", thread.id)[0]
    assert last == (stored[-1][0], 20)
    events = sql(database_url, "SELECT count(*) FROM outbox_events WHERE event_type = 'thread.message_posted'")
    assert events[0][0] == 20


async def test_watermark_never_moves_back(world, database_url):
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        thread, _ = await find_or_create(conn, world, asyncio.Barrier(1))
        sender = Sender(side="SELLER", user_id="staff")
        ids = []
        for n in range(10):
            async with conn.transaction():
                row = await repo.append_message(conn, thread.id, sender, "TEXT", f"m{n}", None, None, datetime.now(UTC))
                assert row is not None
                ids.append(row.id)
    conns = await sessions(database_url, 10)
    gate = asyncio.Barrier(len(conns))
    shopper = Party(side="SHOPPER", party_id="repo-shopper", user_id="repo-shopper")

    async def read(conn: psycopg.AsyncConnection, up_to: int):
        await gate.wait()
        async with conn.transaction():
            return await repo_reads.mark_read(conn, thread.id, shopper, up_to)

    try:
        await asyncio.gather(*(read(c, i) for c, i in zip(conns, reversed(ids), strict=True)))
    finally:
        for conn in conns:
            await conn.close()
    mark = sql(
        database_url, "SELECT last_read_message_id, last_read_seq FROM thread_participants WHERE side = 'SHOPPER'"
    )
    assert mark[0] == (ids[-1], 10)
