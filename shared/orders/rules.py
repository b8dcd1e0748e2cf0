"""The orders domain's rules: pure functions and tables, no I/O (tests/unit/test_orders_rules.py).

- Pricing: line totals, per-seller delivery fee, VAT and totals.
- Limits and windows: the Idempotency-Key, lines per order and units per line, the payment
  deadline, the dashboards' date range.
- Transitions: which status may follow which, for whom; the parent's status from its children's.
- Who may see what: the acting party, a child order's visibility, the seller scope of a read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from uuid import UUID

from shared.orders.errors import OrderError
from shared.orders.models import DateRange, LockedChild, PlaceOrder, ResolvedLine
from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.errors import Conflict, FieldError, MalformedRequest, NotFound, ValidationFailed
from shared.prescriptions.rules import dispensable

# --- pricing -------------------------------------------------------------------------------
# Catalog prices exclude VAT. VAT is charged on each child order's subtotal plus its delivery
# fee (delivery is a taxable supply in KSA), rounded half-up to the halala per child order; the
# parent's figures are the sums of its children's, so they always add up.

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class ChildQuote:
    seller_id: UUID
    index: int
    lines: list[ResolvedLine] = field(default_factory=list)
    subtotal: Decimal = Decimal("0.00")
    delivery_fee: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.delivery_fee + self.tax


@dataclass
class Quote:
    children: list[ChildQuote]

    @property
    def subtotal(self) -> Decimal:
        return sum((c.subtotal for c in self.children), Decimal("0.00"))

    @property
    def delivery_fee(self) -> Decimal:
        return sum((c.delivery_fee for c in self.children), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((c.tax for c in self.children), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.delivery_fee + self.tax


def line_total(line: ResolvedLine) -> Decimal:
    assert line.unit_price is not None
    return money(line.unit_price * line.quantity)


def quote(
    lines: list[ResolvedLine],
    *,
    delivery: bool,
    vat_rate: Decimal,
    delivery_fee: Decimal,
    free_delivery_threshold: Decimal,
) -> Quote:
    """Group lines by seller (children numbered in order of first appearance) and price them."""
    children: dict[UUID, ChildQuote] = {}
    for line in lines:
        assert line.seller_id is not None
        child = children.setdefault(line.seller_id, ChildQuote(seller_id=line.seller_id, index=len(children) + 1))
        child.lines.append(line)
        child.subtotal += line_total(line)
    for child in children.values():
        if delivery and child.subtotal < free_delivery_threshold:
            child.delivery_fee = money(delivery_fee)
        child.tax = money((child.subtotal + child.delivery_fee) * vat_rate)
    return Quote(children=list(children.values()))


# --- limits and windows --------------------------------------------------------------------

IDEMPOTENCY_KEY_MAX = 255
DEFAULT_STATS_DAYS = 30
MAX_STATS_DAYS = 366


def idempotency_key(header: str | None) -> str:
    key = (header or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise MalformedRequest(
            "send an Idempotency-Key header (1-255 characters, e.g. a UUID) with every order",
            code=OrderError.IDEMPOTENCY_KEY_REQUIRED,
        )
    return key


def request_hash(body: PlaceOrder) -> str:
    """What a replay under the same Idempotency-Key must match."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def check_limits(body: PlaceOrder, *, max_lines: int, max_quantity_per_line: int) -> None:
    errors = []
    if len(body.lines) > max_lines:
        errors.append(FieldError("lines", f"at most {max_lines} lines", OrderError.TOO_MANY_LINES))
    errors += [
        FieldError(f"lines/{i}/quantity", f"at most {max_quantity_per_line}", OrderError.TOO_MANY_UNITS)
        for i, line in enumerate(body.lines)
        if line.quantity > max_quantity_per_line
    ]
    if errors:
        raise ValidationFailed("the order is over the limits", code=OrderError.ORDER_LIMITS, errors=errors)


def prescription_errors(lines: list[ResolvedLine], today: date) -> list[FieldError]:
    """Each prescription-only line names one of the shopper's own prescriptions that is PENDING,
    or APPROVED and not past its last day; any line that names one must name such a one. Unknown
    and someone else's read the same (the lookup only sees the shopper's own)."""
    errors = []
    for line in lines:
        path = f"lines/{line.line_no - 1}/prescription_id"
        if line.prescription_id is None:
            if line.requires_prescription:
                errors.append(FieldError(path, "this product needs a prescription", OrderError.PRESCRIPTION_REQUIRED))
        elif line.prescription_status is None:
            errors.append(FieldError(path, "no such prescription of yours", OrderError.UNKNOWN_PRESCRIPTION))
        elif not dispensable(line.prescription_status, line.prescription_expires_on, today):
            message = f"the prescription is {line.prescription_status.lower()}"
            errors.append(FieldError(path, message, OrderError.PRESCRIPTION_NOT_USABLE))
    return errors


def payment_deadline(placed_at: datetime, *, window_minutes: int) -> datetime:
    """An unpaid order expires (and gives its stock back) after the payment window."""
    return placed_at + timedelta(minutes=window_minutes)


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """[first 00:00 UTC, the day after last 00:00 UTC); a range that ends before it starts is 422."""
    if first is not None and last is not None and first > last:
        raise ValidationFailed(
            "`from` is after `to`",
            code=OrderError.INVALID_DATE_RANGE,
            errors=[FieldError("from", "must not be after `to`", OrderError.INVALID_DATE_RANGE)],
        )
    starts = datetime.combine(first, time.min, UTC) if first else None
    ends = datetime.combine(last + timedelta(days=1), time.min, UTC) if last else None
    return starts, ends


def stats_window(query: DateRange, *, today: date) -> tuple[date, date]:
    """`to` defaults to today (UTC), `from` to 30 days up to `to`; more than 366 days is 422."""
    last = query.to or today
    first = query.from_ or last - timedelta(days=DEFAULT_STATS_DAYS - 1)
    day_bounds(first, last)  # from after to → 422
    if (last - first).days + 1 > MAX_STATS_DAYS:
        raise ValidationFailed(
            f"the range is longer than {MAX_STATS_DAYS} days",
            code=OrderError.DATE_RANGE_TOO_LONG,
            errors=[FieldError("from", f"at most {MAX_STATS_DAYS} days before `to`", OrderError.RANGE_TOO_LONG)],
        )
    return first, last


def every_status(counts: dict[str, int], statuses: tuple[str, ...]) -> dict[str, int]:
    """Every status present, zero when none: dashboards need no special case."""
    return {status: counts.get(status, 0) for status in statuses}


# --- transitions ---------------------------------------------------------------------------

Actor = Literal["customer", "seller", "admin", "pharmacist"]
SELLER_OR_ADMIN: frozenset[Actor] = frozenset({"seller", "admin"})
ADMIN: frozenset[Actor] = frozenset({"admin"})
ANYONE: frozenset[Actor] = frozenset({"customer", "seller", "admin"})
PHARMACIST: frozenset[Actor] = frozenset({"pharmacist"})
CANCELLED = "CANCELLED"
CONFIRMED = "CONFIRMED"
AWAITING_PRESCRIPTION = "AWAITING_PRESCRIPTION"
CUSTOMER_CANCEL_REASON = "cancelled by the customer"
EXPIRY_REASON = "expired"
RX_REJECTED_REASON = "prescription rejected"
HOLD_EXPIRED_REASON = "prescription not reviewed in time"

# field → from → {to: who may}. The customer may cancel only before PROCESSING.
TRANSITIONS: dict[str, dict[str, dict[str, frozenset[Actor]]]] = {
    "status": {
        # PENDING → AWAITING_PRESCRIPTION is the payment's move (a system party, an admin here).
        "PENDING": {"CONFIRMED": SELLER_OR_ADMIN, "AWAITING_PRESCRIPTION": ADMIN, "CANCELLED": ANYONE},
        # Only a pharmacist's review releases the hold; nobody else confirms around it.
        "AWAITING_PRESCRIPTION": {"CONFIRMED": PHARMACIST, "CANCELLED": ANYONE | PHARMACIST},
        "CONFIRMED": {"PROCESSING": SELLER_OR_ADMIN, "CANCELLED": ANYONE},
        "PROCESSING": {
            "READY_FOR_PICKUP": SELLER_OR_ADMIN,
            "OUT_FOR_DELIVERY": SELLER_OR_ADMIN,
            "CANCELLED": SELLER_OR_ADMIN,
        },
        "READY_FOR_PICKUP": {"DELIVERED": SELLER_OR_ADMIN, "CANCELLED": ADMIN},
        "OUT_FOR_DELIVERY": {"DELIVERED": SELLER_OR_ADMIN, "CANCELLED": ADMIN},
        "DELIVERED": {"REFUNDED": ADMIN},
        "CANCELLED": {"REFUNDED": ADMIN},
        "REFUNDED": {},
    },
    "delivery_status": {
        "PENDING": {"ASSIGNED": SELLER_OR_ADMIN},
        "ASSIGNED": {"PICKED_UP": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "PICKED_UP": {"IN_TRANSIT": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "IN_TRANSIT": {"OUT_FOR_DELIVERY": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "OUT_FOR_DELIVERY": {"DELIVERED": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "FAILED": {"ASSIGNED": SELLER_OR_ADMIN, "RETURNED": SELLER_OR_ADMIN},
        "DELIVERED": {},
        "RETURNED": {},
    },
}
# A pickup order is never out for delivery; a delivery order is never ready for pickup.
NOT_FOR_METHOD = {"pickup": {"OUT_FOR_DELIVERY"}, "delivery": {"READY_FOR_PICKUP"}}


def child_status_after_payment(has_pending_prescription_line: bool) -> str:
    """A paid child order is CONFIRMED, or waits for a pharmacist while one of its live
    prescription-only lines has a prescription not approved yet."""
    return AWAITING_PRESCRIPTION if has_pending_prescription_line else CONFIRMED


def child_status_after_review(live_rx_lines_approved: list[bool], *, live_lines: int) -> str:
    """A waiting child after a review settled some of its lines: CANCELLED when no line is left,
    CONFIRMED when every live prescription-only line is approved, else still waiting."""
    if live_lines == 0:
        return CANCELLED
    return CONFIRMED if all(live_rx_lines_approved) else AWAITING_PRESCRIPTION


def check_known_target(field_name: str, to: str) -> None:
    if to not in TRANSITIONS[field_name]:
        raise ValidationFailed(f"{to} is not a {field_name} value", code=OrderError.UNKNOWN_STATUS)


def allowed_targets(field_name: str, current: str, actor: Actor, delivery_method: str) -> list[str]:
    """The values `actor` may move `field_name` to from `current`, sorted."""
    targets = TRANSITIONS[field_name].get(current, {})
    excluded = NOT_FOR_METHOD[delivery_method] if field_name == "status" else set()
    return sorted(to for to, who in targets.items() if actor in who and to not in excluded)


def derive_parent_status(child_statuses: list[str]) -> str:
    """The parent's status from its children's."""
    live = [s for s in child_statuses if s not in ("CANCELLED", "REFUNDED")]
    if not live:
        return "REFUNDED" if child_statuses and all(s == "REFUNDED" for s in child_statuses) else "CANCELLED"
    if all(s == "DELIVERED" for s in live):
        return "COMPLETED"
    return "PENDING" if all(s == "PENDING" for s in live) else "IN_PROGRESS"


def check_transition(party: Party, child: LockedChild, field_name: str, to: str) -> None:
    """409 naming the allowed targets when `party` may not move the child's field to `to`."""
    current = getattr(child, field_name)
    allowed = allowed_targets(field_name, current, party.actor, child.delivery_method)
    if to not in allowed:
        raise Conflict(
            f"{field_name} cannot go from {current} to {to} for a {party.actor}",
            code=OrderError.ILLEGAL_TRANSITION,
            extra={"current": current, "allowed": allowed},
        )


def cancellable_children(party: Party, children: list[LockedChild]) -> list[LockedChild]:
    """The children a cancel moves (those not cancelled yet). All or nothing: 409 naming those
    past the point where `party` may cancel them, or when none is left to cancel."""
    live = [child for child in children if child.status != CANCELLED]
    stuck = [
        child.number
        for child in live
        if CANCELLED not in allowed_targets("status", child.status, party.actor, child.delivery_method)
    ]
    if stuck or not live:
        raise Conflict(
            "the order can no longer be cancelled" + (f": {', '.join(stuck)} in progress" if stuck else ""),
            code=OrderError.NOT_CANCELLABLE,
            extra={"in_progress": stuck},
        )
    return live


def check_version(*, expected: int, current: int, what: str) -> None:
    """Every change is based on the version the caller read: a stale one is 409 with the current."""
    if current != expected:
        raise Conflict(
            f"the {what} changed since version {expected}; read it again",
            code=OrderError.VERSION_CONFLICT,
            extra={"current_version": current},
        )


# --- who may see what ----------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """Who is acting, as the transition table knows them."""

    actor: Actor
    actor_id: str
    seller_id: UUID | None = None

    @classmethod
    def of(cls, principal: Principal, *, as_seller: bool) -> Party:
        if principal.has_any_role(ADMIN_ROLES):
            return cls("admin", principal.user_id)
        if as_seller:
            return cls("seller", principal.user_id, UUID(principal.seller_id) if principal.seller_id else None)
        return cls("customer", principal.user_id)


EXPIRY_PARTY = Party("admin", "system:expiry")
PAYMENT_PARTY = Party("admin", "system:payments")


def may_see(party: Party, child: LockedChild) -> bool:
    """Admins see every child order, a seller its own, a shopper those of its orders."""
    if party.actor == "admin":
        return True
    if party.actor == "seller":
        return child.seller_id == party.seller_id
    return child.user_id == party.actor_id


def order_owner(principal: Principal) -> str | None:
    """Whose orders the caller may read whole: admins anyone's (None), others their own."""
    return None if principal.has_any_role(ADMIN_ROLES) else principal.user_id


def seller_scope(principal: Principal, requested: UUID | None) -> UUID | None:
    """The seller whose child orders the caller reads: a seller its own (naming another is 404),
    an admin the one it names, or every seller (None)."""
    if principal.has_any_role(ADMIN_ROLES):
        return requested
    own = UUID(principal.seller_id) if principal.seller_id else None
    if own is None or (requested is not None and requested != own):
        raise NotFound(f"no seller {requested or ''}".strip(), code=OrderError.SELLER_NOT_FOUND)
    return own


def own_seller(principal: Principal) -> UUID:
    """The seller a seller's dashboard is about: its own (admins read any seller's under /ops)."""
    seller_id = seller_scope(principal, None)
    if seller_id is None:
        raise NotFound("no seller", code=OrderError.SELLER_NOT_FOUND)
    return seller_id
