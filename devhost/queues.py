"""Queue triggers and queue output sending, with the host.json `extensions.queues` semantics.

One poller per queue-triggered function: receive up to `batchSize` messages (hidden for 10
minutes while they are processed), run them concurrently, fetch again once the in-flight
count drops to `newBatchThreshold`, back off exponentially (100 ms up to
`maxPollingInterval`) while the queue is empty or storage is unreachable. Success deletes
the message; failure makes it visible again after `visibilityTimeout`, and the attempt that
reaches `maxDequeueCount` moves the original content to `<queue>-poison`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from azure.functions.queue import QueueMessage as FunctionQueueMessage

from devhost.invoke import DEFAULT_CONNECTION, FunctionSpec, InvocationFailed
from shared.platform.hostjson import QueueOptions

if TYPE_CHECKING:
    from azure.storage.queue import QueueMessage as StorageMessage
    from azure.storage.queue.aio import QueueClient

log = logging.getLogger("devhost.queues")

PROCESSING_VISIBILITY_SECONDS = 600  # the host hides a message 10 minutes while it runs
MIN_POLL_DELAY = 0.1
DRAIN_TIMEOUT_SECONDS = 30.0
_QUEUE_NAME = re.compile(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]")

ClientFactory = Callable[[str, str], "QueueClient"]
Invoke = Callable[[FunctionSpec, FunctionQueueMessage], Awaitable[Any]]


def validate_queue_name(name: str) -> str:
    if not _QUEUE_NAME.fullmatch(name):
        raise ValueError(f"invalid queue name '{name}': 3-63 lowercase letters, digits and single dashes")
    return name


def default_client_factory(queue_name: str, connection: str) -> QueueClient:
    from shared.storage import queue_client  # the app's own resolution of `connection`

    return queue_client(queue_name, connection)


async def ensure_queue(client: QueueClient) -> None:
    from azure.core.exceptions import ResourceExistsError

    with contextlib.suppress(ResourceExistsError):
        await client.create_queue()


class StorageQueueSender:
    """Sends already-encoded message texts, creating the queue on first use."""

    def __init__(self, client_factory: ClientFactory = default_client_factory) -> None:
        self._factory = client_factory
        self._created: set[tuple[str, str]] = set()

    async def __call__(self, queue_name: str, connection: str, messages: list[str]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        client = self._factory(validate_queue_name(queue_name), connection)
        if (connection, queue_name) not in self._created:
            await ensure_queue(client)
            self._created.add((connection, queue_name))
        for message in messages:
            try:
                await client.send_message(message)
            except ResourceNotFoundError:  # deleted since we created it (e.g. a test cleanup)
                await ensure_queue(client)
                await client.send_message(message)


def decode_body(content: str | bytes | None, encoding: str) -> bytes:
    """Message text to body bytes; undecodable base64 falls back to the raw text."""
    raw = content.encode("utf-8") if isinstance(content, str) else (content or b"")
    if encoding != "base64":
        return raw
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw


def to_function_message(message: StorageMessage, encoding: str) -> FunctionQueueMessage:
    return FunctionQueueMessage(
        id=message.id,
        body=decode_body(message.content, encoding),
        pop_receipt=message.pop_receipt,
        dequeue_count=message.dequeue_count,
        expiration_time=message.expires_on,
        insertion_time=message.inserted_on,
        time_next_visible=message.next_visible_on,
    )


def next_delay(previous: float, maximum: float) -> float:
    return min(maximum, max(MIN_POLL_DELAY, previous * 2))


class QueuePoller:
    """Feeds one queue to one function until stopped."""

    def __init__(
        self,
        spec: FunctionSpec,
        queue_name: str,
        options: QueueOptions,
        invoke: Invoke,
        client_factory: ClientFactory = default_client_factory,
    ) -> None:
        self.spec = spec
        self.queue_name = validate_queue_name(queue_name)
        self.connection = spec.trigger.get("connection") or DEFAULT_CONNECTION
        self._options = options
        self._invoke = invoke
        self._factory = client_factory
        self._poison = StorageQueueSender(client_factory)
        self._ready = False
        self._down = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def poison_queue_name(self) -> str:
        return f"{self.queue_name}-poison"

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name=f"queue:{self.spec.name}")

    async def stop(self) -> None:
        """Stop fetching, let in-flight messages finish (bounded), then cancel the rest."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=DRAIN_TIMEOUT_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self) -> None:
        delay = 0.0
        maximum = max(MIN_POLL_DELAY, self._options.max_polling_interval.total_seconds())
        while True:
            await self._wait_for_room()
            try:
                messages = await self._receive()
            except Exception as error:  # noqa: BLE001 - any storage or transport error is an outage; the poller must outlive it
                self._outage(error, maximum)
                delay = maximum
                await asyncio.sleep(delay)
                continue
            if self._down:
                self._down = False
                log.info("Queue '%s' reachable again", self.queue_name)
            for message in messages:
                self._dispatch(message)
            delay = 0.0 if messages else next_delay(delay, maximum)
            if delay:
                await asyncio.sleep(delay)

    def _outage(self, error: Exception, retry_in: float) -> None:
        # warn once per outage, not on every retry
        level = logging.DEBUG if self._down else logging.WARNING
        log.log(level, "Queue '%s' unavailable (%s); retrying every %.1fs", self.queue_name, _short(error), retry_in)
        self._down, self._ready = True, False

    async def _wait_for_room(self) -> None:
        while len(self._inflight) > self._options.new_batch_threshold:
            self._room.clear()
            await self._room.wait()

    async def _receive(self) -> list[StorageMessage]:
        client = self._factory(self.queue_name, self.connection)
        if not self._ready:
            await ensure_queue(client)
            self._ready = True
        size = self._options.batch_size
        pages = client.receive_messages(
            messages_per_page=size,
            max_messages=size,
            visibility_timeout=PROCESSING_VISIBILITY_SECONDS,
        ).by_page()
        async for page in pages:  # one page is one receive call
            return [message async for message in page]
        return []

    def _dispatch(self, message: StorageMessage) -> None:
        task = asyncio.create_task(self._process(message), name=f"message:{message.id}")
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._room.set()

    async def _process(self, message: StorageMessage) -> None:
        count = message.dequeue_count or 1
        if count > self._options.max_dequeue_count:
            # a previous attempt never reported back (crash): poison it without running
            await self._move_to_poison(message, "(not run)")
            return
        try:
            invocation = await self._invoke(self.spec, to_function_message(message, self._encoding))
        except InvocationFailed as failure:
            await self._failed(message, failure.invocation_id)
            return
        except Exception:
            log.exception("Invoking '%s' for message %s failed", self.spec.name, message.id)
            await self._failed(message, "?")
            return
        await self._delete(message, getattr(invocation, "invocation_id", "?"))

    @property
    def _encoding(self) -> str:
        return self._options.message_encoding

    async def _delete(self, message: StorageMessage, invocation_id: str) -> None:
        try:
            await self._client().delete_message(message.id, message.pop_receipt)
        except Exception as error:  # noqa: BLE001 - whatever the cause, it reappears after its lease: at-least-once
            log.warning("Deleting message %s from '%s' failed: %s", message.id, self.queue_name, _short(error))
            return
        log.info(
            "Message %s on '%s' processed (Id=%s, DequeueCount=%d)",
            message.id,
            self.queue_name,
            invocation_id,
            message.dequeue_count or 1,
        )

    async def _failed(self, message: StorageMessage, invocation_id: str) -> None:
        count = message.dequeue_count or 1
        if count >= self._options.max_dequeue_count:
            await self._move_to_poison(message, invocation_id)
            return
        delay = int(self._options.visibility_timeout.total_seconds())
        try:
            await self._client().update_message(message.id, pop_receipt=message.pop_receipt, visibility_timeout=delay)
        except Exception as error:  # noqa: BLE001 - whatever the cause, the lease expires on its own
            log.warning("Releasing message %s failed: %s", message.id, _short(error))
            return
        log.warning(
            "Message %s on '%s' failed (Id=%s, DequeueCount=%d); retry in %ds",
            message.id,
            self.queue_name,
            invocation_id,
            count,
            delay,
        )

    async def _move_to_poison(self, message: StorageMessage, invocation_id: str) -> None:
        try:
            # the original text, not the decoded body: re-queueing it must work unchanged
            await self._poison(self.poison_queue_name, self.connection, [message.content or ""])
            await self._client().delete_message(message.id, message.pop_receipt)
        except Exception as error:  # noqa: BLE001 - whatever the cause, the message comes back and is tried again
            log.warning("Moving message %s to '%s' failed: %s", message.id, self.poison_queue_name, _short(error))
            return
        log.error(
            "Message %s on '%s' moved to '%s' (Id=%s, DequeueCount=%d)",
            message.id,
            self.queue_name,
            self.poison_queue_name,
            invocation_id,
            message.dequeue_count or 1,
        )

    def _client(self) -> QueueClient:
        return self._factory(self.queue_name, self.connection)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
