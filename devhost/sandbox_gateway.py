"""A Moyasar-compatible payment gateway for `make run` and tests (never deployed).

Served by the dev host under `/.sandbox/moyasar/` and startable alone on a free port
(`tests/payments_support.py`); `shared.payments.gateways.sandbox` is the Moyasar adapter pointed
at it. Stateful (`devhost.sandbox_ledger`): invoices, payment attempts, refunds, voids.

- `…/v1/invoices` (POST), `…/v1/invoices/{id}`, `…/v1/payments/{id}` (GET),
  `…/v1/payments/{id}/refund`, `…/v1/payments/{id}/void` (POST): Moyasar's API and JSON shapes,
  HTTP Basic auth with the sandbox secret key as the user name (anything else: 401).
- `…/pay/{invoice_id}`: the hosted checkout page (the invoice's `url`), with approve and decline
  buttons; `…/return`: where the sample `PAYMENT_CALLBACK_URL` brings the shopper back.
- Approving or declining delivers `payment_paid` / `payment_failed`, and a refund or void
  `payment_refunded` / `payment_voided`, by POST in Moyasar's webhook shape
  (`{id, type, created_at, secret_token, account_name, live, data}`) to `SANDBOX_WEBHOOK_URL`, by
  default the app's `/api/webhooks/payments/sandbox` on the host the sandbox was reached at.
  A failed delivery is retried after `redelivery_delays` (the dev host: a few, like Moyasar's).
- `…/control/…` (JSON, for tests): approve or decline without a browser, inject faults (the next
  N matching API calls answer a status, or stall), read the API requests and the deliveries,
  redeliver, point webhooks elsewhere, and a sink that captures whatever is posted to it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import re
import ssl
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from devhost import sandbox_pages as pages
from devhost.http_io import IncomingRequest, OutgoingResponse, Receive, Scope, Send, json_response, read_request
from devhost.sandbox_ledger import LedgerError, SandboxLedger, now_iso
from shared.payments.gateways.sandbox import SANDBOX_SECRET_KEY

log = logging.getLogger("devhost.sandbox")

PREFIX = "/.sandbox/moyasar"
WEBHOOK_PATH = "/api/webhooks/payments/sandbox"
DEV_HOST_REDELIVERY_DELAYS = (2.0, 10.0, 30.0, 60.0, 120.0)
Handler = Callable[[IncomingRequest, re.Match[str]], Awaitable[OutgoingResponse]]
# One TLS context for every delivery: httpx builds a new one (loading the CA bundle) per client
# otherwise, which was a sixth of the dev host's CPU under the load suite (docs/loadtest.md).
_TLS = ssl.create_default_context()


@dataclass
class Fault:
    """The next `times` API calls matching `method` and `path` (a substring of the path after
    /v1) stall `delay_seconds`, then answer `status` (0: answer normally after the stall)."""

    status: int = 0
    times: int = 1
    method: str | None = None
    path: str | None = None
    delay_seconds: float = 0.0

    def matches(self, request: IncomingRequest, api_path: str) -> bool:
        method_ok = self.method is None or self.method.upper() == request.method
        return self.times > 0 and method_ok and (self.path is None or self.path in api_path)


@dataclass
class Delivery:
    event_id: str
    event_type: str
    payment_id: str
    invoice_id: str | None
    url: str
    payload: dict[str, Any]
    attempts: int = 0
    status: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class SandboxGateway:
    webhook_secret: str
    webhook_url: str | None = None  # None: the app on the host the sandbox was reached at
    secret_key: str = SANDBOX_SECRET_KEY
    redelivery_delays: tuple[float, ...] = ()
    account_name: str = "Souq Sandbox"
    ledger: SandboxLedger = field(default_factory=SandboxLedger)
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    captured: list[dict[str, Any]] = field(default_factory=list)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> SandboxGateway:
        return cls(
            # the settings model's default when unset, so the app and the sandbox agree
            webhook_secret=environ.get("SANDBOX_WEBHOOK_SECRET") or "local-sandbox-webhook-secret",
            webhook_url=environ.get("SANDBOX_WEBHOOK_URL") or None,
            redelivery_delays=DEV_HOST_REDELIVERY_DELAYS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Standalone ASGI application (tests serve it with uvicorn on a free port)."""
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "http":
            await (await self.dispatch(await read_request(scope, receive))).send(send)

    async def dispatch(self, request: IncomingRequest) -> OutgoingResponse:
        path = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else request.path
        if path.startswith("/v1/"):
            return await self._api(request, path[3:])
        for method, pattern, handler in self._routes():
            match = pattern.fullmatch(path)
            if match and method == request.method:
                try:
                    return await handler(request, match)
                except LedgerError as error:
                    return json_response(error.document(), error.status)
        return json_response({"type": "invalid_request_error", "message": f"No route {path}"}, 404)

    def _routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/pay/([^/]+)", self._checkout_page),
            ("POST", r"/pay/([^/]+)/(approve|decline)", self._checkout_action),
            ("GET", r"/return", self._return_page),
            ("POST", r"/control/invoices/([^/]+)/(approve|decline)", self._control_attempt),
            ("POST", r"/control/faults", self._add_fault),
            ("DELETE", r"/control/faults", self._clear_faults),
            ("GET", r"/control/requests", self._list_requests),
            ("GET", r"/control/deliveries", self._list_deliveries),
            ("POST", r"/control/deliveries/([^/]+)/redeliver", self._redeliver),
            ("PUT", r"/control/webhook", self._set_webhook),
            ("POST", r"/control/sink", self._sink),
            ("GET", r"/control/sink", self._list_sink),
            ("POST", r"/control/reset", self._reset),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    # --- Moyasar's API ---------------------------------------------------------------------

    async def _api(self, request: IncomingRequest, api_path: str) -> OutgoingResponse:
        record: dict[str, Any] = {"method": request.method, "path": api_path, "status": 0, "faulted": False}
        self.requests.append(record)
        response = await self._faulted(request, api_path)
        record["faulted"] = response is not None
        if response is None:
            response = self._unauthorized() if not self._authorized(request) else None
        if response is None:
            try:
                response = await self._api_call(request, api_path)
            except LedgerError as error:
                response = json_response(error.document(), error.status)
        record["status"] = response.status
        return response

    async def _faulted(self, request: IncomingRequest, api_path: str) -> OutgoingResponse | None:
        fault = next((f for f in self.faults if f.matches(request, api_path)), None)
        if fault is None:
            return None
        fault.times -= 1
        if fault.delay_seconds:
            await asyncio.sleep(fault.delay_seconds)
        if not fault.status:
            return None
        kind = "rate_limit_error" if fault.status == 429 else "api_error"
        return json_response({"type": kind, "message": f"Injected fault {fault.status}", "errors": None}, fault.status)

    def _authorized(self, request: IncomingRequest) -> bool:
        scheme, _, encoded = (request.header("authorization") or "").partition(" ")
        try:
            user = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return False
        return scheme.lower() == "basic" and hmac.compare_digest(user.encode(), self.secret_key.encode())

    @staticmethod
    def _unauthorized() -> OutgoingResponse:
        document = {"type": "authentication_error", "message": "Invalid authorization credentials", "errors": None}
        return json_response(document, 401)

    async def _api_call(self, request: IncomingRequest, api_path: str) -> OutgoingResponse:
        parts, method = api_path.strip("/").split("/"), request.method
        if method == "POST" and parts == ["invoices"]:
            invoice = self.ledger.create_invoice(_json_body(request), f"{_origin(request)}{PREFIX}/pay")
            return json_response(invoice, 201)
        if method == "GET" and len(parts) == 2 and parts[0] == "invoices":
            return json_response(self.ledger.invoice(parts[1]))
        if method == "GET" and len(parts) == 2 and parts[0] == "payments":
            return json_response(self.ledger.payment(parts[1]))
        if method == "POST" and len(parts) == 3 and parts[0] == "payments" and parts[2] in ("refund", "void"):
            if parts[2] == "refund":
                payment = self.ledger.refund(parts[1], _json_body(request))
            else:
                payment = self.ledger.void(parts[1])
            self._deliver_later(f"payment_{payment['status']}", payment, request)
            return json_response(payment)
        raise LedgerError(404, "invalid_request_error", f"No route {method} /v1{api_path}")

    # --- shopper attempts and webhooks -----------------------------------------------------

    async def attempt(self, request: IncomingRequest, invoice_id: str, *, paid: bool, method: str) -> Delivery:
        """The shopper pays or is declined; the webhook is delivered before this returns."""
        payment = self.ledger.attempt(invoice_id, paid=paid, method=method)
        delivery = self._new_delivery("payment_paid" if paid else "payment_failed", payment, request)
        await self._send(delivery)
        return delivery

    def _new_delivery(self, event_type: str, payment: dict[str, Any], request: IncomingRequest) -> Delivery:
        event_id = str(uuid.uuid4())
        payload = {
            "id": event_id,
            "type": event_type,
            "created_at": now_iso(),
            "secret_token": self.webhook_secret,
            "account_name": self.account_name,
            "live": False,
            "data": json.loads(json.dumps(payment)),  # a snapshot: later changes do not show
        }
        url = self.webhook_url or f"{_origin(request)}{WEBHOOK_PATH}"
        delivery = Delivery(event_id, event_type, payment["id"], payment.get("invoice_id"), url, payload)
        self.deliveries.append(delivery)
        return delivery

    def _deliver_later(self, event_type: str, payment: dict[str, Any], request: IncomingRequest) -> None:
        """Refund and void webhooks follow the API answer, as Moyasar's do."""
        task = asyncio.get_running_loop().create_task(self._send(self._new_delivery(event_type, payment, request)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, delivery: Delivery) -> None:
        """One attempt now; on failure, the retries in `redelivery_delays` in the background."""
        await self._post(delivery)
        if not delivery.delivered and self.redelivery_delays:
            task = asyncio.get_running_loop().create_task(self._retry(delivery), name=f"retry-{delivery.event_id}")
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _retry(self, delivery: Delivery) -> None:
        for delay in self.redelivery_delays:
            await asyncio.sleep(delay)
            await self._post(delivery)
            if delivery.delivered:
                return

    async def _post(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        try:
            # trust_env=False: no proxy variables or ~/.netrc read per delivery (local URLs only)
            async with httpx.AsyncClient(timeout=10.0, verify=_TLS, trust_env=False) as client:
                response = await client.post(delivery.url, json=delivery.payload)
            delivery.status, delivery.error = response.status_code, None
        except httpx.HTTPError as error:
            delivery.status, delivery.error = None, f"{type(error).__name__}: {error}"
        if not delivery.delivered:
            outcome = delivery.error or delivery.status
            log.warning("Sandbox webhook %s to %s: %s", delivery.event_type, delivery.url, outcome)

    # --- pages and control -----------------------------------------------------------------

    async def _checkout_page(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        return pages.checkout(self.ledger.invoice(match.group(1)), PREFIX)

    async def _checkout_action(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        form = pages.form_values(request.body)
        paid = match.group(2) == "approve"
        delivery = await self.attempt(request, match.group(1), paid=paid, method=form.get("method", "mada"))
        return pages.outcome(self.ledger.invoice(match.group(1)), delivery, PREFIX)

    async def _return_page(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        return pages.returned(request.query)

    async def _control_attempt(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        body = _json_body(request) if request.body.strip() else {}
        method = str(body.get("method", "mada")) if isinstance(body, dict) else "mada"
        delivery = await self.attempt(request, match.group(1), paid=match.group(2) == "approve", method=method)
        payment = self.ledger.payment(delivery.payment_id)
        return json_response({"payment": payment, "delivery": _delivery_document(delivery)})

    async def _add_fault(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        body = _json_body(request)
        try:
            fault = Fault(**body) if isinstance(body, dict) else None
        except TypeError:
            fault = None
        if fault is None:
            raise LedgerError(400, "invalid_request_error", "Fields: status, times, method, path, delay_seconds")
        self.faults.append(fault)
        return json_response(asdict(fault), 201)

    async def _clear_faults(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        self.faults.clear()
        return OutgoingResponse(204)

    async def _list_requests(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        return json_response({"requests": self.requests})

    async def _list_deliveries(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        """Waits for webhooks still being sent first (not the delayed retries), so a test reads
        what a refund or void caused without sleeping."""
        first_attempts = [task for task in self._pending if not task.get_name().startswith("retry")]
        if first_attempts:
            await asyncio.wait(first_attempts)
        return json_response({"deliveries": [_delivery_document(d) for d in self.deliveries]})

    async def _redeliver(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        delivery = next((d for d in self.deliveries if d.event_id == match.group(1)), None)
        if delivery is None:
            raise LedgerError(404, "invalid_request_error", "No such delivery")
        await self._post(delivery)
        return json_response(_delivery_document(delivery))

    async def _set_webhook(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        body = _json_body(request)
        if not isinstance(body, dict):
            raise LedgerError(400, "invalid_request_error", 'Body: {"url": ..., "secret": ...}')
        if "url" in body:
            self.webhook_url = body["url"] or None
        if "secret" in body:
            self.webhook_secret = str(body["secret"])
        return json_response({"url": self.webhook_url, "secret": self.webhook_secret})

    async def _sink(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        self.captured.append({"headers": request.headers, "body": request.body.decode("utf-8", "replace")})
        return json_response({"received": True})

    async def _list_sink(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        return json_response({"captured": self.captured})

    async def _reset(self, request: IncomingRequest, match: re.Match[str]) -> OutgoingResponse:
        for collection in (self.faults, self.requests, self.deliveries, self.captured):
            collection.clear()
        self.ledger = SandboxLedger()
        return OutgoingResponse(204)


def _origin(request: IncomingRequest) -> str:
    parts = urlsplit(request.url)
    return f"{parts.scheme}://{parts.netloc}"


def _json_body(request: IncomingRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise LedgerError(400, "invalid_request_error", "The body is not JSON") from None


def _delivery_document(delivery: Delivery) -> dict[str, Any]:
    return {**asdict(delivery), "delivered": delivery.delivered}
