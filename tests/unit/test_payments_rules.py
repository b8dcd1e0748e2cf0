"""The payments rules without a database: minor units, payability, the state machine, refund
amounts and scopes, reconciliation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared.orders.models_payment import PayableOrder, RefundableItem
from shared.payments import rules
from shared.payments.errors import PaymentError
from shared.payments.models import RefundLineIn
from shared.platform.auth import Principal
from shared.platform.errors import Conflict, NotFound, ValidationFailed

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_minor_units_round_trip():
    assert rules.to_minor(Decimal("10.00")) == 1000 and rules.to_minor(Decimal("63.14")) == 6314
    assert rules.from_minor(6314) == Decimal("63.14")


def order(**changes) -> PayableOrder:
    values = {
        "id": uuid.uuid4(),
        "number": "SQ-2025-000001",
        "user_id": "u",
        "status": "PENDING",
        "payment_status": "PENDING",
        "currency": "SAR",
        "total": Decimal("50.00"),
        "expires_at": NOW + timedelta(minutes=5),
    }
    return PayableOrder(**(values | changes))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"payment_status": "PAID", "status": "IN_PROGRESS"}, PaymentError.ORDER_ALREADY_PAID),
        ({"expires_at": NOW - timedelta(seconds=1)}, PaymentError.ORDER_EXPIRED),
        ({"status": "CANCELLED"}, PaymentError.ORDER_NOT_PAYABLE),
    ],
)
def test_only_a_pending_order_within_its_window_is_payable(changes, code):
    rules.check_payable(order(), NOW)
    rules.check_payable(order(payment_status="FAILED"), NOW)  # a failed attempt may be retried
    with pytest.raises(Conflict) as raised:
        rules.check_payable(order(**changes), NOW)
    assert raised.value.code is code


def decide(current: str, status: str, paid: int = 5000, currency: str = "SAR") -> rules.Decision:
    return rules.decide(
        current, gateway_status=status, expected_minor=5000, expected_currency="SAR", paid_minor=paid, currency=currency
    )


def test_the_gateway_word_moves_a_live_payment():
    assert decide("PENDING", "paid") == rules.Decision("move", to="PAID")
    assert decide("INITIATED", "failed") == rules.Decision("move", to="FAILED")
    assert decide("AUTHORIZED", "captured") == rules.Decision("move", to="CAPTURED")
    assert decide("FAILED", "paid").kind == "move"  # a later attempt of the same checkout succeeded


def test_out_of_order_and_repeated_words_move_nothing():
    assert decide("PAID", "failed").kind == "stale"
    assert decide("PAID", "paid").kind == "stale"
    assert decide("VOIDED", "paid").kind == "stale"
    assert decide("PAID", "refunded").kind == "ignored"  # refunds are the refund path's
    assert decide("PENDING", "made-up").kind == "ignored"


def test_money_that_does_not_match_is_for_review():
    assert decide("PENDING", "paid", paid=4999).kind == "mismatch"
    mismatch = decide("PENDING", "paid", currency="USD")
    assert mismatch.kind == "mismatch" and "USD" in (mismatch.reason or "")
    assert decide("PENDING", "failed", paid=1).kind == "move"  # no money in: nothing to compare


def test_refunded_outside_counts_what_souq_neither_recorded_nor_asked_for():
    assert rules.refunded_outside(1725, Decimal("17.25"), Decimal("0")) == 0
    assert rules.refunded_outside(4140, Decimal("17.25"), Decimal("24.15")) == 0  # one still in flight
    assert rules.refunded_outside(5000, Decimal("17.25"), Decimal("0")) == 3275
    assert rules.refunded_outside(0, Decimal("17.25"), Decimal("0")) == 0


def test_refunded_status():
    assert rules.refunded_status(Decimal("10.00"), Decimal("10.00")) == "REFUNDED"
    assert rules.refunded_status(Decimal("3.00"), Decimal("10.00")) == "PARTIALLY_REFUNDED"


CHILD_A, CHILD_B, SELLER_A, SELLER_B = (uuid.uuid4() for _ in range(4))


def item(child, seller, price: str, quantity: int, refunded: int = 0, **child_money) -> RefundableItem:
    # Child A: 2 × 18.50 + 1 × 21.00 = 58.00, delivery 15.00, VAT 15 % of 73.00 = 10.95, total 83.95
    money = {"subtotal": "58.00", "tax": "10.95", "delivery_fee": "15.00", "total": "83.95", "refunded": "0.00"}
    money |= child_money
    return RefundableItem(
        id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        seller_order_id=child,
        seller_id=seller,
        unit_price=Decimal(price),
        quantity=quantity,
        refunded_quantity=refunded,
        line_total=Decimal(price) * quantity,
        child_subtotal=Decimal(money["subtotal"]),
        child_tax=Decimal(money["tax"]),
        child_delivery_fee=Decimal(money["delivery_fee"]),
        child_total=Decimal(money["total"]),
        child_refunded_amount=Decimal(money["refunded"]),
    )


def test_a_line_refunds_its_net_price_and_its_share_of_vat():
    panadol, brufen = item(CHILD_A, SELLER_A, "18.50", 2), item(CHILD_A, SELLER_A, "21.00", 1)
    plan = rules.plan_refund([panadol, brufen], [RefundLineIn(item_id=panadol.id, quantity=1)], {CHILD_A})
    # 18.50 + 10.95 × 18.50 / 73.00 = 18.50 + 2.775 → 2.78
    assert plan.amount == Decimal("21.28") and plan.whole == set()


def test_a_whole_child_order_refunds_everything_left_including_delivery():
    panadol, brufen = item(CHILD_A, SELLER_A, "18.50", 2, refunded=1), item(CHILD_A, SELLER_A, "21.00", 1)
    panadol = panadol.model_copy(update={"child_refunded_amount": Decimal("21.28")})
    brufen = brufen.model_copy(update={"child_refunded_amount": Decimal("21.28")})
    lines = [RefundLineIn(item_id=panadol.id, quantity=1), RefundLineIn(item_id=brufen.id, quantity=1)]
    plan = rules.plan_refund([panadol, brufen], lines, {CHILD_A})
    assert plan.amount == Decimal("83.95") - Decimal("21.28") and plan.whole == {CHILD_A}


def test_refund_lines_outside_the_scope_twice_or_beyond_what_is_left_are_refused():
    mine, theirs = item(CHILD_A, SELLER_A, "18.50", 2, refunded=1), item(CHILD_B, SELLER_B, "15.00", 1)
    with pytest.raises(ValidationFailed) as invalid:
        rules.plan_refund(
            [mine, theirs],
            [RefundLineIn(item_id=theirs.id, quantity=1), RefundLineIn(item_id=uuid.uuid4(), quantity=1)],
            {CHILD_A},
        )
    assert [e.code for e in invalid.value.errors] == [PaymentError.UNKNOWN_ITEM, PaymentError.UNKNOWN_ITEM]
    with pytest.raises(ValidationFailed) as twice:
        rules.plan_refund([mine], [RefundLineIn(item_id=mine.id, quantity=1)] * 2, {CHILD_A})
    assert twice.value.errors[0].code is PaymentError.DUPLICATE_ITEM
    with pytest.raises(Conflict) as over:
        rules.plan_refund([mine], [RefundLineIn(item_id=mine.id, quantity=2)], {CHILD_A})
    assert over.value.code is PaymentError.OVER_REFUND and over.value.errors[0].path == "lines/0/quantity"


def test_refund_scope_admins_everything_named_sellers_their_own():
    items = [item(CHILD_A, SELLER_A, "1.00", 1), item(CHILD_B, SELLER_B, "1.00", 1)]
    admin = Principal(user_id="a", roles=frozenset({"admin"}))
    seller_a = Principal(user_id="s", roles=frozenset({"seller"}), seller_id=str(SELLER_A))
    parent = uuid.uuid4()
    assert rules.refund_scope(admin, parent, items) == {CHILD_A, CHILD_B}
    assert rules.refund_scope(admin, CHILD_B, items) == {CHILD_B}
    assert rules.refund_scope(None, parent, items) == {CHILD_A, CHILD_B}  # the system
    assert rules.refund_scope(seller_a, parent, items) == {CHILD_A}
    assert rules.refund_scope(seller_a, CHILD_A, items) == {CHILD_A}
    with pytest.raises(NotFound):
        rules.refund_scope(seller_a, CHILD_B, items)


def test_reconciliation_matches_stale_refunds_oldest_first():
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert rules.explained_refunds(1500, [(first, 1000), (second, 1000), (third, 500)]) == ([first, third], [second])
    assert rules.explained_refunds(0, [(first, 1)]) == ([], [first])
