"""Order-event notifications without I/O: the payloads they need, the mark-read body, how the
host's maxDequeueCount is read (who is told what: test_notifications_rules.py)."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from shared.events import consumer
from shared.notifications.models import (
    MARK_READ_MAX_IDS,
    MarkRead,
    OrderCancelled,
    OrderExpired,
    OrderPlaced,
    OrderStatusChanged,
)
from shared.platform import hostjson

ORDER = str(uuid.uuid4())


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
        ({"ids": [ORDER] * MARK_READ_MAX_IDS}, True),
        ({"ids": [ORDER] * (MARK_READ_MAX_IDS + 1)}, False),
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
