"""Invocation: kwargs by binding name, Context, Out bindings and their flushing."""

from __future__ import annotations

import asyncio
import base64
import threading
import uuid
from datetime import timedelta
from typing import Any

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage as FunctionQueueMessage

from devhost.invoke import (
    DevContext,
    FunctionTimeout,
    InvocationFailed,
    Invoker,
    encode_messages,
    load_functions,
)
from devhost.queues import decode_body

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
seen: dict[str, Any] = {}


@app.route(route="hello/{name}", methods=["GET"])
async def hello(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    seen["context"] = context
    return func.HttpResponse(f"hi {req.route_params['name']} {context.invocation_id}")


@app.route(route="sync")
def sync_function(req: func.HttpRequest) -> func.HttpResponse:
    seen["sync_thread"] = threading.current_thread()
    return func.HttpResponse("sync")


@app.queue_trigger(arg_name="msg", queue_name="in-q", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="first", queue_name="first-q", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="second", queue_name="%SECOND_QUEUE%", connection="OtherStorage")
def fan_out(msg: func.QueueMessage, first: func.Out[str], second: func.Out[list[str]]) -> None:
    text = msg.get_body().decode()
    if text == "fail":
        first.set("never sent")
        raise RuntimeError("failing on purpose")
    second.set([f"{text}-a", f"{text}-b"])
    first.set(f"{text}-first")


@app.queue_trigger(arg_name="msg", queue_name="in-q2", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="$return", queue_name="returned-q", connection="AzureWebJobsStorage")
def returns_message(msg: func.QueueMessage) -> bytes:
    return b"\x00binary\xff"


@app.queue_trigger(arg_name="msg", queue_name="in-q3", connection="AzureWebJobsStorage")
def returns_without_binding(msg: func.QueueMessage) -> dict[str, int]:
    return {"lost": 1}


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
async def slow_timer(timer: func.TimerRequest, **extra: Any) -> None:
    seen["extra"] = sorted(extra)
    await asyncio.Event().wait()  # never finishes: only the function timeout ends it


class FakeSender:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str]]] = []

    async def __call__(self, queue: str, connection: str, messages: list[str]) -> None:
        self.calls.append((queue, connection, messages))


# FunctionApp.get_functions() may run only once per app (it validates name uniqueness)
SPECS = {spec.name: spec for spec in load_functions(app)}


def specs() -> dict[str, Any]:
    return SPECS


def queue_message(text: str) -> FunctionQueueMessage:
    return FunctionQueueMessage(id=str(uuid.uuid4()), body=text.encode(), dequeue_count=1)


def http_request(url: str, route_params: dict[str, str] | None = None) -> func.HttpRequest:
    return func.HttpRequest("GET", url, headers={}, params={}, route_params=route_params or {}, body=b"")


@pytest.fixture(autouse=True)
def _clean() -> None:
    seen.clear()


def test_load_functions_reads_bindings() -> None:
    loaded = specs()
    assert set(loaded) == {
        "hello",
        "sync_function",
        "fan_out",
        "returns_message",
        "returns_without_binding",
        "slow_timer",
    }
    assert loaded["hello"].trigger["route"] == "hello/{name}"
    assert loaded["hello"].trigger["methods"] == ["GET"]
    assert loaded["fan_out"].trigger["queueName"] == "in-q"
    assert [b["name"] for b in loaded["fan_out"].outputs] == ["second", "first"]
    assert loaded["hello"].is_async and not loaded["sync_function"].is_async


@pytest.mark.asyncio
async def test_http_function_gets_request_and_context() -> None:
    invocation = await Invoker().invoke(
        specs()["hello"],
        http_request("http://h/api/hello/ann", {"name": "ann"}),
        trace_parent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    context = seen["context"]
    assert isinstance(context, func.Context) and isinstance(context, DevContext)
    assert str(uuid.UUID(context.invocation_id)) == invocation.invocation_id
    assert context.function_name == "hello"
    assert context.trace_context.trace_parent.startswith("00-0af76519")
    assert context.retry_context.retry_count == 0
    assert context.thread_local_storage.invocation_id == invocation.invocation_id
    assert invocation.return_value.get_body() == f"hi ann {invocation.invocation_id}".encode()


@pytest.mark.asyncio
async def test_each_invocation_gets_a_fresh_id() -> None:
    invoker = Invoker()
    first = await invoker.invoke(specs()["hello"], http_request("http://h/", {"name": "a"}))
    second = await invoker.invoke(specs()["hello"], http_request("http://h/", {"name": "b"}))
    assert first.invocation_id != second.invocation_id


@pytest.mark.asyncio
async def test_sync_function_runs_in_a_worker_thread_without_context() -> None:
    invocation = await Invoker().invoke(specs()["sync_function"], http_request("http://h/api/sync"))
    assert seen["sync_thread"] is not threading.main_thread()
    assert invocation.return_value.get_body() == b"sync"


@pytest.mark.asyncio
async def test_queue_outputs_flush_after_success_in_binding_order() -> None:
    sender = FakeSender()
    invoker = Invoker(sender, message_encoding="none", environ={"SECOND_QUEUE": "second-q"})
    await invoker.invoke(specs()["fan_out"], queue_message("m1"))
    assert sender.calls == [
        ("second-q", "OtherStorage", ["m1-a", "m1-b"]),  # function.json order: last decorator first
        ("first-q", "AzureWebJobsStorage", ["m1-first"]),
    ]


@pytest.mark.asyncio
async def test_nothing_is_sent_when_the_function_fails() -> None:
    sender = FakeSender()
    invoker = Invoker(sender, environ={"SECOND_QUEUE": "second-q"})
    with pytest.raises(InvocationFailed) as raised:
        await invoker.invoke(specs()["fan_out"], queue_message("fail"))
    assert isinstance(raised.value.__cause__, RuntimeError)
    uuid.UUID(raised.value.invocation_id)
    assert sender.calls == []


@pytest.mark.asyncio
async def test_missing_output_queue_setting_names_it() -> None:
    invoker = Invoker(FakeSender(), environ={})
    with pytest.raises(InvocationFailed) as raised:
        await invoker.invoke(specs()["fan_out"], queue_message("m"))
    assert "SECOND_QUEUE" in str(raised.value.__cause__)


@pytest.mark.asyncio
async def test_return_value_output_is_base64_encoded_by_default() -> None:
    sender = FakeSender()
    await Invoker(sender).invoke(specs()["returns_message"], queue_message("x"))
    [(queue, _, [text])] = sender.calls
    assert queue == "returned-q"
    assert base64.b64decode(text) == b"\x00binary\xff"


@pytest.mark.asyncio
async def test_return_value_without_a_return_binding_fails_like_the_worker() -> None:
    with pytest.raises(InvocationFailed) as raised:
        await Invoker(FakeSender()).invoke(specs()["returns_without_binding"], queue_message("x"))
    assert "without a $return binding" in str(raised.value.__cause__)


@pytest.mark.asyncio
async def test_var_keyword_function_receives_no_unknown_context() -> None:
    invoker = Invoker(function_timeout=timedelta(milliseconds=50))
    with pytest.raises(InvocationFailed) as raised:
        await invoker.invoke(specs()["slow_timer"], object())
    assert isinstance(raised.value.__cause__, FunctionTimeout)
    assert seen["extra"] == []  # `context` goes only to a parameter named context


def test_encode_messages_shapes() -> None:
    assert encode_messages("héllo", "none") == ["héllo"]
    assert encode_messages(["a", b"b"], "base64") == ["YQ==", "Yg=="]
    assert encode_messages(func.QueueMessage(body="q"), "none") == ["q"]
    with pytest.raises(TypeError):
        encode_messages({"not": "allowed"}, "base64")


def test_decode_body_falls_back_to_raw_text() -> None:
    assert decode_body(base64.b64encode(b"payload").decode(), "base64") == b"payload"
    assert decode_body("{not base64}", "base64") == b"{not base64}"
    assert decode_body("plain", "none") == b"plain"
    assert decode_body(None, "base64") == b""
