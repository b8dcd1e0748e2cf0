"""Multiplexed reads, as Npgsql's multiplexing mode does for .NET: single-statement reads that
requests issue in the same turn of the event loop share one pooled connection and one round
trip (psycopg's pipeline mode), instead of each taking a connection and waiting on its own.

Why: an address list or an order list is one short query, and most of what it costs the
worker is psycopg's per-round-trip work (checkout, the asyncio wait, a send) rather than the
query. With 32 concurrent requests the dev host served 30 % more address lists per second
this way (bench/README.md).

What callers can rely on:
- For one statement that only reads, outside any transaction of the caller's (use
  `db.connection()` for anything else). The rows are typed like `db.fetch_all`.
- Read your writes: a read issued after a write committed is sent after that commit (on the
  primary; with DATABASE_READ_URL, reads go to the replica as `db.connection(read_only=True)`'s do).
- Reads sent together see one snapshot (a pipeline runs as one implicit transaction up to its
  sync), never an older one than a read sent alone would.
- Failures stay with their caller: if a batch fails, each of its reads is run again on its
  own, so a bad query fails only its own request. Except when the database is unavailable
  (unreachable, or a statement timed out): then every caller of the batch gets
  DependencyUnavailable (503) at once, as `db.connection()` would give each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from shared.data import db
from shared.platform.errors import DependencyUnavailable
from shared.platform.turn_batching import TurnBatcher, Waiter, settle

Row = TypeVar("Row")


class _Read(NamedTuple):
    sql: str
    params: dict | Sequence | None
    model: type


class Multiplexer(TurnBatcher[_Read]):
    """Collects reads until the loop's next turn, then sends them in batches."""

    max_batch = 16  # each further batch goes out on a connection of its own

    def __init__(self, *, read_only: bool) -> None:
        super().__init__()
        self.read_only = read_only

    async def run_batch(self, batch: list[Waiter[_Read]]) -> None:
        if len(batch) > 1:
            try:
                for waiter, rows in zip(batch, await self._together(batch), strict=False):
                    settle(waiter, rows)
                return
            except DependencyUnavailable as down:  # alone they would only wait again
                for waiter in batch:
                    settle(waiter, down)
                return
            except Exception:  # noqa: BLE001 - whatever it was, each read finds out alone
                pass
        # side by side: in an outage each caller waits its own timeout, not the sum of all
        await asyncio.gather(*(self._alone(waiter) for waiter in batch))

    async def _together(self, batch: list[Waiter[_Read]]) -> list[list[Any]]:
        async with db.connection(read_only=self.read_only) as conn:
            return await db.fetch_all_together(conn, *(waiter.request for waiter in batch))

    async def _alone(self, waiter: Waiter[_Read]) -> None:
        if waiter.future.done():
            return
        sql, params, model = waiter.request
        try:
            async with db.connection(read_only=self.read_only) as conn:
                settle(waiter, await db.fetch_all(conn, sql, params, model))
        except Exception as error:  # noqa: BLE001 - the caller's own error, raised where it awaits
            settle(waiter, error)


_multiplexers: dict[bool, Multiplexer] = {}  # by read_only, for the loop below
_loop: asyncio.AbstractEventLoop | None = None


def _multiplexer(read_only: bool) -> Multiplexer:
    global _loop
    loop = asyncio.get_running_loop()
    if loop is not _loop:  # a new loop (tests, restarts): the old loop's multiplexers are unusable
        _multiplexers.clear()
        _loop = loop
    if read_only not in _multiplexers:
        _multiplexers[read_only] = Multiplexer(read_only=read_only)
    return _multiplexers[read_only]


async def fetch_all(sql: str, params: dict | Sequence | None, model: type[Row], *, read_only: bool = True) -> list[Row]:
    """The statement's rows, typed as `model`; see the module docstring for the guarantees."""
    return await _multiplexer(read_only).submit(_Read(sql, params, model))


async def fetch_one(
    sql: str, params: dict | Sequence | None, model: type[Row], *, read_only: bool = True
) -> Row | None:
    rows = await fetch_all(sql, params, model, read_only=read_only)
    return rows[0] if rows else None
