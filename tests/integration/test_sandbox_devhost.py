"""The dev host serves the sandbox gateway: Moyasar's API under /.sandbox/moyasar/v1, the hosted
checkout page, and a tester's decision delivered as a Moyasar webhook to the app's own
/api/webhooks/payments/sandbox route on the same host (no SANDBOX_WEBHOOK_URL needed)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import azure.functions as func
import httpx
import pytest
import uvicorn

from devhost.__main__ import DevServer
from devhost.asgi import DevHostApp
from devhost.host import DevHost
from devhost.sandbox_gateway import SandboxGateway
from shared.payments.gateways.moyasar import MoyasarGateway
from shared.payments.gateways.sandbox import SANDBOX_SECRET_KEY
from shared.platform.hostjson import HostConfig

SECRET = "devhost-sandbox-secret"


def webhook_app(received: list[bytes]) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="webhooks/payments/{gateway}", methods=["POST"])
    async def payment_webhook(req: func.HttpRequest) -> func.HttpResponse:
        received.append(req.get_body())
        return func.HttpResponse(status_code=200)

    return app


@pytest.fixture
async def served() -> AsyncIterator[tuple[httpx.AsyncClient, list[bytes]]]:
    received: list[bytes] = []
    host = DevHost(
        webhook_app(received),
        HostConfig.from_dict({"version": "2.0"}, {}),
        environ={},
        enable_timers=False,
        enable_queues=False,
    )
    app = DevHostApp(host, sandbox=SandboxGateway(webhook_secret=SECRET))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    listening = asyncio.Event()
    config = uvicorn.Config(app, lifespan="off", log_level="warning", log_config=None)
    server = DevServer(config, lambda port: listening.set())
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        await listening.wait()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=10) as client:
        yield client, received
    server.should_exit = True
    await task
    sock.close()


async def test_a_tester_pays_on_the_checkout_page_and_the_app_hears_of_it(served):
    client, received = served
    gateway = MoyasarGateway(
        name="sandbox",
        base_url=f"{client.base_url}/.sandbox/moyasar/v1",
        secret_key=SANDBOX_SECRET_KEY,
        publishable_key=None,
        webhook_secret=SECRET,
        timeout_seconds=5,
    )
    checkout = await gateway.create_checkout(
        amount_minor=2500, currency="SAR", description="Order SQ-7", callback_url="http://shop/back?x=1", metadata={}
    )
    assert checkout.checkout_url == f"{client.base_url}/.sandbox/moyasar/pay/{checkout.gateway_payment_id}"

    page = await client.get(checkout.checkout_url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "25.00 SAR" in page.text and "Approve payment" in page.text

    outcome = await client.post(f"{checkout.checkout_url}/approve", data={"method": "stcpay"})
    assert outcome.status_code == 200 and "answered 200" in outcome.text
    assert "http://shop/back?x=1&amp;id=" in outcome.text and "status=paid" in outcome.text

    [body] = received
    assert json.loads(body)["secret_token"] == SECRET
    event = gateway.authenticate_webhook(body)
    assert (event.event_type, event.gateway_payment_id) == ("payment_paid", checkout.gateway_payment_id)
    assert (await gateway.fetch_payment(checkout.gateway_payment_id)).method == "stcpay"
    assert "Nothing left to pay" in (await client.get(checkout.checkout_url)).text


async def test_the_api_wants_the_sandbox_key_and_unknown_paths_are_404(served):
    client, _ = served
    refused = await client.post("/.sandbox/moyasar/v1/invoices", json={"amount": 1000}, auth=("sk_live_x", ""))
    assert refused.status_code == 401 and refused.json()["type"] == "authentication_error"
    assert (await client.get("/.sandbox/moyasar/nowhere")).status_code == 404
    assert (await client.get("/.sandbox/moyasar/return?id=p&status=paid")).status_code == 200
