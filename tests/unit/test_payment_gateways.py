"""Moyasar's shapes mapped to the gateway interface (pure), and which gateway a name selects."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared.payments.gateways import moyasar_wire as wire
from shared.payments.gateways.base import (
    GatewayMisconfigured,
    GatewayRejected,
    GatewayUnavailable,
    WebhookUnauthenticated,
)


@pytest.mark.parametrize(
    ("source", "method"),
    [
        ({"type": "creditcard", "company": "mada"}, "mada"),
        ({"type": "creditcard", "company": "visa"}, "visa"),
        ({"type": "creditcard", "company": "master"}, "mastercard"),
        ({"type": "creditcard", "company": "MASTER"}, "mastercard"),
        ({"type": "creditcard", "company": "amex"}, "amex"),
        ({"type": "applepay", "company": "visa"}, "applepay"),
        ({"type": "stcpay", "mobile": "0500000000"}, "stcpay"),
        ({"type": "samsungpay", "company": "mada"}, "samsungpay"),
        ({"type": "creditcard"}, "creditcard"),
        ({}, None),
        (None, None),
        ("creditcard", None),
    ],
)
def test_method_from_the_source(source, method):
    assert wire.method_of(source) == method


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, GatewayRejected),
        (404, GatewayRejected),
        (405, GatewayRejected),
        (401, GatewayMisconfigured),
        (403, GatewayMisconfigured),
        (429, GatewayUnavailable),
        (500, GatewayUnavailable),
        (502, GatewayUnavailable),
        (503, GatewayUnavailable),
    ],
)
def test_error_for_status(status, error):
    assert type(wire.error_for_status(status, "m")) is error


def test_error_message_reads_moyasar_errors_and_anything_else():
    body = {"type": "invalid_request_error", "message": "Validation Failed", "errors": {"amount": ["too small"]}}
    assert (
        wire.error_message(json.dumps(body).encode())
        == 'invalid_request_error: Validation Failed: {"amount": ["too small"]}'
    )
    assert wire.error_message(b"<html>Bad Gateway</html>") == "<html>Bad Gateway</html>"
    assert wire.error_message(b"[1, 2]") == "[1, 2]"


def attempt(status: str, **extra) -> dict:
    return {"id": f"pay-{status}", "status": status, "amount": 1000, "currency": "SAR", "refunded": 0, **extra}


def invoice(*attempts: dict, status: str = "initiated") -> dict:
    return {
        "id": "inv-1",
        "status": status,
        "amount": 1000,
        "currency": "SAR",
        "payments": list(attempts),
        "metadata": {"order_id": "o-1", "payment_id": "p-1"},
    }


@pytest.mark.parametrize(
    ("attempts", "deciding"),
    [
        ([], None),
        ([attempt("failed")], "failed"),
        ([attempt("failed"), attempt("paid")], "paid"),
        ([attempt("paid"), attempt("failed")], "paid"),  # a later decline never hides the money
        ([attempt("refunded"), attempt("failed")], "refunded"),
        ([attempt("authorized")], "authorized"),
        ([attempt("initiated")], "initiated"),
    ],
)
def test_the_deciding_attempt(attempts, deciding):
    found = wire.settled_attempt(invoice(*attempts))
    assert (found or {}).get("status") == deciding


def test_an_invoice_without_attempts_reads_as_its_own_status():
    payment = wire.payment_from_invoice(invoice(status="expired"))
    assert (payment.gateway_payment_id, payment.status, payment.amount_minor) == ("inv-1", "expired", 1000)
    assert (payment.refunded_minor, payment.method, payment.metadata) == (
        0,
        None,
        {"order_id": "o-1", "payment_id": "p-1"},
    )


def test_a_paid_invoice_reads_as_its_paid_attempt_keyed_by_the_invoice():
    paid = attempt("refunded", refunded=400, source={"type": "creditcard", "company": "master"}, metadata={"x": 1})
    payment = wire.payment_from_invoice(invoice(attempt("failed"), paid, status="refunded"))
    assert (payment.gateway_payment_id, payment.status, payment.refunded_minor) == ("inv-1", "refunded", 400)
    assert payment.method == "mastercard"
    assert payment.metadata == {"x": "1", "order_id": "o-1", "payment_id": "p-1"}


def test_malformed_amounts_read_as_zero_never_as_booleans():
    payment = wire.payment_from_attempt({"id": "p", "status": "paid", "amount": True, "refunded": "5"}, invoice())
    assert (payment.amount_minor, payment.refunded_minor, payment.currency) == (0, 0, "SAR")


def body(**fields) -> bytes:
    document = {
        "id": "evt-1",
        "type": "payment_paid",
        "created_at": "2026-01-01T00:00:00.000Z",
        "secret_token": "s3cret",
        "account_name": "Souq",
        "live": False,
        "data": {"id": "pay-1", "invoice_id": "inv-1", "status": "paid", "updated_at": "2026-01-01T00:00:01.000Z"},
    }
    return json.dumps({**document, **fields}).encode()


def test_a_webhook_event_is_keyed_by_its_invoice_and_loses_its_secret():
    event = wire.webhook_event("moyasar", body(), "s3cret")
    assert (event.gateway, event.event_id, event.event_type, event.gateway_payment_id) == (
        "moyasar",
        "evt-1",
        "payment_paid",
        "inv-1",
    )
    assert "secret_token" not in event.raw and event.raw["account_name"] == "Souq"


def test_a_payment_without_invoice_and_an_event_without_id():
    data = {"id": "pay-9", "invoice_id": None, "updated_at": "2026-01-01T00:00:09.000Z"}
    event = wire.webhook_event("moyasar", body(id=None, type="payment_faild", data=data), "s3cret")
    assert (event.gateway_payment_id, event.event_type) == ("pay-9", "payment_failed")
    assert event.event_id == "payment_failed:pay-9:2026-01-01T00:00:09.000Z"


@pytest.mark.parametrize(
    "payload",
    [
        body(secret_token="S3CRET"),
        body(secret_token=None),
        body(secret_token=["s3cret"]),
        body(secret_token="s3cret\u00e9"),
        body(data={"invoice_id": "inv-1"}),
        body(data={"id": ""}),
        body(type=""),
        b"null",
        b"{",
    ],
)
def test_webhooks_refused(payload):
    with pytest.raises(WebhookUnauthenticated):
        wire.webhook_event("moyasar", payload, "s3cret")


def test_gateway_for_names(minimal_settings):
    from shared.payments.gateways import default_gateway, gateway_for
    from shared.platform.config import reset_settings

    minimal_settings.setenv("MOYASAR_SECRET_KEY", "sk_test_1")
    minimal_settings.setenv("SOUQ_ENV", "local")
    minimal_settings.setenv("PAYMENT_GATEWAY", "sandbox")
    reset_settings()
    moyasar = gateway_for("moyasar")
    assert (moyasar.name, moyasar.base_url, moyasar.secret_key) == (
        "moyasar",
        "https://api.moyasar.com/v1",
        "sk_test_1",
    )  # type: ignore[attr-defined]
    assert default_gateway().name == gateway_for("sandbox").name == "sandbox"
    with pytest.raises(KeyError):
        gateway_for("paypal")

    minimal_settings.setenv("SOUQ_ENV", "production")
    minimal_settings.setenv("PAYMENT_GATEWAY", "moyasar")
    reset_settings()
    with pytest.raises(KeyError):
        gateway_for("sandbox")
    assert default_gateway().name == "moyasar"


@pytest.mark.parametrize(
    ("environment", "gateway"), [("local", "sandbox"), ("test", "sandbox"), ("production", "moyasar")]
)
def test_an_unset_gateway_follows_the_environment(minimal_settings, environment, gateway):
    from shared.platform.config import get_settings, reset_settings

    minimal_settings.delenv("PAYMENT_GATEWAY", raising=False)
    minimal_settings.setenv("SOUQ_ENV", environment)
    reset_settings()
    assert get_settings().payment_gateway == gateway


def test_the_sandbox_is_refused_as_the_production_gateway(minimal_settings):
    from shared.platform.config import SettingsError, get_settings, reset_settings

    minimal_settings.setenv("SOUQ_ENV", "staging")
    minimal_settings.setenv("PAYMENT_GATEWAY", "sandbox")
    reset_settings()
    with pytest.raises(SettingsError, match="PAYMENT_GATEWAY"):
        get_settings()


def test_the_interface_loads_without_the_adapters_http_stack():
    script = "import sys, shared.payments.gateways; print([m for m in ('httpx', 'tenacity') if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout == "[]\n"


async def test_a_gateway_without_a_key_calls_nobody():
    from shared.payments.gateways.moyasar import MoyasarGateway

    gateway = MoyasarGateway("moyasar", "http://127.0.0.1:9/v1", "", None, "", timeout_seconds=1)
    with pytest.raises(GatewayMisconfigured, match="no secret key"):
        await gateway.fetch_payment("inv-1")
