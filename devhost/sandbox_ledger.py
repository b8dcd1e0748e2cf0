"""The sandbox gateway's books: invoices and their payment attempts, in Moyasar's JSON shapes.

Pure state (no I/O), driven by `devhost.sandbox_gateway`. Shapes follow docs.moyasar.com
(invoice and payment objects); amounts are integers in halalas, refunds accumulate in the
payment's `refunded` up to its `amount`, and any refund makes the payment `refunded` (Moyasar
keeps one status word; `refunded < amount` is a partial refund).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CURRENCY_EXPONENT = {"SAR": 2, "USD": 2, "EUR": 2, "AED": 2, "KWD": 3, "BHD": 3, "JPY": 0}
MIN_INVOICE_AMOUNT = 100  # Moyasar: amount >= 100 in the smallest unit
SETTLED = frozenset({"paid", "authorized", "captured"})
# What a tester may pay with, as Moyasar's `source` says it.
SOURCES: dict[str, dict[str, Any]] = {
    "mada": {"type": "creditcard", "company": "mada", "number": "4201-32XX-XXXX-5012"},
    "visa": {"type": "creditcard", "company": "visa", "number": "4111-11XX-XXXX-1111"},
    "mastercard": {"type": "creditcard", "company": "master", "number": "5421-08XX-XXXX-9097"},
    "amex": {"type": "creditcard", "company": "amex", "number": "3400-00XX-XXXX-009"},
    "applepay": {"type": "applepay", "company": "visa", "number": "4111-11XX-XXXX-1111"},
    "stcpay": {"type": "stcpay", "mobile": "0500000000"},
}


class LedgerError(Exception):
    """A Moyasar error answer: HTTP status, `type`, `message`, optional field `errors`."""

    def __init__(self, status: int, kind: str, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.errors = status, kind, message, errors

    def document(self) -> dict[str, Any]:
        return {"type": self.kind, "message": self.message, "errors": self.errors}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money_format(amount: int, currency: str) -> str:
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    return f"{amount / 10**exponent:.{exponent}f} {currency}"


def _invalid(field_name: str, message: str) -> LedgerError:
    return LedgerError(400, "invalid_request_error", "Validation Failed", {field_name: [message]})


def _validated_invoice(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise LedgerError(400, "invalid_request_error", "The body must be a JSON object")
    amount, currency = body.get("amount"), body.get("currency", "SAR")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < MIN_INVOICE_AMOUNT:
        raise _invalid("amount", f"must be an integer >= {MIN_INVOICE_AMOUNT}")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
        raise _invalid("currency", "must be an ISO 4217 code")
    if not isinstance(body.get("description"), str) or not body["description"]:
        raise _invalid("description", "can't be blank")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str | int | float) for v in metadata.values()):
        raise _invalid("metadata", "must be an object of strings")
    return {**body, "currency": currency, "metadata": {str(k): str(v) for k, v in metadata.items()}}


@dataclass
class SandboxLedger:
    """Every invoice and payment the sandbox knows, by id."""

    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def create_invoice(self, body: object, checkout_base: str) -> dict[str, Any]:
        valid = _validated_invoice(body)
        invoice_id, stamp = str(uuid.uuid4()), now_iso()
        invoice = {
            "id": invoice_id,
            "status": "initiated",
            "amount": valid["amount"],
            "currency": valid["currency"],
            "description": valid["description"],
            "logo_url": None,
            "amount_format": money_format(valid["amount"], valid["currency"]),
            "url": f"{checkout_base.rstrip('/')}/{invoice_id}",
            "callback_url": valid.get("callback_url"),
            "expired_at": valid.get("expired_at"),
            "created_at": stamp,
            "updated_at": stamp,
            "back_url": valid.get("back_url"),
            "success_url": valid.get("success_url"),
            "payments": [],
            "payment_id": None,
            "paid_at": None,
            "metadata": valid["metadata"] or None,
        }
        self.invoices[invoice_id] = invoice
        return invoice

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        found = self.invoices.get(invoice_id)
        if found is None:
            raise LedgerError(404, "invalid_request_error", "Object not found")
        return found

    def payment(self, payment_id: str) -> dict[str, Any]:
        found = self.payments.get(payment_id)
        if found is None:
            raise LedgerError(404, "invalid_request_error", "Object not found")
        return found

    def attempt(self, invoice_id: str, *, paid: bool, method: str = "mada") -> dict[str, Any]:
        """A payment attempt by the shopper: paid, or declined by the issuer."""
        invoice = self.invoice(invoice_id)
        if invoice["status"] != "initiated":
            raise LedgerError(409, "invalid_request_error", f"Invoice is already {invoice['status']}")
        if method not in SOURCES:
            raise _invalid("method", f"must be one of {', '.join(SOURCES)}")
        payment = self._new_payment(invoice, paid=paid, method=method)
        self.payments[payment["id"]] = payment
        invoice["payments"].append(payment)  # the same object: later refunds show through
        if paid:
            invoice.update(payment_id=payment["id"], paid_at=payment["created_at"])
            self._set_invoice_status(invoice, "paid")
        return payment

    def _new_payment(self, invoice: dict[str, Any], *, paid: bool, method: str) -> dict[str, Any]:
        stamp, currency = now_iso(), invoice["currency"]
        message = "APPROVED" if paid else "DECLINED: Insufficient Funds"
        source = {**SOURCES[method], "name": "Sandbox Shopper", "message": message}
        source |= {"gateway_id": f"sandbox_{uuid.uuid4().hex[:20]}", "reference_number": None}
        return {
            "id": str(uuid.uuid4()),
            "status": "paid" if paid else "failed",
            "amount": invoice["amount"],
            "fee": 0,
            "currency": currency,
            "refunded": 0,
            "refunded_at": None,
            "captured": 0,
            "captured_at": None,
            "voided_at": None,
            "description": invoice["description"],
            "amount_format": money_format(invoice["amount"], currency),
            "fee_format": money_format(0, currency),
            "refunded_format": money_format(0, currency),
            "captured_format": money_format(0, currency),
            "invoice_id": invoice["id"],
            "ip": "127.0.0.1",
            "callback_url": invoice["url"],
            "created_at": stamp,
            "updated_at": stamp,
            "metadata": invoice["metadata"],
            "source": source,
        }

    def refund(self, payment_id: str, body: object) -> dict[str, Any]:
        payment = self.payment(payment_id)
        if payment["status"] not in SETTLED | {"refunded"}:
            raise LedgerError(400, "invalid_request_error", f"Payment is {payment['status']}, cannot refund")
        remaining = payment["amount"] - payment["refunded"]
        amount = body.get("amount", remaining) if isinstance(body, dict) else remaining
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= remaining:
            raise _invalid("amount", f"must be an integer between 1 and {remaining}")
        stamp = now_iso()
        payment["refunded"] += amount
        payment["refunded_format"] = money_format(payment["refunded"], payment["currency"])
        payment.update(status="refunded", refunded_at=stamp, updated_at=stamp)
        self._set_invoice_status(self.invoices[payment["invoice_id"]], "refunded")
        return payment

    def void(self, payment_id: str) -> dict[str, Any]:
        payment = self.payment(payment_id)
        if payment["status"] not in SETTLED:
            raise LedgerError(400, "invalid_request_error", f"Payment is {payment['status']}, cannot void")
        stamp = now_iso()
        payment.update(status="voided", voided_at=stamp, updated_at=stamp)
        self._set_invoice_status(self.invoices[payment["invoice_id"]], "voided")
        return payment

    @staticmethod
    def _set_invoice_status(invoice: dict[str, Any], status: str) -> None:
        invoice["status"], invoice["updated_at"] = status, now_iso()
