"""Moyasar's JSON shapes to and from the gateway interface: pure functions, no I/O.

Unit-tested in tests/unit/test_moyasar_wire.py; the HTTP side is `moyasar.MoyasarGateway`.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from shared.payments.gateways.base import (
    GatewayError,
    GatewayMisconfigured,
    GatewayPayment,
    GatewayRejected,
    GatewayUnavailable,
    WebhookEvent,
    WebhookUnauthenticated,
)

# An attempt in one of these states moved (or holds) money: it decides the invoice's outcome
# over any failed attempt before or after it.
SETTLED_STATUSES = frozenset({"paid", "authorized", "captured", "refunded", "voided"})
# Moyasar's `source.company` words that differ from ours.
COMPANY_NAMES = {"master": "mastercard", "mastercard": "mastercard", "american_express": "amex"}
# Wallet sources name the method by their type; a card names it by its scheme (`company`).
WALLET_TYPES = frozenset({"applepay", "stcpay", "samsungpay", "googlepay"})
# The webhook reference spells the failure event `payment_faild`; the events API `payment_failed`.
EVENT_SPELLINGS = {"payment_faild": "payment_failed"}


def error_for_status(status: int, message: str) -> GatewayError:
    """The interface's error for a non-2xx answer."""
    if status in (401, 403):
        return GatewayMisconfigured(f"gateway refused our key ({status}): {message}")
    if status == 429 or status >= 500:
        return GatewayUnavailable(f"gateway unavailable ({status}): {message}")
    return GatewayRejected(f"gateway rejected the request ({status}): {message}")


def error_message(body: bytes) -> str:
    """Moyasar's `{"type", "message", "errors"}` as one line; the raw text when it is not that."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if not isinstance(document, dict):
        return str(document)[:200]
    parts = [str(document.get(key)) for key in ("type", "message") if document.get(key)]
    if document.get("errors"):
        parts.append(json.dumps(document["errors"], sort_keys=True))
    return ": ".join(parts)[:500]


def method_of(source: object) -> str | None:
    """mada, visa, mastercard, amex, applepay, stcpay … from a payment's `source`."""
    if not isinstance(source, dict):
        return None
    kind = str(source.get("type") or "").lower()
    if kind in WALLET_TYPES:
        return kind
    company = str(source.get("company") or "").lower()
    if company:
        return COMPANY_NAMES.get(company, company)
    return kind or None


def settled_attempt(invoice: dict[str, Any]) -> dict[str, Any] | None:
    """The attempt that decides an invoice: the last settled one, else the last attempt, else None."""
    attempts = [p for p in invoice.get("payments") or [] if isinstance(p, dict)]
    settled = [p for p in attempts if p.get("status") in SETTLED_STATUSES]
    chosen = settled or attempts
    return chosen[-1] if chosen else None


def _metadata(*sources: object) -> dict[str, str]:
    merged: dict[str, str] = {}
    for source in sources:
        if isinstance(source, dict):
            merged.update({str(k): str(v) for k, v in source.items() if v is not None})
    return merged


def _minor(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def payment_from_invoice(invoice: dict[str, Any]) -> GatewayPayment:
    """The invoice as one payment: its deciding attempt's state, keyed by the invoice id."""
    attempt = settled_attempt(invoice)
    current = attempt or invoice
    return GatewayPayment(
        gateway_payment_id=str(invoice["id"]),
        status=str(current.get("status") or invoice.get("status") or ""),
        amount_minor=_minor(current.get("amount")),
        currency=str(current.get("currency") or invoice.get("currency") or ""),
        refunded_minor=_minor(attempt.get("refunded")) if attempt else 0,
        method=method_of(attempt.get("source")) if attempt else None,
        # what we sent on the invoice wins over anything the attempt carries
        metadata=_metadata(attempt.get("metadata") if attempt else None, invoice.get("metadata")),
        raw=invoice,
    )


def payment_from_attempt(attempt: dict[str, Any], invoice: dict[str, Any]) -> GatewayPayment:
    """A payment object answered by refund or void, keyed by the invoice it belongs to."""
    return GatewayPayment(
        gateway_payment_id=str(invoice["id"]),
        status=str(attempt.get("status") or ""),
        amount_minor=_minor(attempt.get("amount")),
        currency=str(attempt.get("currency") or invoice.get("currency") or ""),
        refunded_minor=_minor(attempt.get("refunded")),
        method=method_of(attempt.get("source")),
        metadata=_metadata(attempt.get("metadata"), invoice.get("metadata")),
        raw=attempt,
    )


def _same_secret(presented: object, expected: str) -> bool:
    if not expected or not isinstance(presented, str):
        return False
    # bytes: compare_digest refuses non-ASCII str, and the sender controls `presented`
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def _parse_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookUnauthenticated("the body is not JSON") from None
    if not isinstance(document, dict):
        raise WebhookUnauthenticated("the body is not a JSON object")
    return document


def webhook_event(gateway: str, body: bytes, secret: str) -> WebhookEvent:
    """Authenticate a Moyasar webhook by its `secret_token` (constant time) and read its event.

    Shape: `{id, type, created_at, secret_token, account_name, live, data}`, `data` being the
    payment object. The event's payment id is the invoice id when the payment has one."""
    document = _parse_object(body)
    if not _same_secret(document.get("secret_token"), secret):
        raise WebhookUnauthenticated("missing or wrong secret_token")
    kind, data = document.get("type"), document.get("data")
    if not isinstance(kind, str) or not kind or not isinstance(data, dict):
        raise WebhookUnauthenticated("not a Moyasar event: no type or no data object")
    payment_id, invoice_id = data.get("id"), data.get("invoice_id")
    if not isinstance(payment_id, str) or not payment_id:
        raise WebhookUnauthenticated("not a Moyasar event: the payment has no id")
    event_type = EVENT_SPELLINGS.get(kind, kind)
    event_id = document.get("id")
    if not isinstance(event_id, str) or not event_id:
        event_id = f"{event_type}:{payment_id}:{data.get('updated_at') or ''}"
    return WebhookEvent(
        gateway=gateway,
        event_id=event_id,
        event_type=event_type,
        gateway_payment_id=invoice_id if isinstance(invoice_id, str) and invoice_id else payment_id,
        raw={key: value for key, value in document.items() if key != "secret_token"},
    )
