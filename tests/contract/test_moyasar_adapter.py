"""The Moyasar adapter against a local server answering Moyasar's documented shapes
(devhost/sandbox_gateway.py): checkout, paid and failed payments, refunds, voids, the error
statuses and which calls are retried (counted at the server), and webhook authentication."""

from __future__ import annotations

import json
import socket

import pytest

from shared.payments.gateways import (
    GatewayMisconfigured,
    GatewayRejected,
    GatewayUnavailable,
    WebhookUnauthenticated,
)
from shared.payments.gateways.moyasar import MoyasarGateway
from tests.payments_support import TEST_WEBHOOK_SECRET, SandboxServer

METADATA = {"order_id": "7c0b2f4e-0000-4000-8000-000000000001", "payment_id": "p-1"}
WEBHOOK_KEYS = {"id", "type", "created_at", "secret_token", "account_name", "live", "data"}


async def checkout(gateway: MoyasarGateway, amount: int = 11500) -> str:
    created = await gateway.create_checkout(
        amount_minor=amount,
        currency="SAR",
        description="Order SQ-1001",
        callback_url="http://localhost:7071/.sandbox/moyasar/return",
        metadata=METADATA,
    )
    return created.gateway_payment_id


def webhook_bodies(sandbox: SandboxServer) -> list[bytes]:
    return [item["body"].encode("utf-8") for item in sandbox.captured()]


async def test_checkout_is_an_invoice_with_a_hosted_url(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    created = await gateway.create_checkout(
        amount_minor=11500,
        currency="SAR",
        description="Order SQ-1001",
        callback_url="http://shop/back",
        metadata=METADATA,
    )
    assert created.gateway == "sandbox" and created.status == "initiated"
    assert created.checkout_url == f"{sandbox.root}/pay/{created.gateway_payment_id}"
    assert created.publishable_key == "pk_test_sandbox"
    assert created.raw["amount"] == 11500 and created.raw["amount_format"] == "115.00 SAR"
    assert created.raw["success_url"] == created.raw["back_url"] == "http://shop/back"
    assert sandbox.requests() == [{"method": "POST", "path": "/invoices", "status": 201, "faulted": False}]

    fetched = await gateway.fetch_payment(created.gateway_payment_id)
    assert (fetched.status, fetched.amount_minor, fetched.currency) == ("initiated", 11500, "SAR")
    assert (fetched.refunded_minor, fetched.method, fetched.metadata) == (0, None, METADATA)


async def test_a_paid_payment_and_its_webhook(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.capture_webhooks()
    answer = sandbox.approve(invoice_id, method="mada")
    assert answer["delivery"]["delivered"] and answer["payment"]["invoice_id"] == invoice_id

    paid = await gateway.fetch_payment(invoice_id)
    assert (paid.gateway_payment_id, paid.status, paid.amount_minor, paid.method) == (invoice_id, "paid", 11500, "mada")
    assert paid.metadata == METADATA

    [body] = webhook_bodies(sandbox)
    assert set(json.loads(body)) == WEBHOOK_KEYS
    event = gateway.authenticate_webhook(body)
    assert (event.gateway, event.event_type, event.gateway_payment_id) == ("sandbox", "payment_paid", invoice_id)
    assert event.event_id == json.loads(body)["id"]
    assert "secret_token" not in event.raw and event.raw["data"]["id"] == answer["payment"]["id"]


async def test_a_failed_payment_then_a_paid_one_reads_paid(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.capture_webhooks()
    sandbox.decline(invoice_id, method="visa")
    failed = await gateway.fetch_payment(invoice_id)
    assert (failed.status, failed.method) == ("failed", "visa")

    sandbox.approve(invoice_id, method="applepay")
    assert (await gateway.fetch_payment(invoice_id)).status == "paid"
    types = [gateway.authenticate_webhook(body).event_type for body in webhook_bodies(sandbox)]
    assert types == ["payment_failed", "payment_paid"]


async def test_a_bad_key_is_misconfigured_and_not_retried(sandbox: SandboxServer):
    invoice_id = await checkout(sandbox.gateway())
    wrong = sandbox.gateway(secret_key="sk_test_wrong")
    with pytest.raises(GatewayMisconfigured, match="401"):
        await wrong.create_checkout(
            amount_minor=1000, currency="SAR", description="x", callback_url="http://x", metadata={}
        )
    with pytest.raises(GatewayMisconfigured):
        await wrong.fetch_payment(invoice_id)
    assert [r["status"] for r in sandbox.requests()] == [201, 401, 401]


async def test_an_unknown_id_and_an_invalid_body_are_rejected(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    with pytest.raises(GatewayRejected, match="404"):
        await gateway.fetch_payment("00000000-0000-4000-8000-000000000000")
    with pytest.raises(GatewayRejected, match=r"400.*amount"):
        await checkout(gateway, amount=99)  # Moyasar's minimum is 100
    assert [r["status"] for r in sandbox.requests()] == [404, 400]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_reads_are_retried_through_transient_errors(sandbox: SandboxServer, status: int):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.fault(status, times=2, method="GET")
    assert (await gateway.fetch_payment(invoice_id)).status == "initiated"
    assert [r["status"] for r in sandbox.requests(method="GET")] == [status, status, 200]


async def test_reads_give_up_after_three_tries(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.fault(502, times=10, method="GET")
    with pytest.raises(GatewayUnavailable, match="502"):
        await gateway.fetch_payment(invoice_id)
    assert len(sandbox.requests(method="GET")) == 3


@pytest.mark.parametrize("status", [429, 500])
async def test_create_is_never_retried(sandbox: SandboxServer, status: int):
    sandbox.fault(status, times=5, method="POST")
    with pytest.raises(GatewayUnavailable, match=str(status)):
        await checkout(sandbox.gateway())
    assert len(sandbox.requests(method="POST")) == 1


async def test_refund_and_void_are_never_retried(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.approve(invoice_id)
    sandbox.fault(503, times=5, method="POST", path="/refund")
    with pytest.raises(GatewayUnavailable):
        await gateway.refund(invoice_id, 500)
    sandbox.fault(500, times=5, method="POST", path="/void")
    with pytest.raises(GatewayUnavailable):
        await gateway.void(invoice_id)
    assert [r["path"].rsplit("/", 1)[1] for r in sandbox.requests(method="POST")] == ["invoices", "refund", "void"]
    assert (await gateway.fetch_payment(invoice_id)).refunded_minor == 0


async def test_a_timeout_is_unavailable_and_retried_only_for_reads(sandbox: SandboxServer):
    gateway = sandbox.gateway(timeout_seconds=0.2)
    invoice_id = await checkout(gateway)
    sandbox.fault(0, times=1, method="GET", delay_seconds=1.0)
    assert (await gateway.fetch_payment(invoice_id)).status == "initiated"
    sandbox.fault(0, times=1, method="POST", delay_seconds=1.0)
    with pytest.raises(GatewayUnavailable, match="timed out"):
        await checkout(gateway)
    assert len(sandbox.requests(method="POST")) == 2  # the first checkout and the timed-out one


async def test_an_unreachable_gateway_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    gateway = MoyasarGateway(
        name="moyasar",
        base_url=f"http://127.0.0.1:{port}/v1",
        secret_key="sk_test_x",
        publishable_key=None,
        webhook_secret="s",
        timeout_seconds=1.0,
        retry_initial_seconds=0.0,
        retry_max_seconds=0.0,
    )
    with pytest.raises(GatewayUnavailable, match="unreachable"):
        await gateway.fetch_payment("any")


async def test_partial_then_full_refund(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway, amount=1000)
    sandbox.approve(invoice_id)
    sandbox.capture_webhooks()

    partial = await gateway.refund(invoice_id, 300)
    assert (partial.gateway_payment_id, partial.status, partial.refunded_minor) == (invoice_id, "refunded", 300)
    full = await gateway.refund(invoice_id, 700)
    assert (full.refunded_minor, full.amount_minor, full.metadata) == (1000, 1000, METADATA)
    with pytest.raises(GatewayRejected, match="400"):
        await gateway.refund(invoice_id, 1)
    assert (await gateway.fetch_payment(invoice_id)).refunded_minor == 1000

    sent = [d for d in sandbox.deliveries() if d["event_type"] == "payment_refunded"]
    assert [d["payload"]["data"]["refunded"] for d in sent] == [300, 1000]
    assert {gateway.authenticate_webhook(body).gateway_payment_id for body in webhook_bodies(sandbox)} == {invoice_id}


async def test_void_and_nothing_after_it(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.approve(invoice_id)
    voided = await gateway.void(invoice_id)
    assert (voided.status, voided.raw["voided_at"] is not None) == ("voided", True)
    assert (await gateway.fetch_payment(invoice_id)).status == "voided"
    with pytest.raises(GatewayRejected):
        await gateway.refund(invoice_id, 100)
    assert [d["event_type"] for d in sandbox.deliveries()] == ["payment_paid", "payment_voided"]


async def test_nothing_to_refund_before_payment_sends_no_refund(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.decline(invoice_id)
    with pytest.raises(GatewayRejected, match="no settled payment"):
        await gateway.refund(invoice_id, 100)
    with pytest.raises(GatewayRejected):
        await gateway.void(invoice_id)
    assert sandbox.requests(path="/payments/") == []


def signed(event: dict, secret: str | None = TEST_WEBHOOK_SECRET) -> bytes:
    document = dict(event)
    if secret is not None:
        document["secret_token"] = secret
    return json.dumps(document).encode("utf-8")


async def test_webhook_authentication(sandbox: SandboxServer):
    gateway = sandbox.gateway()
    invoice_id = await checkout(gateway)
    sandbox.capture_webhooks()
    sandbox.approve(invoice_id)
    [body] = webhook_bodies(sandbox)
    event = {k: v for k, v in json.loads(body).items() if k != "secret_token"}

    assert gateway.authenticate_webhook(signed(event)).gateway_payment_id == invoice_id
    refused = [
        signed(event, "forged-secret"),
        signed(event, TEST_WEBHOOK_SECRET + "x"),
        signed(event, None),
        signed(event, ""),
        signed({**event, "secret_token": 12345}, None),
        b'{"secret_token": "' + TEST_WEBHOOK_SECRET.encode() + b'", ',  # malformed JSON
        b"[]",
        b'"a string"',
        b"\xff\xfe not utf-8",
        b"",
        signed({k: v for k, v in event.items() if k != "data"}),
        signed({**event, "data": "not an object"}),
        signed({**event, "type": None}),
    ]
    for body in refused:
        with pytest.raises(WebhookUnauthenticated):
            gateway.authenticate_webhook(body)


def test_an_unset_webhook_secret_refuses_everything(sandbox: SandboxServer):
    gateway = sandbox.gateway(webhook_secret="")
    with pytest.raises(WebhookUnauthenticated):
        gateway.authenticate_webhook(signed({"id": "e", "type": "payment_paid", "data": {"id": "p"}}, ""))
