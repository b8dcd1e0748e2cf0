"""The catalog cache against a real Redis: hit/miss/TTL, single-flight in one process and across
processes, no stale value after invalidate (also when a load races it), broad tags, and a
Redis that is killed or frozen mid-test (a throwaway redis-server on a free port).

Nothing here waits for time to pass to order events: a load that must still be running is
held on an event, and callers are known to wait once they have called the waiting function.
Fixtures `cache_store` and `throwaway_redis` are in tests/conftest.py."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest

from shared.platform.config import reset_settings
from tests.support import FakeClock, FakeDatabase, product_reader, set_after_calls

TTL = 60.0
SAFETY_SECONDS = 30  # only turns a hang into a failure


async def redis_ms(client) -> int:
    """Redis's own clock, in ms (PTTL counts on it, not on ours)."""
    seconds, micros = await client.time()
    return seconds * 1000 + micros // 1000


async def test_a_miss_loads_and_stores_with_the_ttl_and_a_hit_does_not_load(cache_store):
    db = FakeDatabase()
    db.values["p1"] = b'{"name": "Panadol"}'
    key, read = product_reader(cache_store, db)
    client = cache_store.redis_client()
    before = await redis_ms(client)
    assert await read() == db.values["p1"]
    pttl, after = await client.pttl(key), await redis_ms(client)
    # stored between `before` and `after` with the full TTL, however long that took (+1: ms rounding)
    assert TTL * 1000 - (after - before) - 1 <= pttl <= TTL * 1000
    assert await read() == db.values["p1"] and db.reads["p1"] == 1


async def test_not_found_is_returned_and_not_cached(cache_store):
    db = FakeDatabase()
    key = cache_store.versioned_key("product", "missing")
    for _ in range(3):
        assert await cache_store.get_or_load(key, ttl=TTL, load=db.loader("missing"), tags=["product:missing"]) is None
    assert db.reads["missing"] == 3
    client = cache_store.redis_client()
    assert await client.exists(key) == 0
    assert await client.exists(cache_store.key("lock", "v1", "product", "missing")) == 0  # lock released


@pytest.mark.parametrize(("layer", "waits_in"), [("get_or_load", "_join"), ("_fetch", "_wait_for_other")])
async def test_fifty_concurrent_misses_on_one_key_load_once(cache_store, monkeypatch, layer, waits_in):
    # `_fetch` is one caller without the in-process layer: 50 of them behave like 50 processes,
    # so only the Redis lock stands between them and 50 loads. The load is held until the 49
    # others are waiting (joined the flight, or found the lock held), so none can come late.
    db = FakeDatabase(held=True)
    db.values["hot"] = b"hot product"
    set_after_calls(monkeypatch, cache_store, waits_in, 49, db.release)
    key, read = cache_store.versioned_key("product", "hot"), getattr(cache_store, layer)
    async with asyncio.timeout(SAFETY_SECONDS):
        results = await asyncio.gather(
            *[read(key, ttl=TTL, load=db.loader("hot"), tags=["product:hot"]) for _ in range(50)]
        )
    assert results == [b"hot product"] * 50 and db.reads["hot"] == 1


# The other process reports when it has found the lock held and starts waiting for the value.
OTHER_PROCESS = """
import asyncio
from shared.cache import store as cache

async def load():
    print("LOADED", flush=True)
    return b"from process two"

real_wait = cache._wait_for_other

async def waiting(keys):
    print("WAITING", flush=True)
    return await real_wait(keys)

cache._wait_for_other = waiting

async def main():
    print((await cache.get_or_load(KEY, ttl=60, load=load, tags=["product:hot"])).decode(), flush=True)
    await cache.close_cache()

asyncio.run(main())
"""


async def test_a_second_os_process_waits_for_the_lock_holders_value(cache_store, monkeypatch):
    monkeypatch.setenv("CACHE_LOCK_TTL_MS", "60000")  # however slowly the other interpreter starts
    reset_settings()
    db = FakeDatabase(held=True)
    db.values["hot"] = b"from process one"
    key = cache_store.versioned_key("product", "hot")
    async with asyncio.timeout(SAFETY_SECONDS):
        mine = asyncio.create_task(cache_store.get_or_load(key, ttl=TTL, load=db.loader("hot"), tags=["product:hot"]))
        await db.load_started.wait()  # this process holds the lock now
        other = await asyncio.create_subprocess_exec(
            ".venv/bin/python",
            "-c",
            OTHER_PROCESS.replace("KEY", repr(key)),
            stdout=subprocess.PIPE,
            env=os.environ | {"PYTHONPATH": "."},
        )
        assert other.stdout is not None
        assert await other.stdout.readline() == b"WAITING\n"
        db.release.set()
        out, _ = await other.communicate()
    assert await mine == b"from process one" and db.reads["hot"] == 1
    assert out.decode().split() == ["from", "process", "one"]  # waited, never ran its own load


async def test_a_waiter_loads_itself_when_the_lock_holder_dies(cache_store, monkeypatch):
    monkeypatch.setenv("CACHE_LOCK_TTL_MS", "300")
    reset_settings()
    client, key = cache_store.redis_client(), cache_store.versioned_key("product", "orphan")
    lock = cache_store.key("lock", "v1", "product", "orphan")
    await client.set(lock, "dead-owner", px=300)  # its owner died: nobody will ever store the value
    locks_seen_by_load = []

    async def load() -> bytes:
        locks_seen_by_load.append(await client.get(lock))
        return b"loaded by the waiter"

    async with asyncio.timeout(SAFETY_SECONDS):
        assert await cache_store.get_or_load(key, ttl=TTL, load=load) == b"loaded by the waiter"
    assert locks_seen_by_load == [None]  # it waited for the dead owner's lock to expire, then loaded


async def test_a_read_after_invalidate_sees_the_new_value(cache_store):
    db = FakeDatabase()
    db.values["p1"] = b"old"
    _, read = product_reader(cache_store, db)
    assert await read() == b"old"
    db.values["p1"] = b"new"  # the write commits…
    await cache_store.invalidate("product:p1")  # …then invalidates
    assert await read() == b"new" and await read() == b"new"
    assert db.reads["p1"] == 2


async def test_a_load_that_began_before_invalidate_cannot_store_its_stale_value(cache_store, monkeypatch):
    db = FakeDatabase(held=True)
    db.values["p1"] = b"old"
    _, read = product_reader(cache_store, db)
    fresh_waits = asyncio.Event()
    set_after_calls(monkeypatch, cache_store, "_wait_for_other", 1, fresh_waits)
    async with asyncio.timeout(SAFETY_SECONDS):
        slow = asyncio.create_task(read())
        await db.load_started.wait()  # the slow load has read "old" and is still running
        db.values["p1"] = b"new"
        await cache_store.invalidate("product:p1")
        fresh = asyncio.create_task(read())  # a read after the write does not join the older one…
        await fresh_waits.wait()  # …it finds the slow load's lock and waits for it
        db.release.set()
        assert await fresh == b"new"  # the slow load could not store "old": the fresh read loaded
        assert await slow == b"old"  # it was concurrent with the write: either answer is fair
    assert await read() == b"new" and db.reads["p1"] == 2


async def test_a_stale_store_is_refused_even_when_the_value_key_is_empty(cache_store):
    db = FakeDatabase(held=True)
    db.values["p1"] = b"old"
    key, _ = product_reader(cache_store, db)
    async with asyncio.timeout(SAFETY_SECONDS):
        slow = asyncio.create_task(cache_store._fetch(key, ttl=TTL, load=db.loader("p1"), tags=["product:p1"]))
        await db.load_started.wait()
        await cache_store.invalidate("product:p1")
        db.release.set()
        assert await slow == b"old"
    assert await cache_store.redis_client().exists(key) == 0  # the store script refused it


async def test_invalidating_a_broad_tag_reloads_every_key_under_it(cache_store):
    db = FakeDatabase()
    pages = [f"listing-{i}" for i in range(30)]
    for name in pages:
        db.values[name] = b"page"

    async def read_all() -> None:
        for name in pages:
            tags = ["listings", "product:p7"] if name == "listing-7" else ["listings"]
            key = cache_store.versioned_key("listing", name)
            await cache_store.get_or_load(key, ttl=TTL, load=db.loader(name), tags=tags)

    await read_all()
    await read_all()
    assert all(db.reads[name] == 1 for name in pages)
    await cache_store.invalidate("product:p7")  # a narrow tag reloads only what carries it
    await read_all()
    assert [name for name in pages if db.reads[name] == 2] == ["listing-7"]
    await cache_store.invalidate("listings")  # one write, however many keys carry the tag
    await read_all()
    assert db.reads == {name: 3 if name == "listing-7" else 2 for name in pages}


async def test_an_evicted_tag_generation_never_revives_an_old_value(cache_store):
    db = FakeDatabase()
    db.values["p1"] = b"v1"
    _, read = product_reader(cache_store, db)
    await read()
    await cache_store.redis_client().delete(cache_store.key("tag", "product:p1"))  # as if Redis evicted it
    assert await read() == b"v1" and db.reads["p1"] == 2


async def test_redis_killed_mid_test_means_bypass_then_breaker_then_recovery(cache_store, throwaway_redis, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(cache_store, "breaker_clock", clock)  # read when the breaker is made, below
    db = FakeDatabase()
    db.values["p1"] = b"from db"
    _, read = product_reader(cache_store, db)
    assert await read() == b"from db" and await read() == b"from db" and db.reads["p1"] == 1
    throwaway_redis.kill()
    for _ in range(3):
        assert await read() == b"from db"  # no exception: PostgreSQL answers
    assert cache_store.breaker_state() == "open" and db.reads["p1"] == 4
    attempts = count_client_use(cache_store, monkeypatch)
    assert [await read() for _ in range(100)] == [b"from db"] * 100
    assert attempts() == 0  # Redis not called at all while the breaker is open
    await cache_store.invalidate("product:p1")  # a writer meets a dead Redis: a warning, no error
    throwaway_redis.start()  # same port, empty
    clock.now += 0.2  # within the cooldown (CACHE_BREAKER_COOLDOWN_SECONDS = 0.3)
    assert cache_store.breaker_state() == "open"
    clock.now += 0.2  # past it
    assert cache_store.breaker_state() == "half_open"
    assert await read() == b"from db" and cache_store.breaker_state() == "closed"
    reads = db.reads["p1"]
    assert await read() == b"from db" and db.reads["p1"] == reads  # cached again


def count_client_use(cache_store, monkeypatch):
    calls = 0
    real = cache_store.redis_client

    def counting():
        nonlocal calls
        calls += 1
        return real()

    monkeypatch.setattr(cache_store, "redis_client", counting)
    return lambda: calls


async def test_a_frozen_redis_costs_at_most_the_timeout_then_nothing(cache_store, throwaway_redis, monkeypatch):
    db = FakeDatabase()
    db.values["p1"] = b"from db"
    _, read = product_reader(cache_store, db)
    await read()
    throwaway_redis.freeze(True)
    for _ in range(3):
        async with asyncio.timeout(SAFETY_SECONDS):  # a frozen Redis never answers: the timeout ends it
            assert await read() == b"from db"
    assert cache_store.breaker_state() == "open" and db.reads["p1"] == 4
    attempts = count_client_use(cache_store, monkeypatch)
    assert [await read() for _ in range(100)] == [b"from db"] * 100
    assert attempts() == 0  # then nothing: not one more call waits on the frozen Redis


async def test_an_invalidation_redis_missed_is_applied_before_this_process_reads_again(cache_store, monkeypatch):
    db = FakeDatabase()
    db.values["p1"] = b"old"
    _, read = product_reader(cache_store, db)
    await read()
    db.values["p1"] = b"new"
    real = cache_store.redis_client

    class LosesOneMset:  # Redis drops this one write (a blip), then is fine again
        def __getattr__(self, name):
            return getattr(real(), name)

        async def mset(self, _mapping):
            raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(cache_store, "redis_client", LosesOneMset)
    await cache_store.invalidate("product:p1")  # no exception; kept pending
    monkeypatch.setattr(cache_store, "redis_client", real)
    assert await read() == b"new" and db.reads["p1"] == 2
