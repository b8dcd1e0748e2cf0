"""Placing an order: idempotent, priced by the server, stock reserved all-or-nothing.

Correctness comes from the database: the idempotency key's primary key serialises retries of
one request, the conditional UPDATE on offers never reserves more than `on_hand - reserved`,
and the CHECK on offers backs it up. A deadlock or serialization failure (which the locking
order should prevent) is retried with tenacity rather than surfaced to the client.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from shared.data import db
from shared.orders import repo
from shared.orders.models import PlaceOrder, ResolvedLine, ShortLine
from shared.orders.pricing import quote
from shared.platform.auth import Principal
from shared.platform.config import get_settings
from shared.platform.errors import Conflict, FieldError, ValidationFailed
from shared.users.service import ensure_user

RETRIES_ON_CONFLICT = 3


@dataclass(frozen=True)
class Placed:
    order_id: UUID
    replayed: bool  # True: an earlier request with this Idempotency-Key placed it


def request_hash(body: PlaceOrder) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


async def place_order(
    principal: Principal, body: PlaceOrder, idempotency_key: str, clock: Callable[[], datetime] = utcnow
) -> Placed:
    _check_limits(body)
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random

    retrying = AsyncRetrying(
        stop=stop_after_attempt(RETRIES_ON_CONFLICT),
        wait=wait_random(0, 0.05),
        reraise=True,
        retry=retry_if_exception(lambda e: getattr(e, "code", None) == "transaction_conflict"),
    )
    async for attempt in retrying:
        with attempt:
            return await _place_once(principal, body, idempotency_key, clock())
    raise AssertionError("unreachable: tenacity re-raises the last error")


def _check_limits(body: PlaceOrder) -> None:
    settings = get_settings()
    errors = []
    if len(body.lines) > settings.order_max_lines:
        errors.append(FieldError("lines", f"at most {settings.order_max_lines} lines", "too_many_lines"))
    errors += [
        FieldError(f"lines/{i}/quantity", f"at most {settings.order_max_quantity_per_line}", "too_many_units")
        for i, line in enumerate(body.lines)
        if line.quantity > settings.order_max_quantity_per_line
    ]
    if errors:
        raise ValidationFailed("the order is over the limits", code="order_limits", errors=errors)


async def _place_once(principal: Principal, body: PlaceOrder, key: str, now: datetime) -> Placed:
    async with db.transaction() as conn:
        if not await repo.claim_idempotency_key(conn, principal.user_id, key, request_hash(body)):
            return await _replay(conn, principal.user_id, key, request_hash(body))
        await ensure_user(conn, principal)  # orders.user_id references it; the profile itself is not needed
        lines = await repo.resolve_lines(
            conn, [(i + 1, line.variant_id, line.quantity, line.seller_id) for i, line in enumerate(body.lines)]
        )
        _check_lines(body, lines)
        address = await _delivery_address(conn, principal.user_id, body)
        order_id = await repo.insert_order(conn, _order_params(principal, key, body, lines, address, now))
        wanted = _units_per_offer(lines)
        reserved = await repo.reserve_offers(conn, wanted)  # last: the hot row is locked only until COMMIT
        if len(reserved) < len(wanted):
            raise await _insufficient(conn, lines, reserved)  # rolls everything back: nothing reserved, nothing written
    return Placed(order_id=order_id, replayed=False)


async def _replay(conn, user_id: str, key: str, expected_hash: str) -> Placed:
    stored_hash, status_code, order_id = await repo.idempotent_result(conn, user_id, key)
    if stored_hash != expected_hash:
        raise ValidationFailed(
            "this Idempotency-Key was used with a different body",
            code="idempotency_key_reused",
            errors=[FieldError("Idempotency-Key", "reused with another body", "reused")],
        )
    assert status_code == 201 and order_id is not None  # failed attempts roll their key back
    return Placed(order_id=UUID(order_id), replayed=True)


def _check_lines(body: PlaceOrder, lines: list[ResolvedLine]) -> None:
    errors = [
        FieldError(f"lines/{line.line_no - 1}/variant_id", "no such active product variant", "unknown_variant")
        for line in lines
        if not line.variant_active
    ]
    errors += [
        FieldError(f"lines/{line.line_no - 1}/seller_id", "this seller has no active offer for the variant", "no_offer")
        for line, asked in zip(lines, body.lines, strict=False)
        if line.variant_active and asked.seller_id is not None and line.offer_id is None
    ]
    if errors:
        raise ValidationFailed("some lines cannot be ordered", code="invalid_lines", errors=errors)
    short = [line for line in lines if line.offer_id is None or (line.available or 0) < line.quantity]
    if short:
        raise _shortage(short, {line.offer_id: line.available or 0 for line in short if line.offer_id})


async def _delivery_address(conn, user_id: str, body: PlaceOrder) -> dict | None:
    if body.delivery_method != "delivery":
        return None
    assert body.address_id is not None
    address = await repo.address_snapshot(conn, user_id, body.address_id)
    if address is None:
        raise ValidationFailed(
            "the address is not one of yours",
            code="unknown_address",
            errors=[FieldError("address_id", "no such address", "not_found")],
        )
    return address


def _order_params(
    principal: Principal, key: str, body: PlaceOrder, lines: list[ResolvedLine], address: dict | None, now: datetime
) -> dict:
    from psycopg.types.json import Jsonb

    settings = get_settings()
    priced = quote(
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
        "prescription_ids": body.prescription_ids,
        "currency": settings.order_currency,
        "expires_at": now + timedelta(minutes=settings.order_payment_window_minutes),
    }
    return repo.order_params(principal.user_id, key, priced, extra)


def _units_per_offer(lines: list[ResolvedLine]) -> dict[UUID, int]:
    wanted: dict[UUID, int] = {}
    for line in lines:
        assert line.offer_id is not None
        wanted[line.offer_id] = wanted.get(line.offer_id, 0) + line.quantity
    return wanted


async def _insufficient(conn, lines: list[ResolvedLine], reserved: set[UUID]) -> Conflict:
    """The lines whose offers the UPDATE skipped, with what those offers have (untouched by us)."""
    short = [line for line in lines if line.offer_id not in reserved]
    available = await repo.available_units(conn, [line.offer_id for line in short])
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
        code="insufficient_stock",
        extra={"lines": [item.model_dump(mode="json") for item in items]},
        errors=[
            FieldError(f"lines/{item.line_no - 1}/quantity", f"only {item.available} available", "insufficient_stock")
            for item in items
        ],
    )
