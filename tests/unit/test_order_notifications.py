"""Order-event notifications without I/O: who is told what, in both languages; the mark-read
body; how the host's maxDequeueCount is read."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from shared.events import consumer
from shared.notifications import texts
from shared.notifications.models import MarkRead, OrderCancelled, OrderExpired, OrderPlaced, OrderStatusChanged
from shared.notifications.repo import OrderNumbers
from shared.notifications.service import ORDER_EVENTS
from shared.platform import hostjson

ORDER, NAHDI, DAWAA = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
NUMBERS = OrderNumbers(number="SQ-2026-000123", seller_numbers={NAHDI: "SQ-2026-000123-1", DAWAA: "SQ-2026-000123-2"})


def build(event_type: str, payload: dict) -> list[tuple[str, str, str, str]]:
    model, builder = ORDER_EVENTS[event_type]
    notes = builder(event_type, model.model_validate(payload), NUMBERS)
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


def test_cancelling_notifies_once_not_also_as_a_status_change_and_expiry_once_not_per_child():
    to_cancelled = {"order_id": ORDER, "user_id": "u1", "seller_id": NAHDI, "field": "status", "to": "CANCELLED"}
    assert build("order.status_changed", to_cancelled) == []
    assert build("order.cancelled", {"order_id": ORDER, "user_id": "u1", "seller_id": NAHDI, "reason": "expired"}) == []
    assert len(build("order.cancelled", {"order_id": ORDER, "user_id": "u1", "seller_id": NAHDI, "reason": None})) == 2


def test_the_expiry_reason_is_the_one_the_expiry_timer_writes():
    from shared.notifications.service import EXPIRY_REASON
    from shared.orders.expiry import REASON

    assert EXPIRY_REASON == REASON


def test_a_whole_order_cancel_tells_every_seller_of_it():
    recipients = [r[:2] for r in build("order.cancelled", {"order_id": ORDER, "user_id": "u1", "reason": "x"})]
    assert recipients == [("user", "u1"), *sorted(("seller", s) for s in (NAHDI, DAWAA))]


def test_expiry_without_children_in_the_payload_uses_the_orders_sellers():
    assert len(build("order.expired", {"order_id": ORDER, "user_id": "u1"})) == 3


def test_status_labels_depend_on_the_field_and_unknown_ones_still_read():
    assert texts.status_label("payment_status", "FAILED") == ("payment failed", "فشل الدفع")
    assert texts.status_label("delivery_status", "FAILED") == ("delivery failed", "تعذر التوصيل")
    assert texts.status_label("status", "ON_HOLD") == ("on hold", "ON_HOLD")


@pytest.mark.parametrize(
    "model,payload",
    [
        (OrderPlaced, {"order_id": ORDER, "user_id": "u", "children": []}),
        (OrderStatusChanged, {"order_id": ORDER, "user_id": "u", "field": "colour", "to": "RED"}),
        (OrderCancelled, {"order_id": "not-a-uuid", "user_id": "u"}),
        (OrderExpired, {"order_id": ORDER, "user_id": ""}),
    ],
)
def test_payloads_missing_what_notifications_need_are_rejected(model, payload):
    with pytest.raises(ValidationError):
        model.model_validate(payload)


@pytest.mark.parametrize(
    "body,ok",
    [
        ({"all": True}, True),
        ({"ids": [ORDER]}, True),
        ({}, False),
        ({"all": True, "ids": [ORDER]}, False),
        ({"ids": []}, False),
    ],
)
def test_mark_read_takes_ids_or_all(body, ok):
    if ok:
        MarkRead.model_validate(body)
    else:
        with pytest.raises(ValidationError):
            MarkRead.model_validate(body)


def test_max_dequeue_count_comes_from_host_json_unless_an_app_setting_overrides_it(tmp_path, monkeypatch):
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"version": "2.0", "extensions": {"queues": {"maxDequeueCount": 7}}}))
    monkeypatch.setattr(hostjson, "HOST_JSON", host)
    assert consumer.max_dequeue_count({}) == 7
    assert consumer.max_dequeue_count({"AzureFunctionsJobHost__extensions__queues__MAXDEQUEUECOUNT": "2"}) == 2
    monkeypatch.setattr(hostjson, "HOST_JSON", tmp_path / "absent.json")
    assert consumer.max_dequeue_count({}) == 5  # the host's default
