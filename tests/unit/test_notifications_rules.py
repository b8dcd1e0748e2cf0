"""shared.notifications.rules without I/O: who is told what about an order event, in both
languages, and which events tell no one."""

from __future__ import annotations

import uuid

import pytest

from shared.notifications import rules
from shared.notifications.models import OrderNumbers, Recipient
from shared.platform.errors import Forbidden

ORDER, NAHDI, DAWAA = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
NUMBERS = OrderNumbers(number="SQ-2026-000123", seller_numbers={NAHDI: "SQ-2026-000123-1", DAWAA: "SQ-2026-000123-2"})


def build(event_type: str, payload: dict) -> list[tuple[str, str, str, str]]:
    notice = rules.ORDER_EVENTS[event_type]
    notes = notice.notes(event_type, notice.payload.model_validate(payload), NUMBERS)
    assert all(n.kind == event_type for n in notes)
    return [(n.recipient.type, n.recipient.id, n.title_en, n.title_ar) for n in notes]


def test_placed_tells_the_shopper_and_each_seller_with_its_own_number():
    children = [{"seller_order_id": str(uuid.uuid4()), "seller_id": s} for s in (NAHDI, DAWAA)]
    assert build("order.placed", {"order_id": ORDER, "user_id": "u1", "children": children, "total": "9.00"}) == [
        ("user", "u1", "Order SQ-2026-000123 placed", "تم تقديم الطلب SQ-2026-000123"),
        ("seller", NAHDI, "New order SQ-2026-000123-1", "طلب جديد SQ-2026-000123-1"),
        ("seller", DAWAA, "New order SQ-2026-000123-2", "طلب جديد SQ-2026-000123-2"),
    ]


def test_a_payment_status_change_tells_only_the_shopper():
    payload = {"order_id": ORDER, "user_id": "u1", "field": "payment_status", "from": "PENDING", "to": "PAID"}
    assert build("order.status_changed", payload) == [
        ("user", "u1", "Order SQ-2026-000123: paid", "الطلب SQ-2026-000123: تم الدفع")
    ]


def test_a_child_status_change_tells_the_shopper_and_that_seller_with_the_child_number():
    payload = {"order_id": ORDER, "user_id": "u1", "seller_id": DAWAA, "field": "status", "to": "CONFIRMED"}
    title = ("Order SQ-2026-000123-2: confirmed", "الطلب SQ-2026-000123-2: تم التأكيد")
    assert build("order.status_changed", payload) == [("user", "u1", *title), ("seller", DAWAA, *title)]


def test_cancelling_notifies_once_not_also_as_a_status_change_and_expiry_once_not_per_child():
    to_cancelled = {"order_id": ORDER, "user_id": "u1", "seller_id": NAHDI, "field": "status", "to": "CANCELLED"}
    assert build("order.status_changed", to_cancelled) == []
    expired_child = {"order_id": ORDER, "user_id": "u1", "seller_id": NAHDI, "reason": rules.EXPIRY_REASON}
    assert build("order.cancelled", expired_child) == []
    assert build("order.cancelled", {"order_id": ORDER, "user_id": "u1", "seller_id": NAHDI, "reason": None}) == [
        ("user", "u1", "Order SQ-2026-000123-1 cancelled", "تم إلغاء الطلب SQ-2026-000123-1"),
        ("seller", NAHDI, "Order SQ-2026-000123-1 cancelled", "تم إلغاء الطلب SQ-2026-000123-1"),
    ]


def test_the_expiry_reason_is_the_one_the_expiry_timer_writes():
    from shared.orders.rules import EXPIRY_REASON

    assert rules.EXPIRY_REASON == EXPIRY_REASON


def test_a_whole_order_cancel_tells_every_seller_of_it():
    recipients = [r[:2] for r in build("order.cancelled", {"order_id": ORDER, "user_id": "u1", "reason": "x"})]
    assert recipients == [("user", "u1"), *sorted(("seller", s) for s in (NAHDI, DAWAA))]


def test_expiry_tells_the_sellers_of_the_event_else_the_orders_sellers():
    assert build("order.expired", {"order_id": ORDER, "user_id": "u1"}) == [
        ("user", "u1", "Order SQ-2026-000123 expired unpaid", "انتهت مهلة الدفع للطلب SQ-2026-000123"),
        *[
            ("seller", s, "Order SQ-2026-000123 expired unpaid", "انتهت مهلة الدفع للطلب SQ-2026-000123")
            for s in sorted((NAHDI, DAWAA))
        ],
    ]
    children = [{"seller_order_id": str(uuid.uuid4()), "seller_id": NAHDI}]
    recipients = [r[:2] for r in build("order.expired", {"order_id": ORDER, "user_id": "u1", "children": children})]
    assert recipients == [("user", "u1"), ("seller", NAHDI)]


def test_the_order_events_someone_is_told_about():
    assert set(rules.ORDER_EVENTS) == {
        "order.placed",
        "order.status_changed",
        "order.cancelled",
        "order.expired",
        "prescription.rejected",
        "prescription.hold_expired",
    }


def test_status_labels_depend_on_the_field_and_unknown_ones_still_read():
    assert rules.status_label("payment_status", "FAILED") == ("payment failed", "فشل الدفع")
    assert rules.status_label("delivery_status", "FAILED") == ("delivery failed", "تعذر التوصيل")
    assert rules.status_label("status", "ON_HOLD") == ("on hold", "ON_HOLD")
    assert all(en and ar and en != ar for en, ar in rules.STATUS_LABELS.values())


def test_titles_in_both_languages():
    assert rules.placed_titles("N1", seller=False) == ("Order N1 placed", "تم تقديم الطلب N1")
    assert rules.placed_titles("N1", seller=True) == ("New order N1", "طلب جديد N1")
    assert rules.status_changed_titles("N1", "delivery_status", "IN_TRANSIT") == (
        "Order N1: in transit",
        "الطلب N1: في الطريق",
    )
    assert rules.cancelled_titles("N1") == ("Order N1 cancelled", "تم إلغاء الطلب N1")
    assert rules.expired_titles("N1") == ("Order N1 expired unpaid", "انتهت مهلة الدفع للطلب N1")


def test_a_note_keeps_only_the_data_that_has_a_value():
    made = rules.note(rules.shopper("u1"), "order.placed", ("en", "ar"), {"number": "N1", "reason": None})
    assert (made.title_en, made.title_ar, made.data) == ("en", "ar", {"number": "N1"})


def test_recipients_and_the_seller_a_token_is_bound_to():
    assert rules.shopper("u1") == Recipient(type="user", id="u1")
    assert rules.seller(uuid.UUID(NAHDI)) == Recipient(type="seller", id=NAHDI)
    assert rules.seller_of_token(NAHDI) == Recipient(type="seller", id=NAHDI)
    for unbound in (None, "", "not-a-uuid"):
        with pytest.raises(Forbidden) as raised:
            rules.seller_of_token(unbound)
        assert raised.value.code == "no_seller"


def test_an_event_that_created_nothing_was_a_redelivery():
    assert rules.outcome(created=2) == rules.PROCESSED == "processed"
    assert rules.outcome(created=0) == rules.DUPLICATE == "duplicate"


def _rx_payload(*, lines: int, child_cancelled: bool) -> dict:
    return {
        "order_id": ORDER,
        "user_id": "u1",
        "seller_order_id": str(uuid.uuid4()),
        "seller_id": DAWAA,
        "child_cancelled": child_cancelled,
        "lines": [{"order_item_id": str(uuid.uuid4()), "line_no": n + 1, "quantity": 2} for n in range(lines)],
    }


def test_a_rejected_prescription_tells_the_shopper_and_the_seller_in_both_languages_what_went():
    notes = build("prescription.rejected", _rx_payload(lines=1, child_cancelled=False))
    assert [n[:2] for n in notes] == [("user", "u1"), ("seller", DAWAA)]
    en, ar = notes[0][2:]
    assert "SQ-2026-000123-2" in en and "1 item(s) cancelled and refunded" in en and "the rest confirmed" in en
    assert "SQ-2026-000123-2" in ar and "رُفضت وصفة طبية" in ar
    en, ar = build("prescription.rejected", _rx_payload(lines=2, child_cancelled=True))[0][2:]
    assert en.startswith("Order SQ-2026-000123-2 cancelled: the prescription was rejected") and "refunded" in en
    assert ar.startswith("تم إلغاء الطلب SQ-2026-000123-2")
    en, ar = build("prescription.hold_expired", _rx_payload(lines=1, child_cancelled=True))[0][2:]
    assert "not reviewed in time" in en and "لم تُراجع الوصفة الطبية" in ar


def test_the_cancellations_a_prescription_event_tells_about_are_not_told_twice():
    from shared.orders.rules import HOLD_EXPIRED_REASON, RX_REJECTED_REASON

    assert {HOLD_EXPIRED_REASON, RX_REJECTED_REASON} == rules.RX_CANCEL_REASONS
    for reason in rules.RX_CANCEL_REASONS:
        assert (
            build("order.cancelled", {"order_id": ORDER, "user_id": "u1", "seller_id": NAHDI, "reason": reason}) == []
        )
    assert rules.status_label("status", "AWAITING_PRESCRIPTION")[0] == "awaiting prescription review"
