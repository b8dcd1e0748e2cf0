"""Order requests' rules, without a database: what a proposal refuses and stores, the order an
acceptance places, what a request no longer PENDING answers, and the status messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared.orders.models_threads import PricedOfferLine
from shared.platform.errors import Conflict, ValidationFailed
from shared.thread_orders import rules
from shared.thread_orders.models import AcceptOrderRequest, OrderRequest

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SELLER = uuid.uuid4()


def priced(line_no: int, *, price: str | None = "15.00", quantity: int = 3, orderable: bool = True, rx=False):
    return PricedOfferLine(
        line_no=line_no,
        offer_id=uuid.uuid4(),
        quantity=quantity,
        orderable=orderable,
        variant_id=uuid.uuid4() if orderable else None,
        product_id=uuid.uuid4() if orderable else None,
        product_name_en="Panadol" if orderable else None,
        product_name_ar="بنادول" if orderable else None,
        sku="PAN-1" if orderable else None,
        requires_prescription=rx if orderable else None,
        unit_price=Decimal(price) if price and orderable else None,
        available=10 if orderable else None,
    )


def request(lines, *, status="PENDING", valid_until=NOW + timedelta(hours=1), order_id=None) -> OrderRequest:
    return OrderRequest(
        id=uuid.uuid4(),
        thread_id=uuid.uuid4(),
        seller_id=SELLER,
        status=status,
        lines=lines,
        subtotal=rules.subtotal(lines),
        currency="SAR",
        note=None,
        valid_until=valid_until,
        order_id=order_id,
        decided_at=None,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def test_unknown_or_inactive_offers_are_422_naming_each_line():
    with pytest.raises(ValidationFailed) as raised:
        rules.check_offers([priced(1), priced(2, orderable=False), priced(3, orderable=False)])
    assert [e.path for e in raised.value.errors] == ["lines/1/offer_id", "lines/2/offer_id"]
    rules.check_offers([priced(1), priced(2)])  # all orderable: nothing raised


def test_lines_are_priced_like_placement_rounding_half_up():
    lines = rules.request_lines([priced(1, price="0.335", quantity=3), priced(2, price="15.00", quantity=2)])
    assert [line.line_total for line in lines] == [Decimal("1.01"), Decimal("30.00")]
    assert rules.subtotal(lines) == Decimal("31.01")


def test_the_order_to_place_is_at_the_proposing_seller_with_named_prescriptions():
    lines = rules.request_lines([priced(1), priced(2, rx=True)])
    rx = uuid.uuid4()
    accept = AcceptOrderRequest(delivery_method="pickup", prescriptions=[{"line_no": 2, "prescription_id": rx}])
    body = rules.order_to_place(request(lines), accept)
    assert [(line.seller_id, line.quantity, line.prescription_id) for line in body.lines] == [
        (SELLER, 3, None),
        (SELLER, 3, rx),
    ]
    assert [line.variant_id for line in body.lines] == [line.variant_id for line in lines]


@pytest.mark.parametrize("named", [[3], [1, 1]])
def test_prescriptions_must_name_lines_of_the_request_once(named):
    lines = rules.request_lines([priced(1), priced(2)])
    given = [{"line_no": n, "prescription_id": uuid.uuid4()} for n in named]
    with pytest.raises(ValidationFailed) as raised:
        rules.order_to_place(request(lines), AcceptOrderRequest(delivery_method="pickup", prescriptions=given))
    assert raised.value.errors[-1].path == f"prescriptions/{len(named) - 1}/line_no"


def test_the_placement_key_is_derived_from_the_request():
    rid = uuid.uuid4()
    assert rules.placement_key(rid) == rules.placement_key(rid) == f"order-request:{rid}"
    assert len(rules.placement_key(rid)) <= 255


def test_a_request_past_its_deadline_answers_expired_else_its_status():
    lines = rules.request_lines([priced(1)])
    late = rules.not_pending(request(lines, valid_until=NOW - timedelta(seconds=1)), NOW)
    assert isinstance(late, Conflict) and late.extra["status"] == "EXPIRED"
    declined = rules.not_pending(request(lines, status="DECLINED"), NOW)
    assert declined.extra["status"] == "DECLINED" and declined.code == "order_request_not_pending"


def test_status_texts_are_english_then_arabic_for_every_status():
    for status in rules.STATUS_TEXTS:
        text = rules.status_text(
            status,
            units=2,
            subtotal="30.00",
            currency="SAR",
        )
        english, arabic = text.split("\n")
        assert english.isascii() and not arabic.isascii()
    assert rules.valid_until(NOW, 48) == NOW + timedelta(hours=48)


def test_metadata_names_the_request_and_its_order_once_accepted():
    lines = rules.request_lines([priced(1)])
    order_id = uuid.uuid4()
    metadata = rules.status_metadata(request(lines, status="ACCEPTED", order_id=order_id))
    assert metadata["status"] == "ACCEPTED" and metadata["order_id"] == str(order_id)
    assert "order_id" not in rules.status_metadata(request(lines))


def test_a_line_priced_otherwise_than_proposed_is_a_conflict_naming_it():
    lines = rules.request_lines([priced(1, price="15.00"), priced(2, price="9.50")])
    rules.check_prices_kept(request(lines), {1: Decimal("15.00"), 2: Decimal("9.50")})
    with pytest.raises(Conflict) as raised:
        rules.check_prices_kept(request(lines), {1: Decimal("15.00"), 2: Decimal("9.00")})
    assert raised.value.extra["lines"] == [{"line_no": 2, "proposed": "9.50", "now": "9.00"}]
