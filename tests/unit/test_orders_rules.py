"""shared.orders.rules without a database: pricing, limits and windows, the transition table,
the parent's status, and who may see what."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from shared.orders import rules
from shared.orders.errors import OrderError
from shared.orders.models import DateRange, LockedChild, PlaceOrder, ResolvedLine
from shared.orders.rules import Party
from shared.platform.auth import Principal
from shared.platform.errors import Conflict, MalformedRequest, NotFound, ValidationFailed

NAHDI, DAWAA = UUID(int=1), UUID(int=2)
PRICING = {"vat_rate": Decimal("0.15"), "delivery_fee": Decimal("15.00"), "free_delivery_threshold": Decimal("200.00")}


def resolved(line_no: int, seller_id: UUID, unit_price: str, quantity: int = 1) -> ResolvedLine:
    return ResolvedLine(
        line_no=line_no,
        variant_id=uuid4(),
        quantity=quantity,
        offer_id=uuid4(),
        seller_id=seller_id,
        product_id=uuid4(),
        product_name_en="Panadol",
        product_name_ar="بنادول",
        sku="PAN-24",
        requires_prescription=False,
        unit_price=Decimal(unit_price),
        available=100,
        variant_active=True,
    )


def child(status: str = "PENDING", *, method: str = "pickup", seller_id: UUID = NAHDI, user: str = "u1") -> LockedChild:
    return LockedChild(
        id=uuid4(),
        order_id=uuid4(),
        seller_id=seller_id,
        number=f"SQ-2026-000001-{status}",
        status=status,
        delivery_status="PENDING",
        version=3,
        user_id=user,
        delivery_method=method,
        payment_status="PENDING",
        order_version=2,
    )


def principal(*roles: str, user: str = "u1", seller_id: UUID | None = None) -> Principal:
    return Principal(user_id=user, roles=frozenset(roles), seller_id=str(seller_id) if seller_id else None)


def order_body(*quantities: int) -> PlaceOrder:
    lines = [{"variant_id": str(uuid4()), "quantity": q} for q in quantities]
    return PlaceOrder.model_validate({"lines": lines, "delivery_method": "pickup"})


# --- pricing -------------------------------------------------------------------------------


def test_money_rounds_half_up_to_the_halala():
    assert rules.money(Decimal("0.225")) == Decimal("0.23")  # half-even would give 0.22
    assert rules.money(Decimal("0.224")) == Decimal("0.22")
    assert rules.money(Decimal("7")) == Decimal("7.00")


def test_line_total_is_unit_price_times_quantity():
    assert rules.line_total(resolved(1, NAHDI, "15.50", quantity=3)) == Decimal("46.50")


def test_pickup_pays_vat_on_the_subtotal_and_no_delivery_fee():
    priced = rules.quote([resolved(1, NAHDI, "1.50")], delivery=False, **PRICING)
    [only] = priced.children
    assert (only.subtotal, only.delivery_fee, only.tax, only.total) == (
        Decimal("1.50"),
        Decimal("0.00"),
        Decimal("0.23"),  # 0.225 rounded half-up
        Decimal("1.73"),
    )


def test_each_seller_charges_its_own_delivery_fee_and_vat_covers_it():
    lines = [resolved(1, NAHDI, "40.00", 2), resolved(2, DAWAA, "20.00"), resolved(3, NAHDI, "20.00")]
    priced = rules.quote(lines, delivery=True, **PRICING)
    nahdi, dawaa = priced.children
    assert (nahdi.seller_id, nahdi.index, [line.line_no for line in nahdi.lines]) == (NAHDI, 1, [1, 3])
    assert (dawaa.seller_id, dawaa.index) == (DAWAA, 2)
    assert (nahdi.subtotal, nahdi.delivery_fee, nahdi.tax) == (Decimal("100.00"), Decimal("15.00"), Decimal("17.25"))
    assert (dawaa.subtotal, dawaa.delivery_fee, dawaa.tax) == (Decimal("20.00"), Decimal("15.00"), Decimal("5.25"))
    assert (priced.subtotal, priced.delivery_fee, priced.tax, priced.total) == (
        Decimal("120.00"),
        Decimal("30.00"),
        Decimal("22.50"),
        Decimal("172.50"),
    )


def test_delivery_is_free_from_the_threshold_per_seller():
    lines = [resolved(1, NAHDI, "200.00"), resolved(2, DAWAA, "199.99")]
    nahdi, dawaa = rules.quote(lines, delivery=True, **PRICING).children
    assert nahdi.delivery_fee == Decimal("0.00") and nahdi.tax == Decimal("30.00")
    assert dawaa.delivery_fee == Decimal("15.00") and dawaa.tax == Decimal("32.25")  # (199.99 + 15) × 0.15 = 32.2485


def test_the_parent_is_the_sum_of_its_rounded_children():
    lines = [resolved(1, NAHDI, "0.10"), resolved(2, DAWAA, "0.10")]  # 0.015 VAT each, rounded per child
    priced = rules.quote(lines, delivery=False, **PRICING)
    assert [c.tax for c in priced.children] == [Decimal("0.02"), Decimal("0.02")]
    assert priced.tax == Decimal("0.04") and priced.total == Decimal("0.24")


# --- limits and windows --------------------------------------------------------------------


def test_the_idempotency_key_is_trimmed_and_bounded():
    assert rules.idempotency_key("  abc  ") == "abc"
    assert rules.idempotency_key("k" * 255) == "k" * 255
    for bad in (None, "", "   ", "k" * 256):
        with pytest.raises(MalformedRequest) as raised:
            rules.idempotency_key(bad)
        assert raised.value.code is OrderError.IDEMPOTENCY_KEY_REQUIRED


def test_the_request_hash_follows_the_body():
    body = order_body(1)
    assert rules.request_hash(body) == rules.request_hash(PlaceOrder.model_validate(body.model_dump()))
    other = body.model_copy(update={"customer_notes": "ring twice"})
    assert rules.request_hash(other) != rules.request_hash(body)
    assert len(rules.request_hash(body)) == 64


def test_limits_name_every_line_over_them():
    rules.check_limits(order_body(3, 3), max_lines=2, max_quantity_per_line=3)  # at the limits: fine
    with pytest.raises(ValidationFailed) as raised:
        rules.check_limits(order_body(1, 4, 2, 5), max_lines=3, max_quantity_per_line=3)
    assert raised.value.code is OrderError.ORDER_LIMITS
    assert [(e.path, e.code) for e in raised.value.errors] == [
        ("lines", OrderError.TOO_MANY_LINES),
        ("lines/1/quantity", OrderError.TOO_MANY_UNITS),
        ("lines/3/quantity", OrderError.TOO_MANY_UNITS),
    ]


def test_the_payment_deadline_is_the_window_after_placing():
    placed = datetime(2026, 3, 1, 23, 50, tzinfo=UTC)
    assert rules.payment_deadline(placed, window_minutes=15) == datetime(2026, 3, 2, 0, 5, tzinfo=UTC)


def test_day_bounds_cover_whole_utc_days():
    assert rules.day_bounds(None, None) == (None, None)
    assert rules.day_bounds(date(2026, 3, 1), date(2026, 3, 31)) == (
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    assert rules.day_bounds(date(2026, 3, 5), None) == (datetime(2026, 3, 5, tzinfo=UTC), None)
    with pytest.raises(ValidationFailed) as raised:
        rules.day_bounds(date(2026, 3, 2), date(2026, 3, 1))
    assert raised.value.code is OrderError.INVALID_DATE_RANGE and raised.value.errors[0].path == "from"


def test_the_stats_window_defaults_to_the_last_30_days_and_stops_at_366():
    today = date(2026, 3, 31)
    assert rules.stats_window(DateRange(), today=today) == (date(2026, 3, 2), today)
    assert rules.stats_window(DateRange(to=date(2026, 1, 30)), today=today) == (date(2026, 1, 1), date(2026, 1, 30))
    year = DateRange.model_validate({"from": "2025-01-01", "to": "2026-01-01"})  # 366 days
    assert rules.stats_window(year, today=today) == (date(2025, 1, 1), date(2026, 1, 1))
    with pytest.raises(ValidationFailed) as raised:
        rules.stats_window(DateRange.model_validate({"from": "2024-12-31", "to": "2026-01-01"}), today=today)
    assert raised.value.code is OrderError.DATE_RANGE_TOO_LONG
    assert raised.value.errors[0].code is OrderError.RANGE_TOO_LONG
    with pytest.raises(ValidationFailed) as raised:
        rules.stats_window(DateRange.model_validate({"from": "2026-04-01"}), today=today)
    assert raised.value.code is OrderError.INVALID_DATE_RANGE


def test_every_status_is_counted_even_when_absent():
    assert rules.every_status({"PENDING": 2, "UNKNOWN": 9}, ("PENDING", "CANCELLED")) == {"PENDING": 2, "CANCELLED": 0}


# --- transitions ---------------------------------------------------------------------------


def test_the_transition_table_is_closed():
    for field_name, table in rules.TRANSITIONS.items():
        for current, targets in table.items():
            assert set(targets) <= set(table), (field_name, current)
            assert current not in targets, (field_name, current)


@pytest.mark.parametrize(
    ("field_name", "current", "actor", "method", "allowed"),
    [
        ("status", "PENDING", "customer", "pickup", ["CANCELLED"]),
        ("status", "PENDING", "seller", "pickup", ["CANCELLED", "CONFIRMED"]),
        ("status", "CONFIRMED", "customer", "delivery", ["CANCELLED"]),
        ("status", "PROCESSING", "customer", "pickup", []),
        ("status", "PROCESSING", "seller", "pickup", ["CANCELLED", "READY_FOR_PICKUP"]),
        ("status", "PROCESSING", "seller", "delivery", ["CANCELLED", "OUT_FOR_DELIVERY"]),
        ("status", "READY_FOR_PICKUP", "seller", "pickup", ["DELIVERED"]),
        ("status", "READY_FOR_PICKUP", "admin", "pickup", ["CANCELLED", "DELIVERED"]),
        ("status", "DELIVERED", "seller", "pickup", []),
        ("status", "DELIVERED", "admin", "pickup", ["REFUNDED"]),
        ("status", "REFUNDED", "admin", "pickup", []),
        ("status", "NO_SUCH_STATUS", "admin", "pickup", []),
        ("delivery_status", "PENDING", "customer", "delivery", []),
        ("delivery_status", "OUT_FOR_DELIVERY", "seller", "pickup", ["DELIVERED", "FAILED"]),
        ("delivery_status", "FAILED", "admin", "delivery", ["ASSIGNED", "RETURNED"]),
    ],
)
def test_allowed_targets_by_role_and_method(field_name, current, actor, method, allowed):
    assert rules.allowed_targets(field_name, current, actor, method) == allowed


def test_only_known_values_are_targets():
    rules.check_known_target("status", "CONFIRMED")
    rules.check_known_target("delivery_status", "RETURNED")
    with pytest.raises(ValidationFailed) as raised:
        rules.check_known_target("status", "RETURNED")  # a delivery status, not a status
    assert raised.value.code is OrderError.UNKNOWN_STATUS


@pytest.mark.parametrize(
    ("children", "parent"),
    [
        (["PENDING", "PENDING"], "PENDING"),
        (["PENDING", "CANCELLED"], "PENDING"),
        (["PENDING", "CONFIRMED"], "IN_PROGRESS"),
        (["DELIVERED", "PROCESSING"], "IN_PROGRESS"),
        (["DELIVERED", "CANCELLED"], "COMPLETED"),
        (["DELIVERED", "REFUNDED"], "COMPLETED"),
        (["CANCELLED", "CANCELLED"], "CANCELLED"),
        (["CANCELLED", "REFUNDED"], "CANCELLED"),
        (["REFUNDED", "REFUNDED"], "REFUNDED"),
        ([], "CANCELLED"),
    ],
)
def test_the_parent_status_follows_its_children(children, parent):
    assert rules.derive_parent_status(children) == parent


def test_an_illegal_transition_names_the_allowed_ones():
    seller = Party("seller", "staff", NAHDI)
    rules.check_transition(seller, child("PROCESSING"), "status", "READY_FOR_PICKUP")
    with pytest.raises(Conflict) as raised:
        rules.check_transition(seller, child("PROCESSING"), "status", "OUT_FOR_DELIVERY")  # a pickup order
    assert raised.value.code is OrderError.ILLEGAL_TRANSITION
    assert raised.value.extra == {"current": "PROCESSING", "allowed": ["CANCELLED", "READY_FOR_PICKUP"]}


def test_a_cancel_takes_every_live_child_or_none():
    shopper = Party("customer", "u1")
    pending, confirmed, gone = child("PENDING"), child("CONFIRMED"), child("CANCELLED")
    assert rules.cancellable_children(shopper, [pending, gone, confirmed]) == [pending, confirmed]
    processing = child("PROCESSING")
    with pytest.raises(Conflict) as raised:
        rules.cancellable_children(shopper, [pending, processing])
    assert raised.value.code is OrderError.NOT_CANCELLABLE
    assert raised.value.extra == {"in_progress": [processing.number]}
    assert rules.cancellable_children(Party("admin", "ops"), [pending, processing]) == [pending, processing]
    with pytest.raises(Conflict) as raised:
        rules.cancellable_children(shopper, [gone])
    assert raised.value.extra == {"in_progress": []}


def test_a_stale_version_is_a_conflict_with_the_current_one():
    rules.check_version(expected=3, current=3, what="order")
    with pytest.raises(Conflict) as raised:
        rules.check_version(expected=2, current=3, what="order")
    assert raised.value.code is OrderError.VERSION_CONFLICT and raised.value.extra == {"current_version": 3}


# --- who may see what ----------------------------------------------------------------------


def test_the_party_is_what_the_transition_table_knows():
    assert rules.Party.of(principal("admin", "seller", seller_id=NAHDI), as_seller=True) == Party("admin", "u1")
    assert rules.Party.of(principal("super_admin"), as_seller=False) == Party("admin", "u1")
    assert rules.Party.of(principal("seller", seller_id=NAHDI), as_seller=True) == Party("seller", "u1", NAHDI)
    assert rules.Party.of(principal("seller"), as_seller=True) == Party("seller", "u1", None)
    assert rules.Party.of(principal("seller", seller_id=NAHDI), as_seller=False) == Party("customer", "u1")
    assert rules.EXPIRY_PARTY.actor == "admin"


def test_who_may_see_a_child_order():
    mine = child(seller_id=NAHDI, user="u1")
    assert rules.may_see(Party("admin", "ops"), mine)
    assert rules.may_see(Party("seller", "staff", NAHDI), mine)
    assert not rules.may_see(Party("seller", "staff", DAWAA), mine)
    assert not rules.may_see(Party("seller", "staff", None), mine)
    assert rules.may_see(Party("customer", "u1"), mine)
    assert not rules.may_see(Party("customer", "u2"), mine)


def test_whose_orders_the_caller_reads_whole():
    assert rules.order_owner(principal("customer")) == "u1"
    assert rules.order_owner(principal("admin")) is None


def test_the_seller_scope():
    assert rules.seller_scope(principal("admin"), None) is None
    assert rules.seller_scope(principal("admin"), DAWAA) == DAWAA
    assert rules.seller_scope(principal("seller", seller_id=NAHDI), None) == NAHDI
    assert rules.seller_scope(principal("seller", seller_id=NAHDI), NAHDI) == NAHDI
    for caller, requested in [
        (principal("seller", seller_id=NAHDI), DAWAA),  # another seller's: like a missing one
        (principal("seller"), None),  # a seller token without its seller
        (principal("customer"), None),
    ]:
        with pytest.raises(NotFound) as raised:
            rules.seller_scope(caller, requested)
        assert raised.value.code is OrderError.SELLER_NOT_FOUND


def test_a_sellers_dashboard_is_its_own():
    assert rules.own_seller(principal("seller", seller_id=NAHDI)) == NAHDI
    with pytest.raises(NotFound) as raised:
        rules.own_seller(principal("seller"))  # a seller token without its seller
    assert raised.value.code is OrderError.SELLER_NOT_FOUND


def test_texts_the_history_rows_carry():
    assert rules.EXPIRY_REASON == "expired"
    assert rules.CUSTOMER_CANCEL_REASON == "cancelled by the customer"


# --- prescription-only lines ---------------------------------------------------------------


def test_a_paid_child_waits_while_a_prescription_is_pending_and_only_a_pharmacist_releases_it():
    assert rules.child_status_after_payment(True) == "AWAITING_PRESCRIPTION"
    assert rules.child_status_after_payment(False) == "CONFIRMED"
    assert rules.allowed_targets("status", "AWAITING_PRESCRIPTION", "pharmacist", "pickup") == [
        "CANCELLED",
        "CONFIRMED",
    ]
    assert rules.allowed_targets("status", "AWAITING_PRESCRIPTION", "seller", "pickup") == ["CANCELLED"]
    assert rules.allowed_targets("status", "AWAITING_PRESCRIPTION", "admin", "pickup") == ["CANCELLED"]
    assert "AWAITING_PRESCRIPTION" not in rules.allowed_targets("status", "PENDING", "seller", "pickup")
    assert rules.derive_parent_status(["AWAITING_PRESCRIPTION", "CONFIRMED"]) == "IN_PROGRESS"


def test_after_a_review_a_waiting_child_is_confirmed_kept_waiting_or_cancelled():
    assert rules.child_status_after_review([True, True], live_lines=3) == "CONFIRMED"
    assert rules.child_status_after_review([], live_lines=1) == "CONFIRMED"  # only non-Rx lines left
    assert rules.child_status_after_review([True, False], live_lines=2) == "AWAITING_PRESCRIPTION"
    assert rules.child_status_after_review([], live_lines=0) == "CANCELLED"


def rx_line(line_no: int, *, rx: bool, prescription: UUID | None, status: str | None, expires: date | None = None):
    line = resolved(line_no, NAHDI, "10.00")
    return line.model_copy(
        update={
            "requires_prescription": rx,
            "prescription_id": prescription,
            "prescription_status": status,
            "prescription_expires_on": expires,
        }
    )


def test_each_rx_line_names_a_usable_prescription_of_the_shopper():
    today, mine = date(2026, 3, 10), uuid4()
    ok = [
        rx_line(1, rx=True, prescription=mine, status="PENDING"),
        rx_line(2, rx=True, prescription=mine, status="APPROVED", expires=today),
        rx_line(3, rx=False, prescription=None, status=None),
    ]
    assert rules.prescription_errors(ok, today) == []
    bad = [
        rx_line(1, rx=True, prescription=None, status=None),
        rx_line(2, rx=True, prescription=uuid4(), status=None),  # unknown, or someone else's: not seen
        rx_line(3, rx=True, prescription=mine, status="APPROVED", expires=date(2026, 3, 9)),
        rx_line(4, rx=True, prescription=mine, status="REJECTED"),
        rx_line(5, rx=False, prescription=uuid4(), status=None),
    ]
    assert [(e.path, e.code) for e in rules.prescription_errors(bad, today)] == [
        ("lines/0/prescription_id", OrderError.PRESCRIPTION_REQUIRED),
        ("lines/1/prescription_id", OrderError.UNKNOWN_PRESCRIPTION),
        ("lines/2/prescription_id", OrderError.PRESCRIPTION_NOT_USABLE),
        ("lines/3/prescription_id", OrderError.PRESCRIPTION_NOT_USABLE),
        ("lines/4/prescription_id", OrderError.UNKNOWN_PRESCRIPTION),
    ]
