"""The way into a pool: one slot per pooled connection, and what a caller waits while
PostgreSQL is down.

A slot is taken before the pool is asked. Waiting here costs a future; waiting inside
psycopg_pool costs a task and a timer per waiter, which at 32 concurrent requests on a
10-connection pool was a third of a list call's CPU (bench/README.md).

While the server is known to be down (a connect failed, a pooled connection was lost) a caller
waits DOWN_WAIT_SECONDS at most instead of the pool timeout, and callers already waiting are
released when the failure is seen: the 503 comes at once, not after DATABASE_POOL_TIMEOUT_SECONDS
(docs/loadtest.md, the PostgreSQL fault). The first connection opened, or a connection used
without error, ends it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

# Long enough for a connection the pool is opening right now (a local connect takes
# milliseconds), short enough that a request fails fast while nothing can connect.
DOWN_WAIT_SECONDS = 0.5

_gates: dict[str, asyncio.Semaphore] = {}
_down: set[str] = set()  # names of the pools whose server is down
_waits: dict[str, set[asyncio.Timeout]] = {}  # callers waiting for a slot or a connection


def add_gate(name: str, slots: int) -> None:
    _gates[name] = asyncio.Semaphore(slots)
    _down.discard(name)
    _waits[name] = set()


def reset() -> None:
    _gates.clear()
    _down.clear()
    _waits.clear()


def is_down(name: str) -> bool:
    return name in _down


def mark_down(name: str) -> None:
    """The server cannot be reached: waiters give up now, later callers soon.

    Cancelling a waiter is safe wherever it waits: before the gate, in the pool's queue or its
    back-off between checks. Handing back a connection whose check failed never suspends (a
    broken connection is dropped without I/O), so no waiter is cancelled halfway through it."""
    _down.add(name)
    now = asyncio.get_running_loop().time()
    for wait in list(_waits.get(name, ())):
        if not wait.expired():  # one already expiring cannot be moved (and needs not be)
            wait.reschedule(now)


def mark_up(name: str) -> None:
    _down.discard(name)


@asynccontextmanager
async def checkout(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection]:
    """`pool.connection()` behind the pool's gate; one deadline covers both waits."""
    from psycopg_pool import PoolTimeout

    limit = DOWN_WAIT_SECONDS if pool.name in _down else pool.timeout
    gate, waits = _gates[pool.name], _waits[pool.name]
    async with AsyncExitStack() as stack:
        started = time.monotonic()
        try:
            async with asyncio.timeout(limit) as wait:
                waits.add(wait)
                try:
                    await gate.acquire()
                    stack.callback(gate.release)
                    conn = await stack.enter_async_context(pool.connection(timeout=limit))
                finally:
                    waits.discard(wait)
        except TimeoutError:
            raise PoolTimeout(f"no connection after {time.monotonic() - started:.2f} sec") from None
        yield conn
