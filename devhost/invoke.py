"""Function discovery and invocation: keyword args by binding name, Context, Out bindings.

Mirrors what the Python worker does for the v2 model: the trigger value goes to the trigger
binding's parameter, each output binding gets an `Out`, `context` is passed when the function
declares it; sync functions run in a thread. Queue outputs are flushed only after the
function succeeded, in binding order (the worker returns them to the host, which sends them).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import azure.functions as func

from devhost.settings import resolve_expression

log = logging.getLogger("devhost.invoke")

T = TypeVar("T")
RETURN = "$return"
DEFAULT_CONNECTION = "AzureWebJobsStorage"

# Sends already-encoded messages to a queue: (queue_name, connection, messages).
QueueSender = Callable[[str, str, list[str]], Awaitable[None]]


class UnsupportedBinding(RuntimeError):
    pass


class FunctionTimeout(TimeoutError):
    pass


class InvocationFailed(Exception):
    """The user function (or flushing its outputs) failed; `__cause__` holds the error."""

    def __init__(self, function_name: str, invocation_id: str) -> None:
        super().__init__(f"Functions.{function_name} failed (Id={invocation_id})")
        self.invocation_id = invocation_id


def _plain(value: Any) -> Any:
    """Enum members (BindingDirection, AuthLevel, HttpMethod) to their plain values."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


SUPPORTED_OUTPUTS = ("http", "queue")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    function: Callable[..., Any]
    trigger: dict[str, Any]
    outputs: tuple[dict[str, Any], ...]
    parameters: frozenset[str]
    takes_any_kwargs: bool
    unsupported: tuple[str, ...] = ()  # binding types the dev host cannot provide

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)

    def accepts(self, name: str) -> bool:
        return self.takes_any_kwargs or name in self.parameters


def load_functions(app: Any) -> list[FunctionSpec]:
    """Specs for every function of an `azure.functions.FunctionApp`.

    `app.get_functions()` may be called only once per app (it registers names to check them).
    """
    return [_spec(fn) for fn in app.get_functions()]


def _spec(fn: Any) -> FunctionSpec:
    bindings = [{k: _plain(v) for k, v in b.get_dict_repr().items()} for b in fn.get_bindings()]
    trigger = next(b for b in bindings if b["type"] == fn.get_trigger().type)
    outputs = tuple(b for b in bindings if b.get("direction") == 1)  # BindingDirection.OUT
    others = [b["type"] for b in bindings if b is not trigger and b not in outputs]
    others += [b["type"] for b in outputs if b["type"] not in SUPPORTED_OUTPUTS]
    user_function = fn.get_user_function()
    params = inspect.signature(user_function).parameters.values()
    return FunctionSpec(
        name=fn.get_function_name(),
        function=user_function,
        trigger=trigger,
        outputs=outputs,
        parameters=frozenset(p.name for p in params),
        takes_any_kwargs=any(p.kind is p.VAR_KEYWORD for p in params),
        unsupported=tuple(others),
    )


# The shapes of the SDK's TraceContext and RetryContext, whose abstract classes live in a
# private module (azure.functions._abc): the function reads these attributes, nothing more.
@dataclass(frozen=True)
class DevTraceContext:
    trace_parent: str
    trace_state: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DevRetryContext:
    """No retry policies in the dev host: always the first attempt."""

    retry_count: int = 0
    max_retry_count: int = 0
    exception: Exception | None = None


def new_trace_parent() -> str:
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


class DevContext(func.Context):
    """The worker's invocation context, minus the gRPC plumbing."""

    def __init__(self, function_name: str, directory: str, trace_parent: str | None = None) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = directory
        self._trace = DevTraceContext(trace_parent or new_trace_parent())
        self._retry = DevRetryContext()
        self._storage = threading.local()
        self._storage.invocation_id = self._invocation_id

    invocation_id = property(lambda self: self._invocation_id)
    function_name = property(lambda self: self._function_name)
    function_directory = property(lambda self: self._function_directory)
    trace_context = property(lambda self: self._trace)
    retry_context = property(lambda self: self._retry)
    thread_local_storage = property(lambda self: self._storage)


class DevOut(func.Out[T], Generic[T]):
    def __init__(self) -> None:
        self._value: T | None = None

    def set(self, val: T) -> None:
        self._value = val

    def get(self) -> T | None:  # type: ignore[override]  # the SDK's stub says T; unset is None here
        return self._value


def encode_messages(value: Any, encoding: str) -> list[str]:
    """An Out value (str, bytes, QueueMessage or a list of them) as queue message texts."""
    items = value if isinstance(value, (list, tuple)) else [value]
    texts = []
    for item in items:
        if isinstance(item, func.QueueMessage):
            item = item.get_body()
        raw = item.encode("utf-8") if isinstance(item, str) else item
        if not isinstance(raw, (bytes, bytearray)):
            kind = type(item).__name__
            raise TypeError(f"queue output must be str, bytes or a list of them, got {kind}")
        base64_text = encoding == "base64"
        texts.append(base64.b64encode(raw).decode("ascii") if base64_text else raw.decode("utf-8"))
    return texts


@dataclass(frozen=True)
class Invocation:
    invocation_id: str
    return_value: Any
    outputs: dict[str, Any]


class Invoker:
    """Calls user functions the way the worker does and flushes their queue outputs."""

    def __init__(
        self,
        sender: QueueSender | None = None,
        *,
        message_encoding: str = "base64",
        function_timeout: timedelta | None = None,
        function_directory: str | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._sender = sender
        self._encoding = message_encoding
        self._timeout = function_timeout.total_seconds() if function_timeout else None
        self._directory = function_directory or os.getcwd()
        self._environ = environ

    async def invoke(
        self,
        spec: FunctionSpec,
        trigger_value: Any,
        *,
        reason: str = "",
        trace_parent: str | None = None,
        quiet: bool = False,  # success at debug level: the app logs its own requests and timer runs
    ) -> Invocation:
        """Run one invocation; failures come out as InvocationFailed (already logged)."""
        context = DevContext(spec.name, self._directory, trace_parent)
        outs = {b["name"]: DevOut[Any]() for b in spec.outputs if b["name"] != RETURN}
        kwargs = self._arguments(spec, trigger_value, outs, context)
        level = logging.DEBUG if quiet else logging.INFO
        name, invocation_id = spec.name, context.invocation_id
        log.log(level, "Executing 'Functions.%s' (Reason='%s', Id=%s)", name, reason, invocation_id)
        started = time.perf_counter()
        try:
            result = await self._call(spec, kwargs, context)
            _check_return(spec, result)
            values = {key: out.get() for key, out in outs.items()} | {RETURN: result}
            await self._flush(spec, values)
        except Exception as error:
            log.error(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms): %s",
                name,
                invocation_id,
                _ms(started),
                error,
                exc_info=not isinstance(error, FunctionTimeout),
            )
            raise InvocationFailed(name, invocation_id) from error
        log.log(level, "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)", name, invocation_id, _ms(started))
        return Invocation(invocation_id, result, values)

    @staticmethod
    def _arguments(
        spec: FunctionSpec, trigger_value: Any, outs: dict[str, DevOut[Any]], context: DevContext
    ) -> dict[str, Any]:
        candidates: dict[str, Any] = {spec.trigger["name"]: trigger_value, **outs}
        if "context" in spec.parameters:
            candidates["context"] = context
        return {name: value for name, value in candidates.items() if spec.accepts(name)}

    async def _call(self, spec: FunctionSpec, kwargs: dict[str, Any], context: DevContext) -> Any:
        if spec.is_async:
            call: Awaitable[Any] = spec.function(**kwargs)
        else:
            call = asyncio.to_thread(_run_sync, spec.function, kwargs, context)
        try:
            return await asyncio.wait_for(call, self._timeout)
        except TimeoutError:
            # a thread cannot be killed: a sync function keeps running in the background
            message = f"Timeout value of {self._timeout:.0f}s exceeded by function '{spec.name}'"
            raise FunctionTimeout(message) from None

    async def _flush(self, spec: FunctionSpec, values: dict[str, Any]) -> None:
        for binding in spec.outputs:
            value = values.get(binding["name"])
            if binding["type"] != "queue" or value is None:
                continue  # http: the caller turns it into the response
            if self._sender is None:
                raise UnsupportedBinding("no queue sender configured")
            queue = resolve_expression(binding["queueName"], self._environ)
            connection = binding.get("connection") or DEFAULT_CONNECTION
            await self._sender(queue, connection, encode_messages(value, self._encoding))


def _check_return(spec: FunctionSpec, result: Any) -> None:
    # the Python worker's own rule: a value with nowhere to go is a bug, not something to drop
    if result is not None and not any(b["name"] == RETURN for b in spec.outputs):
        raise RuntimeError(f"function '{spec.name}' without a $return binding returned a non-None value")


def _run_sync(function: Callable[..., Any], kwargs: dict[str, Any], context: DevContext) -> Any:
    # the worker sets the invocation id in the executing thread, for log correlation
    context.thread_local_storage.invocation_id = context.invocation_id
    return function(**kwargs)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
