"""The catalog cache against a real Redis: hit/miss/TTL, single-flight in one process and across
processes, no stale value after invalidate (also when a load races it), broad tags, and a
Redis that is killed or frozen mid-test (a throwaway redis-server on a free port)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid

import pytest

from tests.support import free_port

TTL = 60.0


@pytest.fixture
async def cache(monkeypatch):
    """shared.cache.store on the running Redis (REDIS_URL, else 127.0.0.1:6379) with its own prefix.
    Needs no database: only the settings the model requires are filled in."""
    from shared.cache import store as module
    from shared.platform.config import reset_settings

    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    env = {
        "SOUQ_ENV": "test",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "REDIS_KEY_PREFIX": prefix,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgresql://unused@127.0.0.1/x",
        "AUTH_ISSUER": "test",
        "AUTH_AUDIENCE": "test",
        "AUTH_JWKS_URL": "http://localhost/jwks.json",
        "CACHE_LOCK_TTL_MS": "2000",
        "CACHE_BREAKER_FAILURES": "3",
        "CACHE_BREAKER_COOLDOWN_SECONDS": "0.3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    await module.close_cache()
    reset_settings()
    yield module
    await _delete_prefix(module, prefix)  # tag generations have no TTL: leave nothing behind
    await module.close_cache()
    reset_settings()


async def _delete_prefix(module, prefix: str) -> None:
    try:
        client = module.redis_client()
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    except Exception:  # noqa: BLE001 - the throwaway server may be gone by now
        pass


class Database:
    """Stands in for PostgreSQL: a value per key, and how often each key was read."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.values: dict[str, bytes | None] = {}
        self.reads: dict[str, int] = {}
        self.delay = delay

    def loader(self, name: str):
        async def load() -> bytes | None:
            self.reads[name] = self.reads.get(name, 0) + 1
            value = self.values.get(name)  # read before the delay, like a snapshot
            await asyncio.sleep(self.delay)
            return value

        return load


def product_reader(cache, db: Database, name: str = "p1"):
    """(key, read): `read()` is the catalog's cached read of product `name`."""
    key = cache.versioned_key("product", name)

    async def read() -> bytes | None:
        return await cache.get_or_load(key, ttl=TTL, load=db.loader(name), tags=[f"product:{name}"])

    return key, read


async def test_a_miss_loads_and_stores_with_the_ttl_and_a_hit_does_not_load(cache):
    db = Database()
    db.values["p1"] = b'{"name": "Panadol"}'
    key, read = product_reader(cache, db)
    assert await read() == db.values["p1"]
    pttl = await cache.redis_client().pttl(key)
    assert TTL * 1000 - 2000 < pttl <= TTL * 1000
    assert await read() == db.values["p1"] and db.reads["p1"] == 1


async def test_not_found_is_returned_and_not_cached(cache):
    db = Database()
    key = cache.versioned_key("product", "missing")
    for _ in range(3):
        assert await cache.get_or_load(key, ttl=TTL, load=db.loader("missing"), tags=["product:missing"]) is None
    assert db.reads["missing"] == 3
    client = cache.redis_client()
    assert await client.exists(key) == 0
    assert await client.exists(cache.key("lock", "v1", "product", "missing")) == 0  # lock released


@pytest.mark.parametrize("layer", ["get_or_load", "_fetch"])
async def test_fifty_concurrent_misses_on_one_key_load_once(cache, layer):
    # `_fetch` is one caller without the in-process layer: 50 of them behave like 50 processes,
    # so only the Redis lock stands between them and 50 loads.
    db = Database(delay=0.05)
    db.values["hot"] = b"hot product"
    key, read = cache.versioned_key("product", "hot"), getattr(cache, layer)
    results = await asyncio.gather(
        *[read(key, ttl=TTL, load=db.loader("hot"), tags=["product:hot"]) for _ in range(50)]
    )
    assert results == [b"hot product"] * 50 and db.reads["hot"] == 1


async def test_a_second_os_process_waits_for_the_lock_holders_value(cache):
    db = Database(delay=1.5)  # long enough for the other interpreter to start and ask
    db.values["hot"] = b"from process one"
    key = cache.versioned_key("product", "hot")
    script = (
        "import asyncio\nfrom shared.cache import store as cache\n"
        "async def load():\n    print('LOADED', flush=True); return b'from process two'\n"
        f"async def main():\n    print((await cache.get_or_load({key!r}, ttl=60, load=load,"
        " tags=['product:hot'])).decode()); await cache.close_cache()\n"
        "asyncio.run(main())\n"
    )
    mine = asyncio.create_task(cache.get_or_load(key, ttl=TTL, load=db.loader("hot"), tags=["product:hot"]))
    await asyncio.sleep(0.05)  # this process holds the lock now
    other = await asyncio.create_subprocess_exec(
        ".venv/bin/python", "-c", script, stdout=subprocess.PIPE, env=os.environ | {"PYTHONPATH": "."}
    )
    out, _ = await other.communicate()
    assert await mine == b"from process one" and db.reads["hot"] == 1
    assert out.decode().split() == ["from", "process", "one"]  # waited, never ran its own load


async def test_a_waiter_loads_itself_when_the_lock_holder_dies(cache, monkeypatch):
    monkeypatch.setenv("CACHE_LOCK_TTL_MS", "300")
    from shared.platform.config import reset_settings

    reset_settings()
    key = cache.versioned_key("product", "orphan")
    await cache.redis_client().set(cache.key("lock", "v1", "product", "orphan"), "dead-owner", px=300)
    db = Database()
    db.values["orphan"] = b"loaded by the waiter"
    started = time.monotonic()
    assert await cache.get_or_load(key, ttl=TTL, load=db.loader("orphan")) == b"loaded by the waiter"
    assert 0.2 < time.monotonic() - started < 1.0 and db.reads["orphan"] == 1


async def test_a_read_after_invalidate_sees_the_new_value(cache):
    db = Database()
    db.values["p1"] = b"old"
    _, read = product_reader(cache, db)
    assert await read() == b"old"
    db.values["p1"] = b"new"  # the write commits…
    await cache.invalidate("product:p1")  # …then invalidates
    assert await read() == b"new" and await read() == b"new"
    assert db.reads["p1"] == 2


async def test_a_load_that_began_before_invalidate_cannot_store_its_stale_value(cache):
    db = Database(delay=0.2)
    db.values["p1"] = b"old"
    _, read = product_reader(cache, db)
    slow = asyncio.create_task(read())
    await asyncio.sleep(0.05)  # the slow load has read "old" and is still running
    db.values["p1"] = b"new"
    await cache.invalidate("product:p1")
    assert await read() == b"new"  # a read after the write does not join the older one
    assert await slow == b"old"  # it was concurrent with the write: either answer is fair
    assert await read() == b"new" and db.reads["p1"] == 2


async def test_a_stale_store_is_refused_even_when_the_value_key_is_empty(cache):
    db = Database(delay=0.2)
    db.values["p1"] = b"old"
    key, _ = product_reader(cache, db)
    slow = asyncio.create_task(cache._fetch(key, ttl=TTL, load=db.loader("p1"), tags=["product:p1"]))
    await asyncio.sleep(0.05)
    await cache.invalidate("product:p1")
    assert await slow == b"old"
    assert await cache.redis_client().exists(key) == 0  # the store script refused it


async def test_invalidating_a_broad_tag_reloads_every_key_under_it(cache):
    db = Database()
    pages = [f"listing-{i}" for i in range(30)]
    for name in pages:
        db.values[name] = b"page"

    async def read_all() -> None:
        for name in pages:
            tags = ["listings", "product:p7"] if name == "listing-7" else ["listings"]
            await cache.get_or_load(cache.versioned_key("listing", name), ttl=TTL, load=db.loader(name), tags=tags)

    await read_all()
    await read_all()
    assert all(db.reads[name] == 1 for name in pages)
    await cache.invalidate("product:p7")  # a narrow tag reloads only what carries it
    await read_all()
    assert [name for name in pages if db.reads[name] == 2] == ["listing-7"]
    await cache.invalidate("listings")  # one write, however many keys carry the tag
    await read_all()
    assert db.reads == {name: 3 if name == "listing-7" else 2 for name in pages}


async def test_an_evicted_tag_generation_never_revives_an_old_value(cache):
    db = Database()
    db.values["p1"] = b"v1"
    _, read = product_reader(cache, db)
    await read()
    await cache.redis_client().delete(cache.key("tag", "product:p1"))  # as if Redis evicted it
    assert await read() == b"v1" and db.reads["p1"] == 2


class ThrowawayRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            assert time.monotonic() < deadline, "throwaway redis-server did not start"
            time.sleep(0.02)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def freeze(self, frozen: bool) -> None:  # SIGSTOP: connections open, nothing answers (slow Redis)
        self.process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)


@pytest.fixture
async def throwaway(cache, monkeypatch):
    from shared.platform.config import reset_settings

    server = ThrowawayRedis()
    server.start()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{server.port}/0")
    reset_settings()
    await cache.close_cache()
    yield server
    server.freeze(False)
    await cache.close_cache()
    server.kill()


async def test_redis_killed_mid_test_means_bypass_then_breaker_then_recovery(cache, throwaway, monkeypatch):
    db = Database()
    db.values["p1"] = b"from db"
    _, read = product_reader(cache, db)
    assert await read() == b"from db" and await read() == b"from db" and db.reads["p1"] == 1
    throwaway.kill()
    for _ in range(3):
        assert await read() == b"from db"  # no exception: PostgreSQL answers
    assert cache.breaker_state() == "open" and db.reads["p1"] == 4
    attempts = _count_client_use(cache, monkeypatch)
    started = time.monotonic()
    assert [await read() for _ in range(100)] == [b"from db"] * 100
    assert attempts() == 0 and time.monotonic() - started < 0.1  # Redis not called at all
    await cache.invalidate("product:p1")  # a writer meets a dead Redis: a warning, no error
    throwaway.start()  # same port, empty
    await asyncio.sleep(0.35)  # the cooldown (0.3 s)
    assert cache.breaker_state() == "half_open"
    assert await read() == b"from db" and cache.breaker_state() == "closed"
    reads = db.reads["p1"]
    assert await read() == b"from db" and db.reads["p1"] == reads  # cached again


def _count_client_use(cache, monkeypatch):
    calls = 0
    real = cache.redis_client

    def counting():
        nonlocal calls
        calls += 1
        return real()

    monkeypatch.setattr(cache, "redis_client", counting)
    return lambda: calls


async def test_a_frozen_redis_costs_at_most_the_timeout_then_nothing(cache, throwaway):
    db = Database()
    db.values["p1"] = b"from db"
    _, read = product_reader(cache, db)
    await read()
    throwaway.freeze(True)
    for _ in range(3):
        started = time.monotonic()
        assert await read() == b"from db"
        assert time.monotonic() - started < 0.3  # REDIS_TIMEOUT_MS is 100
    assert cache.breaker_state() == "open"
    started = time.monotonic()
    for _ in range(100):
        await read()
    assert time.monotonic() - started < 0.1


async def test_an_invalidation_redis_missed_is_applied_before_this_process_reads_again(cache, monkeypatch):
    db = Database()
    db.values["p1"] = b"old"
    _, read = product_reader(cache, db)
    await read()
    db.values["p1"] = b"new"
    real = cache.redis_client

    class LosesOneMset:  # Redis drops this one write (a blip), then is fine again
        def __getattr__(self, name):
            return getattr(real(), name)

        async def mset(self, _mapping):
            raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(cache, "redis_client", LosesOneMset)
    await cache.invalidate("product:p1")  # no exception; kept pending
    monkeypatch.setattr(cache, "redis_client", real)
    assert await read() == b"new" and db.reads["p1"] == 2
