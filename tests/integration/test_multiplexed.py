"""Multiplexed reads (shared/data/multiplexed.py) against the real PostgreSQL: concurrent reads share
batches yet each gets its own rows, a read sees what committed before it, a failing read fails
only its own caller, a cancelled caller costs the others nothing, and an unreachable server
gives every caller the usual 503."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from shared.data import db, multiplexed
from shared.data.multiplexed import Multiplexer
from shared.platform.errors import DependencyUnavailable
from tests.support import batch_sizes

ECHO = "SELECT %(n)s::int AS n, %(n)s::int * 2 AS twice"
DIVIDE = "SELECT 10 / %(n)s AS n, 0 AS twice"


class Echo(BaseModel):
    n: int
    twice: int


async def test_concurrent_reads_share_batches_and_each_gets_its_own_rows(app_env, monkeypatch):
    sizes = batch_sizes(monkeypatch, Multiplexer, "_together")
    results = await asyncio.gather(*(multiplexed.fetch_all(ECHO, {"n": n}, Echo) for n in range(40)))
    assert results == [[Echo(n=n, twice=2 * n)] for n in range(40)]
    assert sum(sizes) == 40 and len(sizes) < 40 and max(sizes) <= Multiplexer.max_batch


async def test_a_read_sees_what_committed_before_it(app_env):
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE mux_seen (n int)")
        await conn.execute("INSERT INTO mux_seen VALUES (7)")
    reads = [multiplexed.fetch_one("SELECT n, n * 2 AS twice FROM mux_seen", None, Echo) for _ in range(5)]
    assert await asyncio.gather(*reads) == [Echo(n=7, twice=14)] * 5


async def test_a_failing_read_fails_only_its_own_caller(app_env):
    import psycopg

    reads = [multiplexed.fetch_all(DIVIDE if n == 3 else ECHO, {"n": 0 if n == 3 else n}, Echo) for n in range(8)]
    results = await asyncio.gather(*reads, return_exceptions=True)
    assert isinstance(results[3], psycopg.errors.DivisionByZero)
    assert [r for i, r in enumerate(results) if i != 3] == [[Echo(n=n, twice=2 * n)] for n in range(8) if n != 3]


async def test_a_cancelled_caller_does_not_disturb_the_others(app_env):
    tasks = [asyncio.create_task(multiplexed.fetch_all(ECHO, {"n": n}, Echo)) for n in range(10)]
    await asyncio.sleep(0)  # one turn, not a wait: every read is queued, none is sent
    tasks[4].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[4], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != 4] == [[Echo(n=n, twice=2 * n)] for n in range(10) if n != 4]


@pytest.mark.slow
async def test_an_unreachable_server_gives_every_caller_503(app_env, monkeypatch):
    from shared.platform.config import reset_settings
    from tests.support import free_port

    await db.close_pools()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/nothing")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", "1")
    reset_settings()
    sizes = batch_sizes(monkeypatch, Multiplexer, "_together")
    waits = []
    real_connection = db.connection

    def counted_connection(**kwargs):
        waits.append(1)
        return real_connection(**kwargs)

    monkeypatch.setattr(db, "connection", counted_connection)
    async with asyncio.timeout(30):  # only turns a hang into a failure
        results = await asyncio.gather(
            *(multiplexed.fetch_all(ECHO, {"n": n}, Echo) for n in range(6)), return_exceptions=True
        )
    assert all(isinstance(r, DependencyUnavailable) and r.status == 503 for r in results), results
    assert sizes == [6] and waits == [1]  # one pool timeout for the batch, not one per caller
