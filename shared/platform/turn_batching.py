"""Requests made in one turn of the event loop, handled together on the next: what the cache's
auto-pipelining (shared/cache/pipeline.py) and the multiplexed reads (shared/data/multiplexed.py)
share. A subclass says how to run one batch and settles each waiter's future with `settle`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Request = TypeVar("Request")


@dataclass
class Waiter(Generic[Request]):
    request: Request
    future: asyncio.Future = field(repr=False)


def settle(waiter: Waiter, result: Any) -> None:
    """An exception as `result` is raised where the caller awaits; a cancelled caller is skipped."""
    if waiter.future.done():
        return
    if isinstance(result, Exception):
        waiter.future.set_exception(result)
    else:
        waiter.future.set_result(result)


class TurnBatcher(Generic[Request]):
    max_batch: int | None = None  # more waiters than this go out as further batches, side by side

    def __init__(self) -> None:
        self._waiting: list[Waiter[Request]] = []
        self._running: set[asyncio.Task] = set()  # strong references until each batch is done

    def submit(self, request: Request) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        waiter = Waiter(request, loop.create_future())
        self._waiting.append(waiter)
        if len(self._waiting) == 1:  # the first of this turn schedules the batch for the next
            loop.call_soon(self._dispatch)
        return waiter.future

    def _dispatch(self) -> None:
        waiting, self._waiting = self._waiting, []
        size = self.max_batch or len(waiting)
        for start in range(0, len(waiting), size):
            task = asyncio.get_running_loop().create_task(self._run(waiting[start : start + size]))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[Waiter[Request]]) -> None:
        try:
            await self.run_batch(batch)
        except asyncio.CancelledError:  # the loop is closing: so are the callers' requests
            for waiter in batch:
                waiter.future.cancel()
            raise

    async def run_batch(self, batch: list[Waiter[Request]]) -> None:
        """Settle every waiter of `batch` (`settle`); must not raise."""
        raise NotImplementedError
