"""The cache's pure parts without Redis: the breaker state machine (fake clock), the key layout,
in-process single-flight, and bypass when every Redis call fails (a fake client)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.cache.breaker import CircuitBreaker
from tests.support import FakeClock, set_after_calls

SAFETY_SECONDS = 10  # only turns a hang into a failure


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failures=3, cooldown=5.0, clock=clock)


def test_breaker_opens_after_consecutive_failures_only(breaker):
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # resets the count: failures must be consecutive
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()


def test_breaker_half_opens_after_cooldown_and_lets_one_trial_through(breaker, clock):
    for _ in range(3):
        breaker.record_failure()
    clock.now += 4.9
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.allow() is True
    assert [breaker.allow() for _ in range(5)] == [False] * 5  # the trial is still running
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


def test_a_failed_trial_reopens_for_a_whole_new_cooldown(breaker, clock):
    for _ in range(3):
        breaker.record_failure()
    clock.now += 5
    assert breaker.allow()
    breaker.record_failure()  # one failure is enough in half-open
    assert breaker.state == "open"
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()


def test_an_abandoned_trial_lets_the_next_caller_try(breaker, clock):
    for _ in range(3):
        breaker.record_failure()
    clock.now += 5
    assert breaker.allow() and not breaker.allow()
    breaker.abandon()
    assert breaker.allow()


@pytest.fixture
def cache_settings(monkeypatch):
    from shared.cache import store as cache
    from shared.platform.config import reset_settings

    for name, value in {
        "SOUQ_ENV": "test",
        "DATABASE_URL": "postgresql://unused@127.0.0.1/unused",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "REDIS_KEY_PREFIX": "unit:",
        "AUTH_ISSUER": "unit",
        "AUTH_AUDIENCE": "unit",
        "AUTH_JWKS_URL": "http://localhost/jwks",
        "CACHE_BREAKER_FAILURES": "3",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield cache
    cache._breaker, cache._scripts = None, None
    cache._flights.clear()
    cache._pending_tags.clear()
    reset_settings()


def test_key_layout_carries_prefix_schema_version_lock_and_tags(cache_settings):
    from shared.cache.scripts import cache_keys

    value = cache_settings.versioned_key("product", "42")
    assert value == "unit:v1:product:42"
    assert cache_keys("unit:", value, ["product:42", "listings"]) == [
        "unit:v1:product:42",
        "unit:lock:v1:product:42",
        "unit:tag:product:42",
        "unit:tag:listings",
    ]


class DeadRedis:
    """Stands in for the client: every script call, MGET and MSET fails as a dead Redis does."""

    def __init__(self) -> None:
        self.attempts = 0

    def register_script(self, _source: str):
        async def run(**_kwargs):
            self.attempts += 1
            raise RedisConnectionError("connection refused")

        return run

    async def mset(self, _mapping):
        self.attempts += 1
        raise RedisConnectionError("connection refused")

    async def mget(self, _keys):
        self.attempts += 1
        raise RedisConnectionError("connection refused")


async def test_redis_failures_bypass_to_load_and_open_the_breaker(cache_settings, monkeypatch, clock):
    cache = cache_settings
    dead = DeadRedis()
    monkeypatch.setattr(cache, "redis_client", lambda: dead)
    monkeypatch.setattr(cache, "_breaker", CircuitBreaker(failures=3, cooldown=5, clock=clock))

    async def load():
        return b"from-db"

    results = [await cache.get_or_load(f"unit:k{i}", ttl=60, load=load) for i in range(10)]
    assert results == [b"from-db"] * 10
    assert dead.attempts == 3 and cache.breaker_state() == "open"  # no attempt once open
    clock.now += 5
    assert cache.breaker_state() == "half_open"
    assert await cache.get_or_load("unit:k", ttl=60, load=load) == b"from-db"
    assert dead.attempts == 4 and cache.breaker_state() == "open"  # the one trial failed


async def test_invalidate_with_redis_dead_warns_and_keeps_serving_uncached(cache_settings, monkeypatch, caplog):
    cache = cache_settings
    dead = DeadRedis()
    monkeypatch.setattr(cache, "redis_client", lambda: dead)
    monkeypatch.setattr(logging.getLogger("souq"), "propagate", True)  # configure_logging turns it off
    with caplog.at_level("WARNING", logger="souq.cache"):
        await cache.invalidate("product:1")  # no exception
    assert any("product:1" in r.getMessage() for r in caplog.records)
    assert cache._pending_tags == {"product:1"}


def fetch_held_until_joined(cache, monkeypatch, joiners: int) -> list[str]:
    """Replaces `_fetch` by one that finishes only once `joiners` callers have joined its flight;
    returns the keys it was called with."""
    fetched: list[str] = []
    all_joined = asyncio.Event()
    set_after_calls(monkeypatch, cache, "_join", joiners, all_joined)

    async def fake_fetch(key, *, ttl, load, tags):
        fetched.append(key)
        await all_joined.wait()
        return await load()

    monkeypatch.setattr(cache, "_fetch", fake_fetch)
    return fetched


async def test_concurrent_callers_in_one_process_share_one_fetch(cache_settings, monkeypatch):
    cache = cache_settings
    fetched = fetch_held_until_joined(cache, monkeypatch, 49)

    async def load():
        return b"v"

    async with asyncio.timeout(SAFETY_SECONDS):
        results = await asyncio.gather(*[cache.get_or_load("unit:k", ttl=1, load=load) for _ in range(50)])
    assert results == [b"v"] * 50 and fetched == ["unit:k"] and cache._flights == {}


async def test_a_failing_load_fails_every_waiter_and_is_not_remembered(cache_settings, monkeypatch):
    cache = cache_settings
    fetch_held_until_joined(cache, monkeypatch, 4)

    async def load():
        raise LookupError("database said no")

    async with asyncio.timeout(SAFETY_SECONDS):
        results = await asyncio.gather(
            *[cache.get_or_load("unit:k", ttl=1, load=load) for _ in range(5)], return_exceptions=True
        )
    assert all(isinstance(r, LookupError) for r in results) and cache._flights == {}


async def test_a_cancelled_leader_does_not_cancel_its_waiters(cache_settings, monkeypatch):
    cache = cache_settings
    leading, joined = asyncio.Event(), asyncio.Event()
    set_after_calls(monkeypatch, cache, "_join", 1, joined)

    async def fake_fetch(key, *, ttl, load, tags):
        leading.set()
        await asyncio.Event().wait()  # never finishes: only the cancel ends it

    monkeypatch.setattr(cache, "_fetch", fake_fetch)

    async def load():
        return b"waiter loaded"

    async with asyncio.timeout(SAFETY_SECONDS):
        leader = asyncio.create_task(cache.get_or_load("unit:k", ttl=1, load=load))
        await leading.wait()
        waiter = asyncio.create_task(cache.get_or_load("unit:k", ttl=1, load=load))
        await joined.wait()
        leader.cancel()
        assert await waiter == b"waiter loaded"
        with pytest.raises(asyncio.CancelledError):
            await leader
