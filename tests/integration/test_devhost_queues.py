"""Queue triggers and outputs of the dev host against a real Azurite queue service.

Needs `AzureWebJobsStorage` (e.g. `UseDevelopmentStorage=true` with Azurite on :10001).
Every test uses its own queues (uuid suffix) and deletes them afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import azure.functions as func
import pytest
import pytest_asyncio

from devhost.host import DevHost
from shared.platform.hostjson import HostConfig

pytestmark = pytest.mark.skipif(
    not os.environ.get("AzureWebJobsStorage"),  # noqa: SIM112 - the Functions host's own setting name
    reason="AzureWebJobsStorage is not set; these tests need Azurite (UseDevelopmentStorage=true)",
)

WAIT_SECONDS = 60.0
HOST_JSON = {
    "version": "2.0",
    "extensions": {"queues": {"maxPollingInterval": "00:00:02", "visibilityTimeout": "00:00:30", "maxDequeueCount": 5}},
}
# Exercised through the app-setting override path, like a developer would in local.settings.json.
OVERRIDES = {
    "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "2",
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:00",
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.5",
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def queue_client(name: str) -> Any:
    from shared.storage import queue_client as shared_queue_client

    return shared_queue_client(name, "AzureWebJobsStorage")


async def message_count(name: str) -> int:
    properties = await queue_client(name).get_queue_properties()
    return int(properties.approximate_message_count or 0)


async def wait_until(check: Callable[[], Any], what: str) -> None:
    """Poll an (async or sync) condition; WAIT_SECONDS only turns a hang into a failure. Polled
    because Azurite and the dev host's pollers tell nobody when a message has moved."""
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                result = check()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"timed out after {WAIT_SECONDS}s waiting for {what}") from None


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    queues = {
        "FAIL_QUEUE": unique("fail"),
        "OK_QUEUE": unique("ok"),
        "HOP_QUEUE": unique("hop"),
        "LANDING_QUEUE": unique("landing"),
        "COPY_QUEUE": unique("copy"),
    }
    for setting, value in {**queues, **OVERRIDES}.items():
        monkeypatch.setenv(setting, value)
    return queues


def make_app(record: dict[str, list[Any]]) -> func.FunctionApp:
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="msg", queue_name="%FAIL_QUEUE%", connection="AzureWebJobsStorage")
    def always_fails(msg: func.QueueMessage) -> None:
        record["fail"].append((msg.get_body(), msg.dequeue_count))
        raise RuntimeError("failing on purpose")

    @app.queue_trigger(arg_name="msg", queue_name="%OK_QUEUE%", connection="AzureWebJobsStorage")
    async def succeeds(msg: func.QueueMessage) -> None:
        record["ok"].append(msg.get_body())

    @app.queue_trigger(arg_name="msg", queue_name="%HOP_QUEUE%", connection="AzureWebJobsStorage")
    @app.queue_output(arg_name="out", queue_name="%LANDING_QUEUE%", connection="AzureWebJobsStorage")
    @app.queue_output(arg_name="copy", queue_name="%COPY_QUEUE%", connection="AzureWebJobsStorage")
    def forwards(msg: func.QueueMessage, out: func.Out[str], copy: func.Out[str]) -> None:
        text = msg.get_body().decode("utf-8") + " → forwarded"
        out.set(text)
        copy.set(text)

    @app.queue_trigger(arg_name="msg", queue_name="%LANDING_QUEUE%", connection="AzureWebJobsStorage")
    async def lands(msg: func.QueueMessage) -> None:
        record["landed"].append(msg.get_body().decode("utf-8"))

    return app


@pytest_asyncio.fixture
async def running(names: dict[str, str]) -> AsyncIterator[tuple[DevHost, dict[str, list[Any]]]]:
    record: dict[str, list[Any]] = {"fail": [], "ok": [], "landed": []}
    config = HostConfig.from_dict(HOST_JSON, os.environ)
    assert config.queues.max_dequeue_count == 2  # the overrides took effect
    host = DevHost(make_app(record), config, enable_timers=False)
    await host.start()
    try:
        yield host, record
    finally:
        await host.stop()  # stops pollers, closes the shared clients
        await _delete_queues([*names.values(), f"{names['FAIL_QUEUE']}-poison"])


async def _delete_queues(queue_names: list[str]) -> None:
    from shared.storage import close_storage_clients

    for name in queue_names:
        with contextlib.suppress(Exception):  # cleanup is best effort; the names are unique anyway
            await queue_client(name).delete_queue()
    await close_storage_clients()


def encoded(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


@pytest.mark.asyncio
async def test_failing_message_moves_to_poison_with_original_content(
    running: tuple[DevHost, dict[str, list[Any]]], names: dict[str, str]
) -> None:
    _, record = running
    queue = names["FAIL_QUEUE"]
    poison = f"{queue}-poison"
    original = encoded("poison me ✓")
    await wait_until(lambda: _exists(queue), "the poller to create its queue")
    await queue_client(queue).send_message(original)

    await wait_until(lambda: _exists(poison), "the poison queue")
    await wait_until(lambda: message_count(poison), "a poison message")
    [message] = await queue_client(poison).peek_messages(max_messages=5)
    assert message.content == original  # untouched: still base64, re-queueable as is
    assert record["fail"] == [("poison me ✓".encode(), 1), ("poison me ✓".encode(), 2)]
    assert await message_count(queue) == 0


@pytest.mark.asyncio
async def test_processed_messages_are_deleted(
    running: tuple[DevHost, dict[str, list[Any]]], names: dict[str, str]
) -> None:
    _, record = running
    queue = names["OK_QUEUE"]
    await wait_until(lambda: _exists(queue), "the poller to create its queue")
    await queue_client(queue).send_message(encoded("hello"))
    await queue_client(queue).send_message("{not base64}")  # the host tolerates raw text

    await wait_until(lambda: len(record["ok"]) == 2, "both messages")
    assert sorted(record["ok"]) == [b"hello", b"{not base64}"]
    await wait_until(lambda: _is_empty(queue), "the queue to be empty")


@pytest.mark.asyncio
async def test_base64_output_binding_round_trips(
    running: tuple[DevHost, dict[str, list[Any]]], names: dict[str, str]
) -> None:
    _, record = running
    await wait_until(lambda: _exists(names["HOP_QUEUE"]), "the poller to create its queue")
    await queue_client(names["HOP_QUEUE"]).send_message(encoded("héllo 👋"))

    await wait_until(lambda: record["landed"], "the forwarded message")
    assert record["landed"] == ["héllo 👋 → forwarded"]
    # on the wire it is base64 (host.json messageEncoding default), like the real host writes it
    [raw] = await queue_client(names["COPY_QUEUE"]).peek_messages()
    assert base64.b64decode(raw.content).decode("utf-8") == "héllo 👋 → forwarded"


async def _exists(name: str) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        await queue_client(name).get_queue_properties()
    except ResourceNotFoundError:
        return False
    return True


async def _is_empty(name: str) -> bool:
    return await message_count(name) == 0
