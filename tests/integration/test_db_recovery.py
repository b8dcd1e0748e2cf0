"""A pool whose server restarts recovers by itself: 503 + Retry-After while it is down, at
once rather than after the pool timeout, success on the first request once it is back. Uses
a throwaway PostgreSQL cluster (the machine's server binaries, scripts.pg_cluster) that this
test starts, stops and restarts, never the shared one."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from pathlib import Path

import pytest

from scripts.migrate import migrate_up
from scripts.pg_cluster import LocalCluster, free_port
from tests.support import bearer, call

pytestmark = pytest.mark.slow
POOL_TIMEOUT_SECONDS = 30


@pytest.fixture
def throwaway_postgres():
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="souq-pg-")), free_port())
    cluster.init().start()
    yield cluster.url, cluster.control
    with contextlib.suppress(RuntimeError):  # a test may leave it stopped
        cluster.control("-m", "immediate", "stop")
    shutil.rmtree(cluster.datadir, ignore_errors=True)


@pytest.mark.parametrize("requests_during_outage", [4, 0])
async def test_pool_recovers_after_postgres_restart(app_env, monkeypatch, throwaway_postgres, requests_during_outage):
    from shared.platform.config import reset_settings

    url, control = throwaway_postgres
    migrate_up(url)
    monkeypatch.setenv("DATABASE_URL", url)
    # A pool timeout far longer than the outage's requests may take: a 503 that waited for it
    # runs into the test's deadline instead (shared.data.pool_gate answers while down at once).
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", str(POOL_TIMEOUT_SECONDS))
    reset_settings()
    headers = bearer(sub="survivor")
    # Several concurrent requests leave several idle connections, all dead after the restart.
    warm = await asyncio.gather(*(call("get_me", "GET", "me", headers=headers) for _ in range(6)))
    assert {status for status, _, _ in warm} == {200}

    control("-m", "fast", "stop")
    async with asyncio.timeout(POOL_TIMEOUT_SECONDS - 5):
        for _ in range(requests_during_outage):
            status, response_headers, body = await call("get_me", "GET", "me", headers=headers)
            assert status == 503, body
            assert response_headers["retry-after"] == "5" and body["dependency"] == "postgresql"
            assert response_headers["content-type"].startswith("application/problem+json")

    control("restart")  # same options as the first start (postmaster.opts)
    for _ in range(4):  # the first request after the restart already succeeds, and all after it
        status, _, body = await call("get_me", "GET", "me", headers=headers)
        assert status == 200 and body["id"] == "survivor"


async def test_callers_waiting_for_a_connection_get_their_503_when_the_server_goes(
    app_env, monkeypatch, throwaway_postgres
):
    from shared.data import db
    from shared.platform.config import reset_settings
    from shared.platform.errors import DependencyUnavailable

    url, control = throwaway_postgres
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_POOL_MAX", "2")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", str(POOL_TIMEOUT_SECONDS))
    reset_settings()
    release, held = asyncio.Event(), [asyncio.Event(), asyncio.Event()]

    async def holder(taken: asyncio.Event) -> None:
        async with db.connection() as conn:
            taken.set()
            await release.wait()
            await conn.execute("SELECT 1")  # the server is gone: this marks the pool down

    async def waiter() -> None:
        async with db.connection():  # both connections are held: it waits
            pass

    holders = [asyncio.create_task(holder(taken)) for taken in held]
    await asyncio.gather(*(taken.wait() for taken in held))
    waiting = asyncio.create_task(waiter())
    control("-m", "fast", "stop")
    release.set()
    # Well before the pool timeout: the waiter is released when the holders' queries fail.
    async with asyncio.timeout(POOL_TIMEOUT_SECONDS - 5):
        outcomes = await asyncio.gather(*holders, waiting, return_exceptions=True)
    assert all(isinstance(outcome, DependencyUnavailable) for outcome in outcomes), outcomes
