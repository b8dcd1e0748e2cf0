"""The ASGI application: HTTP triggers, the admin API, the dev JWKS and the lifespan.

Built-in paths come first, like the host's reserved routes: `POST /admin/functions/{name}`
(master key), `GET /.dev/jwks.json` (dev only) and the sandbox payment gateway under
`/.sandbox/moyasar/` (dev only, `devhost.sandbox_gateway`), stand-ins for the inbox's channel
APIs under `/.sandbox/graph/` and `/.sandbox/telegram/` (`devhost.sandbox_channels`), and the
chat widget's demo page `GET /.dev/widget` (dev only, `devhost.widget_demo`). Everything else
goes through the route table of HTTP triggers under the route prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from typing import Any

from devhost.host import DevHost, HttpTarget
from devhost.http_io import (
    BodyTooLarge,
    IncomingRequest,
    OutgoingResponse,
    Receive,
    Scope,
    Send,
    from_function_result,
    function_request,
    json_response,
    problem,
    read_request,
)
from devhost.invoke import RETURN, Invocation, InvocationFailed
from devhost.routing import Resolution
from devhost.sandbox_channels import SandboxChannels
from devhost.sandbox_gateway import PREFIX as SANDBOX_PREFIX
from devhost.sandbox_gateway import SandboxGateway
from devhost.widget_demo import PATH as WIDGET_DEMO_PATH
from devhost.widget_demo import page as widget_demo_page

log = logging.getLogger("devhost.http")

ADMIN_PATH = re.compile(r"/admin/functions/([^/]+)/?", re.IGNORECASE)
JWKS_PATH = "/.dev/jwks.json"


def _key_required(detail: str) -> OutgoingResponse:
    return problem(401, "function_key_required", detail)


class DevHostApp:
    """ASGI callable serving a DevHost."""

    def __init__(self, host: DevHost, sandbox: SandboxGateway | None = None, *, http_concurrency: int = 0) -> None:
        self.host = host
        self.sandbox = sandbox or SandboxGateway.from_environ(os.environ)
        self.channels = SandboxChannels()
        # HTTP functions running at once, like a Flex Consumption instance's per-instance
        # concurrency: the rest wait here, in arrival order, before the app (0: no limit).
        self.in_flight = asyncio.Semaphore(http_concurrency) if http_concurrency > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:  # websockets: the Functions host has no such trigger
            await send({"type": "websocket.close", "code": 1000})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.host.start()
                except Exception as error:
                    log.exception("Dev host failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.host.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            request = await read_request(scope, receive)
        except BodyTooLarge:
            await problem(413, "payload_too_large", "The request body exceeds 100 MB.").send(send)
            return
        await (await self.dispatch(request)).send(send)

    async def dispatch(self, request: IncomingRequest) -> OutgoingResponse:
        if request.path == JWKS_PATH:
            return self._jwks(request)
        if request.path == WIDGET_DEMO_PATH:
            return widget_demo_page(request)
        admin = ADMIN_PATH.fullmatch(request.path)
        if admin:
            return self._admin(request, admin.group(1))
        if request.path.startswith(SANDBOX_PREFIX + "/"):
            return await self.sandbox.dispatch(request)
        if self.channels.handles(request.path):
            return self.channels.dispatch(request)
        resolution = self.host.router.resolve(request.method, request.path)
        if resolution.route is None:
            return self._unrouted(request, resolution)
        return await self._function(request, resolution)

    @staticmethod
    def _unrouted(request: IncomingRequest, resolution: Resolution[HttpTarget]) -> OutgoingResponse:
        if resolution.allow:
            allow = ", ".join(resolution.allow)
            detail = f"{request.method} is not allowed on {request.path}; allowed: {allow}."
            return problem(405, "method_not_allowed", detail, {"allow": allow})
        return problem(404, "route_not_found", f"No function is routed at {request.path}.")

    async def _function(self, request: IncomingRequest, resolution: Resolution[HttpTarget]) -> OutgoingResponse:
        assert resolution.route is not None
        target = resolution.route.target
        if not self.host.keys.allows(target.auth_level, request):
            return _key_required(
                f"This function requires a valid {target.auth_level} key "
                "in the x-functions-key header or the code query parameter."
            )
        try:
            async with self.in_flight or contextlib.nullcontext():
                invocation = await self.host.invoker.invoke(
                    target.spec,
                    function_request(request, resolution.values),
                    reason=f"This function was programmatically called via HTTP ({request.method}).",
                    trace_parent=request.header("traceparent"),
                    quiet=True,
                )
            return from_function_result(_http_result(target, invocation))
        except InvocationFailed:
            pass  # the invoker logged the traceback with the invocation id
        except Exception:
            log.exception("Function '%s' returned an unusable HTTP response", target.spec.name)
        return problem(500, "internal_error", "The function failed; see the dev host log.")

    @staticmethod
    def _jwks(request: IncomingRequest) -> OutgoingResponse:
        if request.method not in ("GET", "HEAD"):
            return problem(405, "method_not_allowed", "Use GET.", {"allow": "GET, HEAD"})
        from scripts.dev_tokens import dev_jwks  # dev-only module, imported on first use

        return json_response(dev_jwks())

    def _admin(self, request: IncomingRequest, name: str) -> OutgoingResponse:
        if request.method != "POST":
            return problem(405, "method_not_allowed", "Use POST.", {"allow": "POST"})
        if not self.host.keys.allows("admin", request):
            return _key_required("The admin API requires the master key in x-functions-key.")
        spec = self.host.find(name)
        if spec is None:
            return problem(404, "function_not_found", f"No function named '{name}'.")
        if spec.trigger_type == "httpTrigger":
            return problem(
                400, "http_function_not_invocable", f"'{spec.name}' is HTTP-triggered; call its route instead."
            )
        if spec.name in self.host.errors:
            return problem(400, "function_disabled", self.host.errors[spec.name])
        text = _admin_input(request.body)
        if text is None:
            return problem(400, "invalid_body", 'The body must be JSON like {"input": "<string>"}.')
        self.host.submit_manual(spec, text)
        return OutgoingResponse(202)


def _admin_input(body: bytes) -> str | None:
    """`input` of the admin API body; an empty body means no input."""
    if not body.strip():
        return ""
    try:
        document: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    value = document.get("input", "")
    return value if isinstance(value, str) else json.dumps(value)


def _http_result(target: HttpTarget, invocation: Invocation) -> Any:
    """The value of the function's http output binding (normally `$return`)."""
    http_outputs = [b["name"] for b in target.spec.outputs if b["type"] == "http"]
    name = http_outputs[0] if http_outputs else RETURN
    return invocation.outputs.get(name)
