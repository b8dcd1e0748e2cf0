"""The payments domain's rules: pure functions and tables, no I/O (tests/unit/test_payments_rules.py).

- Money in the gateway's minor units (halalas) and back.
- Whether an order can be paid now.
- The payment state machine: the gateway's word mapped to ours, which moves are allowed (a
  stale or out-of-order event moves nothing), and the amount check before money counts.
- Refunds: who may refund which child orders, and the amount of a refund (each line's VAT
  share; everything left of a child order, delivery included, when it is refunded whole).
- Reconciliation: which stale requested refunds the gateway's refunded total explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from uuid import UUID

from shared.orders.models_payment import ChildClaim, PayableOrder, RefundableItem, RefundUnits
from shared.payments.errors import PaymentError
from shared.payments.models import RefundLineIn
from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.errors import Conflict, FieldError, NotFound, ValidationFailed

CENT = Decimal("0.01")
# An INITIATED payment whose gateway call has not answered in this long was abandoned (the
# process died): the next attempt takes it over instead of waiting forever.
INITIATION_STALE_AFTER = timedelta(seconds=60)
# A stored event still unprocessed this long after it was queued is queued again by the sweep.
EVENT_REQUEUE_AFTER = timedelta(minutes=5)
# A REQUESTED refund is reconciled (from the gateway's payment) this long after its last try:
# far longer than a gateway call can take, so no call for it is still in flight.
REFUND_RECONCILE_AFTER = timedelta(minutes=10)
SYSTEM_ACTOR = ("system:payments", "admin")


def to_minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(CENT)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- taking a payment ------------------------------------------------------------------------

PAID_ORDER_STATUSES = frozenset({"PAID", "REFUNDED", "PARTIALLY_REFUNDED"})


def check_payable(order: PayableOrder, now: datetime) -> None:
    """409 unless the order waits for its payment: paid already, cancelled, or past its deadline."""
    if order.payment_status in PAID_ORDER_STATUSES:
        raise Conflict(f"order {order.number} is already paid", code=PaymentError.ORDER_ALREADY_PAID)
    if order.status == "PENDING" and order.expires_at is not None and order.expires_at <= now:
        raise Conflict(f"order {order.number} expired unpaid; place it again", code=PaymentError.ORDER_EXPIRED)
    if order.status != "PENDING":
        raise Conflict(
            f"order {order.number} is {order.status.lower()} and cannot be paid",
            code=PaymentError.ORDER_NOT_PAYABLE,
            extra={"status": order.status},
        )


# --- the state machine -----------------------------------------------------------------------

GATEWAY_STATUS = {
    "initiated": "PENDING",
    "paid": "PAID",
    "failed": "FAILED",
    "authorized": "AUTHORIZED",
    "captured": "CAPTURED",
    "voided": "VOIDED",
}
MONEY_IN = frozenset({"PAID", "CAPTURED"})
# current → the statuses the gateway's answer may move it to. FAILED may still become PAID: the
# gateway's payment (an invoice) can succeed on a later attempt, and the API is the truth.
MOVES: dict[str, frozenset[str]] = {
    "INITIATED": frozenset({"PENDING", "PAID", "FAILED", "AUTHORIZED", "CAPTURED", "VOIDED"}),
    "PENDING": frozenset({"PAID", "FAILED", "AUTHORIZED", "CAPTURED", "VOIDED"}),
    "FAILED": frozenset({"PAID", "AUTHORIZED", "CAPTURED"}),
    "AUTHORIZED": frozenset({"PAID", "CAPTURED", "VOIDED"}),
}

DecisionKind = Literal["move", "stale", "mismatch", "ignored"]


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    to: str | None = None
    reason: str | None = None


def decide(
    current: str, *, gateway_status: str, expected_minor: int, expected_currency: str, paid_minor: int, currency: str
) -> Decision:
    """What the gateway's current word about a payment does to ours."""
    target = GATEWAY_STATUS.get(gateway_status.lower())
    if target is None:  # refunded (our refunds are recorded by the refund path) or unknown
        return Decision("ignored", reason=f"gateway status {gateway_status!r} is not acted on")
    if target == current or target not in MOVES.get(current, frozenset()):
        return Decision("stale", reason=f"{current} does not move to {target}")
    if target in MONEY_IN and (paid_minor != expected_minor or currency.upper() != expected_currency.upper()):
        got, wanted = f"{paid_minor} {currency.upper()}", f"{expected_minor} {expected_currency}"
        reason = f"gateway says {got} {target.lower()}, expected {wanted}"
        return Decision("mismatch", to=target, reason=reason)
    return Decision("move", to=target)


def refunded_outside(gateway_refunded_minor: int, recorded: Decimal, in_flight: Decimal) -> int:
    """Minor units the gateway gave back beyond what Souq recorded or has asked for: a refund
    made outside the app (the gateway's dashboard). Its lines are unknown, so a person decides."""
    return max(0, gateway_refunded_minor - to_minor(recorded) - to_minor(in_flight))


def refunded_status(refunded: Decimal, amount: Decimal) -> str:
    return "REFUNDED" if refunded >= amount else "PARTIALLY_REFUNDED"


REFUNDABLE_PAYMENT_STATUSES = ("PAID", "CAPTURED", "PARTIALLY_REFUNDED")


# --- refunds ---------------------------------------------------------------------------------


def refund_scope(principal: Principal | None, named_id: UUID, items: list[RefundableItem]) -> set[UUID]:
    """The child orders the caller may refund lines of: the one named (when the id is a child
    order) or every child of the named order, narrowed to a seller's own. None → 404."""
    children = {item.seller_order_id: item.seller_id for item in items}
    chosen = {named_id} if named_id in children else set(children)
    if principal is not None and not principal.has_any_role(ADMIN_ROLES):
        own = UUID(principal.seller_id) if principal.seller_id else None
        chosen = {child for child in chosen if children[child] == own}
    if not chosen:
        raise NotFound(f"no order {named_id}", code=PaymentError.ORDER_NOT_FOUND)
    return chosen


@dataclass
class RefundPlan:
    units: list[RefundUnits] = field(default_factory=list)
    claims: list[ChildClaim] = field(default_factory=list)
    # (item id, seller order id, quantity, amount) per line
    lines: list[tuple[UUID, UUID, int, Decimal]] = field(default_factory=list)
    whole: set[UUID] = field(default_factory=set)

    @property
    def amount(self) -> Decimal:
        return sum((claim.amount for claim in self.claims), Decimal("0.00"))


def plan_refund(items: list[RefundableItem], lines: list[RefundLineIn], scope: set[UUID]) -> RefundPlan:
    """The refund's units and amounts. 422 for items outside the scope or named twice, 409 for
    more units than are left (the database refuses that too)."""
    by_id = {item.id: item for item in items if item.seller_order_id in scope}
    _check_lines(by_id, lines)
    plan = RefundPlan()
    for line in lines:
        item = by_id[line.item_id]
        plan.units.append(RefundUnits(item_id=item.id, quantity=line.quantity))
        plan.lines.append((item.id, item.seller_order_id, line.quantity, line_amount(item, line.quantity)))
    asked = {line.item_id: line.quantity for line in lines}
    for child_id in sorted({item.seller_order_id for item in by_id.values() if item.id in asked}):
        child_items = [item for item in items if item.seller_order_id == child_id]
        amount = child_amount(child_items, asked, [a for _, c, _, a in plan.lines if c == child_id])
        if amount <= 0:
            raise Conflict("nothing is left to refund of this child order", code=PaymentError.OVER_REFUND)
        plan.claims.append(ChildClaim(seller_order_id=child_id, amount=amount))
        if all(item.refunded_quantity + asked.get(item.id, 0) >= item.quantity for item in child_items):
            plan.whole.add(child_id)
    return plan


def _check_lines(by_id: dict[UUID, RefundableItem], lines: list[RefundLineIn]) -> None:
    errors, seen = [], set()
    for i, line in enumerate(lines):
        if line.item_id not in by_id:
            errors.append(FieldError(f"lines/{i}/item_id", "no such item in this order", PaymentError.UNKNOWN_ITEM))
        elif line.item_id in seen:
            errors.append(FieldError(f"lines/{i}/item_id", "named twice", PaymentError.DUPLICATE_ITEM))
        seen.add(line.item_id)
    if errors:
        raise ValidationFailed("some refund lines are invalid", code=PaymentError.INVALID_REFUND_LINES, errors=errors)
    over = [
        FieldError(f"lines/{i}/quantity", f"only {left} left to refund", PaymentError.TOO_MANY_UNITS)
        for i, line in enumerate(lines)
        if line.quantity > (left := by_id[line.item_id].quantity - by_id[line.item_id].refunded_quantity)
    ]
    if over:
        raise Conflict("more units than are left to refund", code=PaymentError.OVER_REFUND, errors=over)


def line_amount(item: RefundableItem, quantity: int) -> Decimal:
    """Net price of the units plus their share of the child order's VAT (VAT is charged on the
    child's subtotal plus delivery, so a line's share is its part of that base)."""
    net = money(item.unit_price * quantity)
    base = item.child_subtotal + item.child_delivery_fee
    vat = money(item.child_tax * net / base) if base > 0 else Decimal("0.00")
    return net + vat


def child_amount(child_items: list[RefundableItem], asked: dict[UUID, int], line_amounts: list[Decimal]) -> Decimal:
    """What a refund takes of one child order: its lines' amounts, or, when the child ends up
    refunded whole, everything left of its total (delivery, its VAT and rounding rests)."""
    first = child_items[0]
    left = first.child_total - first.child_refunded_amount
    whole = all(item.refunded_quantity + asked.get(item.id, 0) >= item.quantity for item in child_items)
    return left if whole else min(sum(line_amounts, Decimal("0.00")), left)


# --- reconciliation --------------------------------------------------------------------------


def explained_refunds(unexplained_minor: int, stale: list[tuple[UUID, int]]) -> tuple[list[UUID], list[UUID]]:
    """Stale REQUESTED refunds, oldest first, against what the gateway refunded beyond the
    refunds we recorded as done: those it covers went through; the rest never reached it."""
    done, missing = [], []
    for refund_id, amount_minor in stale:
        if amount_minor <= unexplained_minor:
            done.append(refund_id)
            unexplained_minor -= amount_minor
        else:
            missing.append(refund_id)
    return done, missing
