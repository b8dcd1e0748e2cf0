"""Order requests' rules: pure functions and tables, no I/O (tests/unit/test_thread_orders_rules.py).

- A proposal: which lines cannot be proposed, the lines as stored (priced like placement), its
  deadline.
- An acceptance: the order it places (the body `POST /api/orders` would take) and the key that
  placement is idempotent under; what a request that is no longer PENDING answers.
- The SYSTEM messages that record each status change, in English and Arabic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.orders.models import PlaceOrder
from shared.orders.models_threads import PricedOfferLine
from shared.orders.rules import money
from shared.platform.errors import Conflict, FieldError, ValidationFailed
from shared.thread_orders.errors import ThreadOrderError
from shared.thread_orders.models import AcceptOrderRequest, OrderRequest, RequestLine, Status

# --- proposing -----------------------------------------------------------------------------


def valid_until(now: datetime, hours: int) -> datetime:
    return now + timedelta(hours=hours)


def check_offers(priced: list[PricedOfferLine]) -> None:
    """422 naming every line whose offer is not the seller's own, active, orderable one."""
    errors = [
        FieldError(
            f"lines/{line.line_no - 1}/offer_id", "not one of your active offers", ThreadOrderError.UNKNOWN_OFFER
        )
        for line in priced
        if not line.orderable or line.unit_price is None
    ]
    if errors:
        raise ValidationFailed("some lines cannot be proposed", code=ThreadOrderError.INVALID_OFFERS, errors=errors)


def request_lines(priced: list[PricedOfferLine]) -> list[RequestLine]:
    """The lines as stored with the request: placement's prices and line totals at this moment."""
    lines = []
    for line in priced:
        assert line.unit_price is not None and line.variant_id is not None
        fields: dict[str, Any] = line.model_dump(exclude={"orderable", "available"})
        lines.append(RequestLine(**fields, line_total=money(line.unit_price * line.quantity)))
    return lines


def subtotal(lines: list[RequestLine]) -> Decimal:
    return sum((line.line_total for line in lines), Decimal("0.00"))


# --- accepting -----------------------------------------------------------------------------


def placement_key(request_id: UUID) -> str:
    """The Idempotency-Key placement records for the order a request places: derived from the
    request, so no other request (and no shopper's own key) can collide with it."""
    return f"order-request:{request_id}"


def order_to_place(request: OrderRequest, accept: AcceptOrderRequest) -> PlaceOrder:
    """The order `POST /api/orders` would take: each line at the proposing seller, with the
    prescription the shopper names for it (placement checks that it is theirs and usable)."""
    line_numbers = {line.line_no for line in request.lines}
    errors, named = [], {}
    for i, given in enumerate(accept.prescriptions):
        if given.line_no not in line_numbers:
            errors.append(FieldError(f"prescriptions/{i}/line_no", "no such line", ThreadOrderError.UNKNOWN_LINE))
        elif given.line_no in named:
            errors.append(FieldError(f"prescriptions/{i}/line_no", "named twice", ThreadOrderError.DUPLICATE_LINE))
        named[given.line_no] = given.prescription_id
    if errors:
        raise ValidationFailed(
            "prescriptions name lines of the request", code=ThreadOrderError.INVALID_PRESCRIPTION_LINES, errors=errors
        )
    lines = [
        {
            "variant_id": line.variant_id,
            "quantity": line.quantity,
            "seller_id": request.seller_id,
            "prescription_id": named.get(line.line_no),
        }
        for line in request.lines
    ]
    return PlaceOrder.model_validate(
        {
            "lines": lines,
            "delivery_method": accept.delivery_method,
            "address_id": accept.address_id,
            "customer_notes": accept.customer_notes,
        }
    )


def check_prices_kept(request: OrderRequest, placed: dict[int, Decimal]) -> None:
    """409 when placement priced a line otherwise than the proposal did (the seller changed the
    offer's price since): the shopper accepted the proposed prices, not today's. The caller
    rolls back, so the request stays PENDING and nothing is reserved."""
    changed = [
        {"line_no": line.line_no, "proposed": str(line.unit_price), "now": str(placed[line.line_no])}
        for line in request.lines
        if placed.get(line.line_no, line.unit_price) != line.unit_price
    ]
    if changed:
        raise Conflict(
            "the seller's price changed since the proposal; ask the seller for a new one",
            code=ThreadOrderError.ORDER_REQUEST_PRICE_CHANGED,
            extra={"lines": changed},
        )


def not_pending(request: OrderRequest, now: datetime) -> Conflict:
    """What a decision on a request that can no longer be decided answers."""
    if request.status == "PENDING" and request.valid_until <= now:
        return Conflict(
            "this order request has expired",
            code=ThreadOrderError.ORDER_REQUEST_EXPIRED,
            extra={"status": "EXPIRED", "valid_until": request.valid_until.isoformat()},
        )
    return Conflict(
        f"this order request is {request.status}",
        code=ThreadOrderError.ORDER_REQUEST_NOT_PENDING,
        extra={"status": request.status, "order_id": str(request.order_id) if request.order_id else None},
    )


# --- the messages that record it -----------------------------------------------------------

STATUS_TEXTS: dict[Status, tuple[str, str]] = {
    "PENDING": (
        "Order proposed: {units} unit(s), {subtotal} {currency}.",
        "عرض طلب: {units} وحدة، {subtotal} {currency}.",
    ),
    "ACCEPTED": ("Order request accepted: the order is placed.", "تم قبول عرض الطلب: تم إنشاء الطلب."),
    "DECLINED": ("Order request declined.", "تم رفض عرض الطلب."),
    "CANCELLED": ("Order request cancelled by the seller.", "ألغى البائع عرض الطلب."),
    "EXPIRED": ("Order request expired.", "انتهت صلاحية عرض الطلب."),
}


def status_text(status: Status, **values: Any) -> str:
    """The message body: English, then Arabic, on two lines."""
    english, arabic = STATUS_TEXTS[status]
    return f"{english.format(**values)}\n{arabic.format(**values)}"


def status_metadata(request: OrderRequest) -> dict[str, Any]:
    """What a message about the request carries, so a client can draw it and act on it."""
    metadata: dict[str, Any] = {
        "order_request_id": str(request.id),
        "status": request.status,
        "subtotal": str(request.subtotal),
        "currency": request.currency,
        "valid_until": request.valid_until.isoformat(),
    }
    if request.order_id:
        metadata["order_id"] = str(request.order_id)
    return metadata
