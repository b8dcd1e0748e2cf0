"""The pool as callers see it: connections in UTC; more concurrent callers than connections
wait their turn and all get served; a caller that waits longer than DATABASE_POOL_TIMEOUT_SECONDS gets
DependencyUnavailable (HTTP 503), and the pool keeps working afterwards.

Connections are held until the test says so (events, a barrier), never for a length of time,
and the outcome is asserted, not how long it took."""

from __future__ import annotations

import asyncio
from datetime import UTC

import pytest

from shared.data import db
from shared.platform.errors import DependencyUnavailable

POOL_MAX = 3
SAFETY_SECONDS = 30  # only turns a hang into a failure


def small_pool(monkeypatch: pytest.MonkeyPatch, *, timeout_seconds: float, min_size: int = 1) -> None:
    from shared.platform.config import reset_settings

    monkeypatch.setenv("DATABASE_POOL_MIN", str(min_size))
    monkeypatch.setenv("DATABASE_POOL_MAX", str(POOL_MAX))
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", str(timeout_seconds))
    reset_settings()


@pytest.fixture
def patient_pool(app_env, monkeypatch):
    """A pool of POOL_MAX whose waiters outwait any busy machine."""
    small_pool(monkeypatch, timeout_seconds=SAFETY_SECONDS)


@pytest.fixture
async def impatient_pool(app_env, monkeypatch):
    """A pool of POOL_MAX whose waiters give up soon, its connections open before the test
    starts (so that only the wait under test can run into the timeout)."""
    small_pool(monkeypatch, timeout_seconds=0.5, min_size=POOL_MAX)
    await (await db.get_pool()).wait(timeout=SAFETY_SECONDS)


async def backend_pid_held_until(release: asyncio.Event | asyncio.Barrier, taken: asyncio.Event | None = None) -> int:
    """Takes a connection, says so on `taken`, and keeps it until `release` (an event is set, or
    every party of a barrier holds a connection)."""
    async with db.connection() as conn:
        pid = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0]
        if taken is not None:
            taken.set()
        await release.wait()
    return pid


async def test_callers_beyond_the_pool_wait_and_all_are_served(patient_pool):
    # The first POOL_MAX callers keep their connection until all POOL_MAX are taken: the
    # other callers cannot all slip through one after another, they have to queue.
    pool_full = asyncio.Barrier(POOL_MAX)
    served = asyncio.Event()
    served.set()

    async def caller(n: int) -> int:
        return await backend_pid_held_until(pool_full if n < POOL_MAX else served)

    async with asyncio.timeout(SAFETY_SECONDS):
        pids = await asyncio.gather(*(caller(n) for n in range(POOL_MAX * 8)))
    assert len(pids) == POOL_MAX * 8
    assert len(set(pids)) == POOL_MAX  # every connection was used, never more than the pool allows


async def test_a_caller_waiting_past_the_pool_timeout_gets_503_and_the_pool_recovers(impatient_pool):
    release = asyncio.Event()
    taken = [asyncio.Event() for _ in range(POOL_MAX)]
    async with asyncio.timeout(SAFETY_SECONDS):
        holders = [asyncio.create_task(backend_pid_held_until(release, event)) for event in taken]
        await asyncio.gather(*(event.wait() for event in taken))  # every connection is now taken
        with pytest.raises(DependencyUnavailable) as raised:
            async with db.connection():
                pass
        assert raised.value.status == 503
        assert not any(holder.done() for holder in holders)  # the timeout ended the wait, no holder did
        release.set()
        await asyncio.gather(*holders)
        async with db.connection() as conn:  # the timed-out wait left no slot behind
            assert (await (await conn.execute("SELECT 1")).fetchone())[0] == 1
        # all POOL_MAX slots are free again: POOL_MAX callers hold one each at the same time
        # (one slot short, the last would wait past the timeout and fail with 503)
        all_held = asyncio.Barrier(POOL_MAX)
        async with asyncio.TaskGroup() as group:  # a failure cancels the callers left at the barrier
            callers = [group.create_task(backend_pid_held_until(all_held)) for _ in range(POOL_MAX)]
    assert len({caller.result() for caller in callers}) == POOL_MAX


async def test_connections_run_in_utc_and_load_timestamps_as_utc(app_env):
    async with db.connection() as conn:
        zone, now = await (await conn.execute("SELECT current_setting('TimeZone'), now()")).fetchone()
    assert zone == "UTC" and now.tzinfo is UTC
