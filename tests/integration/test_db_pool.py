"""The pool as callers see it: connections in UTC; more concurrent callers than connections
wait their turn and all get served; a caller that waits longer than DATABASE_POOL_TIMEOUT_SECONDS gets
DependencyUnavailable (HTTP 503), and the pool keeps working afterwards."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC

import pytest

from shared.platform.errors import DependencyUnavailable

POOL_MAX = 3


@pytest.fixture
def small_pool(app_env, monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("DATABASE_POOL_MIN", "1")
    monkeypatch.setenv("DATABASE_POOL_MAX", str(POOL_MAX))
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", "0.5")
    reset_settings()


async def backend_pid_held(seconds: float) -> int:
    from shared.data import db

    async with db.connection() as conn:
        pid = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0]
        await asyncio.sleep(seconds)
    return pid


async def test_callers_beyond_the_pool_wait_and_all_are_served(small_pool):
    pids = await asyncio.gather(*(backend_pid_held(0.05) for _ in range(POOL_MAX * 8)))
    assert len(pids) == POOL_MAX * 8
    assert len(set(pids)) <= POOL_MAX  # never more connections than the pool allows


async def test_a_caller_waiting_past_the_pool_timeout_gets_503_and_the_pool_recovers(small_pool):
    from shared.data import db

    holders = [asyncio.create_task(backend_pid_held(1.5)) for _ in range(POOL_MAX)]
    await asyncio.sleep(0.2)  # every connection is now taken
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as raised:
        async with db.connection():
            pass
    waited = time.monotonic() - started
    assert raised.value.status == 503
    assert 0.4 <= waited < 1.2  # the configured 0.5 s, not the holders' 1.5 s
    await asyncio.gather(*holders)
    async with db.connection() as conn:  # the timed-out wait left no slot behind
        assert (await (await conn.execute("SELECT 1")).fetchone())[0] == 1
    # all POOL_MAX slots are free again: holding each longer than the timeout fails nobody
    pids = await asyncio.gather(*(backend_pid_held(0.8) for _ in range(POOL_MAX)))
    assert len(set(pids)) == POOL_MAX


async def test_connections_run_in_utc_and_load_timestamps_as_utc(app_env):

    from shared.data import db

    async with db.connection() as conn:
        zone, now = await (await conn.execute("SELECT current_setting('TimeZone'), now()")).fetchone()
    assert zone == "UTC" and now.tzinfo is UTC
