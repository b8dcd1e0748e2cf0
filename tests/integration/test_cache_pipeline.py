"""Auto-pipelined cache hits (shared/cache/pipeline.py) against a real Redis: concurrent hits
share round trips yet each gets its own value; a cancelled reader costs the others nothing;
a Redis that dies under a batch means every reader in it falls back to the database.
Fixtures `cache_store` and `throwaway_redis` are in tests/conftest.py."""

from __future__ import annotations

import asyncio

from shared.cache.pipeline import ReadPipeline
from tests.support import FakeDatabase, batch_sizes, product_reader

READERS = 40


async def cached_readers(cache_store, db: FakeDatabase, count: int):
    readers = []
    for n in range(count):
        db.values[f"p{n}"] = f'{{"name": "product {n}"}}'.encode()
        readers.append(product_reader(cache_store, db, f"p{n}")[1])
    for read in readers:  # fill the cache one by one: the reads under test are all hits
        await read()
    return readers


async def test_concurrent_hits_share_round_trips_and_each_gets_its_own_value(cache_store, monkeypatch):
    db = FakeDatabase()
    readers = await cached_readers(cache_store, db, READERS)
    sizes = batch_sizes(monkeypatch, ReadPipeline, "_execute")
    values = await asyncio.gather(*(read() for read in readers))
    assert values == [db.values[f"p{n}"] for n in range(READERS)]
    assert all(count == 1 for count in db.reads.values())  # hits: nothing loaded again
    assert sum(sizes) == READERS and len(sizes) < READERS


async def test_a_lone_hit_is_sent_at_once_and_sequential_hits_are_not_held_back(cache_store, monkeypatch):
    db = FakeDatabase()
    readers = await cached_readers(cache_store, db, 3)
    sizes = batch_sizes(monkeypatch, ReadPipeline, "_execute")
    for read in readers:
        await read()
    assert sizes == [1, 1, 1]


async def test_a_cancelled_reader_does_not_disturb_the_others_in_its_batch(cache_store, monkeypatch):
    db = FakeDatabase()
    readers = await cached_readers(cache_store, db, 10)
    sizes = batch_sizes(monkeypatch, ReadPipeline, "_execute")
    tasks = [asyncio.create_task(read()) for read in readers]
    await asyncio.sleep(0)  # one turn, not a wait: every reader has queued its MGET, none is sent
    tasks[3].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[3], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != 3] == [db.values[f"p{n}"] for n in range(10) if n != 3]
    assert sum(sizes) == 10


async def test_redis_dying_under_a_batch_sends_every_reader_to_the_database(cache_store, throwaway_redis):
    db = FakeDatabase()
    readers = await cached_readers(cache_store, db, 20)
    throwaway_redis.kill()
    values = await asyncio.gather(*(read() for read in readers))
    assert values == [db.values[f"p{n}"] for n in range(20)]
    assert all(count == 2 for count in db.reads.values())  # each read the database once more
    assert cache_store.breaker_state() == "open"
