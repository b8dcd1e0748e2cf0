"""Placing an order inside the caller's transaction: idempotent, priced by the server, stock
reserved all-or-nothing.

Correctness comes from the database: the idempotency key's primary key serialises retries of
one request, the conditional update of offers never reserves more than `on_hand - reserved`,
and the CHECK on offers backs it up. `service.place_order` owns the transaction and retries a
deadlock or serialization failure (which the locking order should prevent).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.orders import repo_placement, repo_stock, rules
from shared.orders.errors import OrderError
from shared.orders.models import Placed, PlaceOrder, ResolvedLine, ShortLine
from shared.platform.auth import Principal
from shared.platform.config import get_settings
from shared.platform.errors import Conflict, FieldError, ValidationFailed
from shared.users.service import ensure_user

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def place(conn: AsyncConnection, principal: Principal, body: PlaceOrder, key: str, now: datetime) -> Placed:
    """The order placed (or the one this key placed before); an error rolls the caller's
    transaction back whole: nothing reserved, nothing written, no key kept."""
    if not await repo_placement.claim_idempotency_key(conn, principal.user_id, key, rules.request_hash(body)):
        return await _replay(conn, principal.user_id, key, rules.request_hash(body))
    await ensure_user(conn, principal)  # orders.user_id references it; the profile itself is not needed
    asked = [line.model_dump(mode="json") | {"line_no": i + 1} for i, line in enumerate(body.lines)]
    lines = await repo_placement.resolve_lines(conn, principal.user_id, asked)
    _check_lines(body, lines, now.date())
    address = await _delivery_address(conn, principal.user_id, body)
    order_id = await repo_placement.insert_order(conn, _order_params(principal, key, body, lines, address, now))
    wanted = _units_per_offer(lines)
    reserved = await repo_stock.reserve_offers(conn, wanted)  # last: the hot row is locked only until COMMIT
    if len(reserved) < len(wanted):
        raise await _insufficient(conn, lines, reserved)
    return Placed(order_id=order_id, replayed=False)


async def _replay(conn: AsyncConnection, user_id: str, key: str, expected_hash: str) -> Placed:
    stored_hash, status_code, order_id = await repo_placement.idempotent_result(conn, user_id, key)
    if stored_hash != expected_hash:
        raise ValidationFailed(
            "this Idempotency-Key was used with a different body",
            code=OrderError.IDEMPOTENCY_KEY_REUSED,
            errors=[FieldError("Idempotency-Key", "reused with another body", OrderError.KEY_REUSED)],
        )
    assert status_code == 201 and order_id is not None  # failed attempts roll their key back
    return Placed(order_id=UUID(order_id), replayed=True)


def _check_lines(body: PlaceOrder, lines: list[ResolvedLine], today: date) -> None:
    _check_prescriptions(lines, today)
    errors = [
        FieldError(f"lines/{line.line_no - 1}/variant_id", "no such active product variant", OrderError.UNKNOWN_VARIANT)
        for line in lines
        if not line.variant_active
    ]
    errors += [
        FieldError(
            f"lines/{line.line_no - 1}/seller_id",
            "this seller has no active offer for the variant",
            OrderError.NO_OFFER,
        )
        for line, asked in zip(lines, body.lines, strict=False)
        if line.variant_active and asked.seller_id is not None and line.offer_id is None
    ]
    if errors:
        raise ValidationFailed("some lines cannot be ordered", code=OrderError.INVALID_LINES, errors=errors)
    short = [line for line in lines if line.offer_id is None or (line.available or 0) < line.quantity]
    if short:
        raise _shortage(short, {line.offer_id: line.available or 0 for line in short if line.offer_id})


def _check_prescriptions(lines: list[ResolvedLine], today: date) -> None:
    """422 naming every line whose prescription is missing, not the shopper's, or not usable.
    The prescriptions read stay locked until COMMIT, so no review can slip in between."""
    errors = rules.prescription_errors(lines, today)
    if errors:
        raise ValidationFailed(
            "some lines need a valid prescription of yours", code=OrderError.INVALID_PRESCRIPTIONS, errors=errors
        )


async def _delivery_address(conn: AsyncConnection, user_id: str, body: PlaceOrder) -> dict[str, Any] | None:
    if body.delivery_method != "delivery":
        return None
    assert body.address_id is not None
    address = await repo_placement.address_snapshot(conn, user_id, body.address_id)
    if address is None:
        raise ValidationFailed(
            "the address is not one of yours",
            code=OrderError.UNKNOWN_ADDRESS,
            errors=[FieldError("address_id", "no such address", OrderError.ADDRESS_NOT_FOUND)],
        )
    return address


def _order_params(
    principal: Principal,
    key: str,
    body: PlaceOrder,
    lines: list[ResolvedLine],
    address: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    from psycopg.types.json import Jsonb

    settings = get_settings()
    priced = rules.quote(
        lines,
        delivery=body.delivery_method == "delivery",
        vat_rate=settings.order_vat_rate,
        delivery_fee=settings.order_delivery_fee,
        free_delivery_threshold=settings.order_free_delivery_threshold,
    )
    extra = {
        "delivery_method": body.delivery_method,
        "delivery_address": Jsonb(address) if address else None,
        "customer_notes": body.customer_notes,
        "prescription_ids": sorted({line.prescription_id for line in lines if line.prescription_id}),
        "currency": settings.order_currency,
        "expires_at": rules.payment_deadline(now, window_minutes=settings.order_payment_window_minutes),
    }
    return repo_placement.order_params(principal.user_id, key, priced, extra)


def _units_per_offer(lines: list[ResolvedLine]) -> dict[UUID, int]:
    wanted: dict[UUID, int] = {}
    for line in lines:
        assert line.offer_id is not None
        wanted[line.offer_id] = wanted.get(line.offer_id, 0) + line.quantity
    return wanted


async def _insufficient(conn: AsyncConnection, lines: list[ResolvedLine], reserved: set[UUID]) -> Conflict:
    """The lines whose offers the reserving update skipped, with what those offers have (untouched by us)."""
    short = [line for line in lines if line.offer_id not in reserved]
    available = await repo_stock.available_units(conn, [line.offer_id for line in short if line.offer_id])
    return _shortage(short, available)


def _shortage(short: list[ResolvedLine], available: dict[UUID, int]) -> Conflict:
    items = [
        ShortLine(
            line_no=line.line_no,
            variant_id=line.variant_id,
            requested=line.quantity,
            available=max(available.get(line.offer_id, 0), 0) if line.offer_id else 0,
        )
        for line in short
    ]
    return Conflict(
        "not enough stock for some lines; nothing was reserved",
        code=OrderError.INSUFFICIENT_STOCK,
        extra={"lines": [item.model_dump(mode="json") for item in items]},
        errors=[
            FieldError(
                f"lines/{item.line_no - 1}/quantity", f"only {item.available} available", OrderError.INSUFFICIENT_STOCK
            )
            for item in items
        ],
    )
