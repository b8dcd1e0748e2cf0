"""The Moyasar adapter: hosted checkout through invoices, over httpx.

Wire facts (https://docs.moyasar.com): base URL from settings (`https://api.moyasar.com/v1`);
HTTP Basic auth with the secret key as the user name and an empty password; amounts are
integers in the smallest unit (halalas: 10.00 SAR = 1000).

**Invoice id ↔ payment id.** A server-created hosted checkout is a Moyasar *invoice*:
`POST /invoices {amount, currency, description, success_url, back_url, metadata}` answers the
invoice with its checkout `url`. The shopper may make several payment *attempts* against it (a
declined card, then a good one); each is a Moyasar payment whose object carries `invoice_id`,
and each attempt's webhook carries that payment object as `data`. So:

- `gateway_payment_id` is always the **invoice id**: it exists before the shopper pays, is what
  `Checkout` returns and the payments row stores, and every attempt's webhook maps back to it
  (`WebhookEvent.gateway_payment_id` = `data.invoice_id`, or `data.id` for a payment made
  without an invoice).
- `fetch_payment(invoice_id)` reads `GET /invoices/{id}` (retried: it is idempotent), whose
  `payments` lists the attempts, and reports the deciding one: the last attempt that moved money
  (paid, authorized, captured, refunded, voided), else the last attempt, else the invoice's own
  status (`initiated`; or `expired` / `canceled` when it lapsed unpaid). A failed attempt
  therefore never hides a paid one, whatever order their webhooks arrive in.
- `refund` and `void` act on that deciding attempt's *payment* id:
  `POST /payments/{payment_id}/refund {"amount": n}` and `POST /payments/{payment_id}/void`.
  The answer is reported under the invoice id too.

`callback_url` (where the shopper comes back) is sent as the invoice's `success_url` and
`back_url`. The invoice's own `callback_url` (a server notification without a secret) is not
used: webhooks carry the `secret_token`.

Retries: only idempotent reads (`GET`) are retried, on `GatewayUnavailable` (timeout,
connection error, 429, 5xx), with exponential back-off (tenacity). Creating an invoice,
refunding and voiding are never retried here: a timeout may mean it happened, and the payments
domain reconciles by fetching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from shared.payments.gateways import moyasar_wire as wire
from shared.payments.gateways.base import (
    Checkout,
    GatewayMisconfigured,
    GatewayPayment,
    GatewayRejected,
    GatewayUnavailable,
    WebhookEvent,
)
from shared.platform.http_clients import pooled_client

# One pooled client per event loop, shared with the other outbound API calls.
_shared_client = pooled_client


@dataclass
class MoyasarGateway:
    """Moyasar (or the sandbox: the same wire, another base URL, key and webhook secret)."""

    name: str
    base_url: str
    secret_key: str
    publishable_key: str | None
    webhook_secret: str
    timeout_seconds: float
    get_attempts: int = 3  # GET tries in all (the first and two retries)
    retry_initial_seconds: float = 0.2
    retry_max_seconds: float = 2.0

    async def create_checkout(
        self, *, amount_minor: int, currency: str, description: str, callback_url: str, metadata: dict[str, str]
    ) -> Checkout:
        body = {
            "amount": amount_minor,
            "currency": currency,
            "description": description,
            "success_url": callback_url,
            "back_url": callback_url,
            "metadata": metadata,
        }
        invoice = await self._send("POST", "/invoices", body)
        return Checkout(
            gateway=self.name,
            gateway_payment_id=str(invoice["id"]),
            checkout_url=invoice.get("url"),
            publishable_key=self.publishable_key or None,
            status=str(invoice.get("status") or "initiated"),
            raw=invoice,
        )

    async def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        return wire.payment_from_invoice(await self._invoice(gateway_payment_id))

    async def refund(self, gateway_payment_id: str, amount_minor: int) -> GatewayPayment:
        invoice, attempt_id = await self._deciding_attempt(gateway_payment_id, "refund")
        answer = await self._send("POST", f"/payments/{quote(attempt_id, safe='')}/refund", {"amount": amount_minor})
        return wire.payment_from_attempt(answer, invoice)

    async def void(self, gateway_payment_id: str) -> GatewayPayment:
        invoice, attempt_id = await self._deciding_attempt(gateway_payment_id, "void")
        answer = await self._send("POST", f"/payments/{quote(attempt_id, safe='')}/void", None)
        return wire.payment_from_attempt(answer, invoice)

    def authenticate_webhook(self, body: bytes) -> WebhookEvent:
        return wire.webhook_event(self.name, body, self.webhook_secret)

    async def _invoice(self, invoice_id: str) -> dict[str, Any]:
        path = f"/invoices/{quote(invoice_id, safe='')}"
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(GatewayUnavailable),
            stop=stop_after_attempt(self.get_attempts),
            wait=wait_exponential_jitter(
                multiplier=self.retry_initial_seconds, max=self.retry_max_seconds, jitter=self.retry_initial_seconds
            ),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send("GET", path, None)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _deciding_attempt(self, invoice_id: str, action: str) -> tuple[dict[str, Any], str]:
        invoice = await self._invoice(invoice_id)
        attempt = wire.settled_attempt(invoice)
        if attempt is None or attempt.get("status") not in wire.SETTLED_STATUSES:
            raise GatewayRejected(f"invoice {invoice_id} has no settled payment to {action}")
        return invoice, str(attempt["id"])

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if not self.secret_key:
            raise GatewayMisconfigured(f"{self.name} has no secret key configured")
        try:
            response = await _shared_client().request(
                method,
                self.base_url.rstrip("/") + path,
                json=body,
                auth=httpx.BasicAuth(self.secret_key, ""),
                timeout=httpx.Timeout(self.timeout_seconds),
                headers={"accept": "application/json"},
            )
        except httpx.TimeoutException as error:
            raise GatewayUnavailable(f"{self.name} timed out on {method} {path}") from error
        except httpx.TransportError as error:
            raise GatewayUnavailable(f"{self.name} unreachable on {method} {path}: {type(error).__name__}") from error
        if response.status_code >= 300:
            raise wire.error_for_status(response.status_code, wire.error_message(response.content))
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict) or "id" not in document:
            raise GatewayUnavailable(f"{self.name} answered {method} {path} with no JSON object")
        return document
