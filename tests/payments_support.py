"""The sandbox payment gateway (devhost/sandbox_gateway.py) on a free port, for tests.

    from tests.payments_support import sandbox, sandbox_server  # noqa: F401  (the fixtures)

    def test_x(sandbox):
        gateway = sandbox.gateway()                      # the Moyasar adapter pointed at it
        checkout = await gateway.create_checkout(...)
        sandbox.capture_webhooks()                       # deliveries go to the sandbox's own sink
        sandbox.approve(checkout.gateway_payment_id)     # payment_paid delivered before this returns
        sandbox.captured()                               # the webhook bodies, as sent
        sandbox.fault(status=503, times=2, method="GET") # the next two GETs answer 503
        sandbox.requests(method="POST")                  # what the adapter sent, to count retries

`sandbox_server` is one server per session; `sandbox` resets it (books, faults, logs, webhook
target) for each test. `running_sandbox()` starts a private one. Webhooks go by default to
`webhook_url` (None: the app at the sandbox's own address, which has no app: point it at a
dev host, at `sink_url`, or at a test's server with `set_webhook`). When a test's own event loop
serves the webhook target, use the `a…` methods so the loop is free to answer the delivery.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from devhost.sandbox_gateway import PREFIX, SandboxGateway
from shared.payments.gateways.moyasar import MoyasarGateway
from shared.payments.gateways.sandbox import SANDBOX_PUBLISHABLE_KEY, SANDBOX_SECRET_KEY

TEST_WEBHOOK_SECRET = "test-sandbox-webhook-secret"
START_TIMEOUT_SECONDS = 10.0


class SandboxServer:
    """A running sandbox and the calls a test drives it with (HTTP, like the dev host's)."""

    def __init__(self, origin: str, webhook_secret: str) -> None:
        self.origin = origin
        self.root = f"{origin}{PREFIX}"
        self.base_url = f"{self.root}/v1"  # SANDBOX_GATEWAY_BASE_URL
        self.sink_url = f"{self.root}/control/sink"
        self.webhook_secret = webhook_secret
        self._client = httpx.Client(base_url=self.root, timeout=30)

    def settings(self) -> dict[str, str]:
        """App settings that make the app's sandbox gateway this server."""
        return {
            "PAYMENT_GATEWAY": "sandbox",
            "SANDBOX_GATEWAY_BASE_URL": self.base_url,
            "SANDBOX_WEBHOOK_SECRET": self.webhook_secret,
        }

    def gateway(self, *, secret_key: str = SANDBOX_SECRET_KEY, name: str = "sandbox", **options: Any) -> MoyasarGateway:
        """The Moyasar adapter against this server; retries without waiting unless told."""
        defaults: dict[str, Any] = {
            "webhook_secret": self.webhook_secret,
            "timeout_seconds": 5.0,
            "retry_initial_seconds": 0.0,
            "retry_max_seconds": 0.0,
        }
        return MoyasarGateway(
            name=name,
            base_url=self.base_url,
            secret_key=secret_key,
            publishable_key=SANDBOX_PUBLISHABLE_KEY,
            **(defaults | options),
        )

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._client.request(method, path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    async def _acall(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(base_url=self.root, timeout=30) as client:
            response = await client.request(method, path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def approve(self, invoice_id: str, method: str = "mada") -> dict[str, Any]:
        """The shopper pays: `{"payment": …, "delivery": …}` once the webhook was attempted."""
        return self._call("POST", f"/control/invoices/{invoice_id}/approve", {"method": method})

    def decline(self, invoice_id: str, method: str = "mada") -> dict[str, Any]:
        return self._call("POST", f"/control/invoices/{invoice_id}/decline", {"method": method})

    async def aapprove(self, invoice_id: str, method: str = "mada") -> dict[str, Any]:
        return await self._acall("POST", f"/control/invoices/{invoice_id}/approve", {"method": method})

    async def adecline(self, invoice_id: str, method: str = "mada") -> dict[str, Any]:
        return await self._acall("POST", f"/control/invoices/{invoice_id}/decline", {"method": method})

    def fault(
        self,
        status: int = 0,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        """The next `times` API calls matching method and path (a substring after /v1) stall
        `delay_seconds` and then answer `status` (0: normally)."""
        body = {"status": status, "times": times, "method": method, "path": path, "delay_seconds": delay_seconds}
        self._call("POST", "/control/faults", body)

    def clear_faults(self) -> None:
        self._call("DELETE", "/control/faults")

    def requests(self, *, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """API calls received (`method`, `path` after /v1, `status`, `faulted`), oldest first."""
        found = self._call("GET", "/control/requests")["requests"]
        return [r for r in found if (method in (None, r["method"])) and (path is None or path in r["path"])]

    def deliveries(self) -> list[dict[str, Any]]:
        """Webhooks sent (after waiting for those in flight): payload, url, status, attempts."""
        return self._call("GET", "/control/deliveries")["deliveries"]

    async def adeliveries(self) -> list[dict[str, Any]]:
        return (await self._acall("GET", "/control/deliveries"))["deliveries"]

    def redeliver(self, event_id: str) -> dict[str, Any]:
        return self._call("POST", f"/control/deliveries/{event_id}/redeliver")

    async def aredeliver(self, event_id: str) -> dict[str, Any]:
        return await self._acall("POST", f"/control/deliveries/{event_id}/redeliver")

    def set_webhook(self, url: str | None = None, secret: str | None = None) -> None:
        body: dict[str, Any] = {"url": url}
        if secret is not None:
            body["secret"] = secret
        self._call("PUT", "/control/webhook", body)

    def capture_webhooks(self) -> None:
        """Deliver webhooks to the sandbox's own sink; read them with `captured()`."""
        self.set_webhook(self.sink_url)

    def captured(self) -> list[dict[str, Any]]:
        """Bodies posted to the sink, in order, as raw text (`body`) and headers."""
        return self._call("GET", "/control/sink")["captured"]

    def reset(self) -> None:
        self._call("POST", "/control/reset")
        self.set_webhook(None, self.webhook_secret)

    def close(self) -> None:
        self._client.close()


@contextlib.contextmanager
def running_sandbox(
    *, webhook_secret: str = TEST_WEBHOOK_SECRET, webhook_url: str | None = None
) -> Iterator[SandboxServer]:
    """A sandbox served by uvicorn on a thread of its own (its own event loop), on a free port."""
    app = SandboxGateway(webhook_secret=webhook_secret, webhook_url=webhook_url)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sandbox-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox gateway did not start")
        time.sleep(0.02)
    handle = SandboxServer(f"http://127.0.0.1:{sock.getsockname()[1]}", webhook_secret)
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with running_sandbox() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session's sandbox, emptied for this test."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.clear_faults()


# ---- paying orders through the app in-process, against the sandbox and a test's own queue


async def start_payment(headers: dict[str, str], order_id: str) -> tuple[int, dict]:
    from tests.support import call

    status, _, body = await call(
        "start_payment", "POST", f"orders/{order_id}/payments", headers=headers, route_params={"id": order_id}
    )
    return status, body


async def post_webhook(body: bytes, gateway: str = "sandbox") -> tuple[int, dict]:
    from tests.support import call

    status, _, response = await call(
        "payment_webhook",
        "POST",
        f"webhooks/payments/{gateway}",
        raw=body,
        headers={"content-type": "application/json"},
        route_params={"gateway": gateway},
    )
    return status, response


async def payment_messages(queue_name: str) -> list[bytes]:
    """Every message on the payment events queue, removed (decoded as the host would)."""
    import base64

    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import queue_client

    client, bodies = queue_client(queue_name), []
    try:
        async for message in client.receive_messages(messages_per_page=32, visibility_timeout=60):
            bodies.append(base64.b64decode(message.content))
            await client.delete_message(message)
    except ResourceNotFoundError:
        return []
    return bodies


async def process_queue(queue_name: str, *, concurrently: bool = False) -> list[str]:
    """What `on_payment_event` does with every queued message; returns the outcomes."""
    import asyncio

    from shared.payments import service

    messages = await payment_messages(queue_name)
    if concurrently:
        return list(await asyncio.gather(*(service.process_payment_event(body) for body in messages)))
    return [await service.process_payment_event(body) for body in messages]
