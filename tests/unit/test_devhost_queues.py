"""The queue poller against an in-memory fake of the storage QueueClient.

Covers what Azurite makes slow or hard to provoke: batching, outages, the dequeue-count
bookkeeping. The real round trips live in tests/integration/test_devhost_queues.py.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from devhost.invoke import FunctionSpec, Invoker
from devhost.queues import MIN_POLL_DELAY, QueuePoller, next_delay, validate_queue_name
from shared.platform.hostjson import QueueOptions

_ids = itertools.count(1)
SAFETY_SECONDS = 10  # only turns a hang into a failure


@dataclass
class FakeMessage:
    content: str
    dequeue_count: int = 1
    id: str = ""
    pop_receipt: str = "receipt"
    inserted_on: Any = None
    expires_on: Any = None
    next_visible_on: Any = None

    def __post_init__(self) -> None:
        self.id = self.id or f"m{next(_ids)}"


class FakeQueue:
    """Just enough of azure.storage.queue.aio.QueueClient for the poller; `changed` is set on
    every call, so a test waits for the poller's next step instead of polling the fake."""

    def __init__(self) -> None:
        self.waiting: list[FakeMessage] = []
        self.deleted: list[str] = []
        self.released: list[tuple[str, int]] = []
        self.sent: list[str] = []
        self.receives: list[int] = []
        self.outages = 0
        self.changed = asyncio.Event()

    async def create_queue(self) -> None:
        self.changed.set()
        if self.outages:
            self.outages -= 1
            raise ConnectionError("storage is down")

    def receive_messages(self, *, messages_per_page: int, max_messages: int, visibility_timeout: int) -> Any:
        assert visibility_timeout == 600
        queue = self

        class Pager:
            async def by_page(self) -> AsyncIterator[AsyncIterator[FakeMessage]]:
                taken, queue.waiting = queue.waiting[:max_messages], queue.waiting[max_messages:]
                queue.receives.append(len(taken))
                queue.changed.set()
                yield _iterate(taken)

        return Pager()

    async def delete_message(self, message_id: str, pop_receipt: str) -> None:
        self.deleted.append(message_id)
        self.changed.set()

    async def update_message(self, message_id: str, *, pop_receipt: str, visibility_timeout: int) -> None:
        self.released.append((message_id, visibility_timeout))
        self.changed.set()

    async def send_message(self, text: str) -> None:
        self.sent.append(text)
        self.changed.set()


async def _iterate(items: list[FakeMessage]) -> AsyncIterator[FakeMessage]:
    for item in items:
        yield item


def spec_for(function: Callable[..., Any]) -> FunctionSpec:
    trigger = {"type": "queueTrigger", "name": "msg", "queueName": "work", "connection": "AzureWebJobsStorage"}
    return FunctionSpec("worker", function, trigger, (), frozenset({"msg"}), False)


def options(**overrides: Any) -> QueueOptions:
    values: dict[str, Any] = {
        "max_polling_interval": timedelta(milliseconds=100),
        "max_dequeue_count": 3,
        "visibility_timeout": timedelta(seconds=7),
    }
    return QueueOptions(**(values | overrides))


def poller(function: Callable[..., Any], queues: dict[str, FakeQueue], **overrides: Any) -> QueuePoller:
    def factory(name: str, connection: str) -> Any:
        return queues.setdefault(name, FakeQueue())

    return QueuePoller(spec_for(function), "work", options(**overrides), Invoker().invoke, factory)


async def until(queue: FakeQueue, condition: Callable[[], bool]) -> None:
    """Wait until `condition()` holds, looking again after each call the poller makes on `queue`."""
    async with asyncio.timeout(SAFETY_SECONDS):
        while not condition():
            queue.changed.clear()
            await queue.changed.wait()


async def let_ready_tasks_run() -> None:
    """A few turns of the loop, not a wait: whatever can run now runs as far as it can."""
    for _ in range(10):
        await asyncio.sleep(0)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.asyncio
async def test_success_decodes_and_deletes() -> None:
    seen: list[Any] = []
    queues = {"work": FakeQueue()}
    message = FakeMessage(b64("hello"), dequeue_count=1)
    queues["work"].waiting.append(message)
    running = poller(lambda msg: seen.append(msg), queues)
    running.start()
    await until(queues["work"], lambda: queues["work"].deleted == [message.id])
    await running.stop()
    [received] = seen
    assert (received.get_body(), received.id, received.dequeue_count) == (b"hello", message.id, 1)
    assert received.pop_receipt == "receipt"


def _fail(msg: Any) -> None:
    raise RuntimeError("nope")


@pytest.mark.asyncio
async def test_failure_below_max_releases_after_visibility_timeout() -> None:
    queues = {"work": FakeQueue()}
    message = FakeMessage(b64("x"), dequeue_count=2)
    queues["work"].waiting.append(message)
    running = poller(_fail, queues)
    running.start()
    await until(queues["work"], lambda: bool(queues["work"].released))
    await running.stop()
    assert queues["work"].released == [(message.id, 7)]
    assert queues["work"].deleted == [] and "work-poison" not in queues


@pytest.mark.asyncio
async def test_failure_at_max_moves_original_content_to_poison() -> None:
    queues = {"work": FakeQueue()}
    message = FakeMessage(b64("last try"), dequeue_count=3)
    queues["work"].waiting.append(message)
    running = poller(_fail, queues)
    running.start()
    await until(queues["work"], lambda: bool(queues["work"].deleted))
    await running.stop()
    assert queues["work-poison"].sent == [b64("last try")]
    assert queues["work"].released == []


@pytest.mark.asyncio
async def test_message_beyond_max_is_poisoned_without_running() -> None:
    calls: list[Any] = []
    queues = {"work": FakeQueue()}
    queues["work"].waiting.append(FakeMessage("raw", dequeue_count=4))
    running = poller(lambda msg: calls.append(msg), queues)
    running.start()
    await until(queues["work"], lambda: bool(queues["work"].deleted))
    await running.stop()
    assert calls == [] and queues["work-poison"].sent == ["raw"]


@pytest.mark.asyncio
async def test_batches_refill_at_the_new_batch_threshold() -> None:
    queues = {"work": FakeQueue()}
    queues["work"].waiting = [FakeMessage(b64(str(i))) for i in range(10)]
    release, four_running = asyncio.Event(), asyncio.Event()
    active: list[int] = []

    async def slow(msg: Any) -> None:
        active.append(1)
        if len(active) == 4:
            four_running.set()
        await release.wait()

    running = poller(slow, queues, batch_size=4, new_batch_threshold=1)
    running.start()
    async with asyncio.timeout(SAFETY_SECONDS):
        await four_running.wait()
    await let_ready_tasks_run()  # 4 in flight > threshold 1: the poller must not receive again
    assert queues["work"].receives == [4]
    release.set()
    await until(queues["work"], lambda: len(queues["work"].deleted) == 10)
    await running.stop()
    assert queues["work"].receives[:3] == [4, 4, 2]


@pytest.mark.asyncio
async def test_storage_outage_does_not_stop_the_poller() -> None:
    queues = {"work": FakeQueue()}
    queues["work"].outages = 2
    queues["work"].waiting.append(FakeMessage(b64("after outage")))
    seen: list[Any] = []
    running = poller(lambda msg: seen.append(msg), queues)
    running.start()
    await until(queues["work"], lambda: bool(queues["work"].deleted))
    await running.stop()
    assert seen[0].get_body() == b"after outage"


def test_empty_poll_backoff_doubles_up_to_the_maximum() -> None:
    delays = [0.0]
    for _ in range(6):
        delays.append(next_delay(delays[-1], 2.0))
    assert delays[1:] == [MIN_POLL_DELAY, 0.2, 0.4, 0.8, 1.6, 2.0]


@pytest.mark.parametrize("name", ["ab", "Upper-case", "double--dash", "-leading", "x" * 64])
def test_invalid_queue_names(name: str) -> None:
    with pytest.raises(ValueError):
        validate_queue_name(name)


def test_valid_queue_name() -> None:
    assert validate_queue_name("domain-events-poison") == "domain-events-poison"
