"""The payment gateway interface: what the payments domain codes against.

Implementations are async and httpx-based (`moyasar.MoyasarGateway`; the sandbox is the same
adapter pointed at the dev host's Moyasar-compatible server). `gateway_for(name)` in this
package's `__init__` picks one by the name in the webhook route or the payments row.

Errors say what the caller should do, not what went wrong on the wire:

- `GatewayUnavailable`: timeout, connection error, 429 or 5xx — try again later (→ 503).
- `GatewayRejected`: a 4xx retrying cannot fix (400 validation, 404 unknown id).
- `GatewayMisconfigured`: 401/403 — our key is wrong; log at error level (→ 503).
- `WebhookUnauthenticated`: a webhook with a missing or forged `secret_token`, or a body that is
  not a JSON object of the gateway's shape (→ 401, nothing stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Checkout:
    """What `POST /orders/{id}/payments` returns to the client, plus what we store."""

    gateway: str  # "moyasar" | "sandbox"
    gateway_payment_id: str  # the id webhooks and fetch_payment use (see moyasar.py for the mapping)
    checkout_url: str | None
    publishable_key: str | None
    status: str  # the gateway's own status word
    raw: dict[str, Any]


@dataclass(frozen=True)
class GatewayPayment:
    gateway_payment_id: str
    status: str  # the gateway's own word: initiated, paid, failed, authorized, captured, refunded, voided
    amount_minor: int  # halalas
    currency: str
    refunded_minor: int
    method: str | None  # mada, visa, mastercard, amex, applepay, stcpay, ...
    metadata: dict[str, str]  # carries order_id (and payment_id: our row id) sent at creation
    raw: dict[str, Any]


@dataclass(frozen=True)
class WebhookEvent:
    gateway: str
    event_id: str  # the gateway's event id, or a derived key (type + payment id + updated_at)
    # payment_paid, payment_failed, payment_refunded, payment_voided, payment_authorized, payment_captured
    event_type: str
    gateway_payment_id: str
    raw: dict[str, Any]  # the payload WITHOUT the secret_token


class GatewayError(Exception):
    """A gateway call did not do what was asked."""


class GatewayUnavailable(GatewayError):
    """Timeout, connection error, 429 or 5xx: try again later (→ 503)."""


class GatewayRejected(GatewayError):
    """A 4xx the caller cannot fix by retrying (400 validation, 404 unknown id)."""


class GatewayMisconfigured(GatewayError):
    """401/403: our key is wrong (log at error level, → 503)."""


class WebhookUnauthenticated(Exception):
    """Missing or forged secret_token, or a malformed body (→ 401, nothing stored)."""


class PaymentGateway(Protocol):
    name: str

    async def create_checkout(
        self, *, amount_minor: int, currency: str, description: str, callback_url: str, metadata: dict[str, str]
    ) -> Checkout: ...

    async def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment: ...

    async def refund(self, gateway_payment_id: str, amount_minor: int) -> GatewayPayment: ...

    async def void(self, gateway_payment_id: str) -> GatewayPayment: ...

    def authenticate_webhook(self, body: bytes) -> WebhookEvent: ...
