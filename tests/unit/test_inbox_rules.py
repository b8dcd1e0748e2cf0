"""The inbox's pure rules: webhook signatures and tokens, Meta's reply windows, Telegram's
split, snooze bounds, scope; and the channels' normalizers on the documented shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.inbox import rules
from shared.inbox.channels import meta, telegram
from shared.inbox.models import InboundMessage, Watermark
from shared.platform.auth import Principal
from shared.platform.errors import Forbidden, ValidationFailed

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_meta_signature_is_an_hmac_of_the_raw_body_compared_exactly():
    body = b'{"object":"page","entry":[]}'
    header = rules.meta_signature("secret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert rules.meta_signature_valid(header, "secret", body)
    assert not rules.meta_signature_valid(header, "secret", body + b" ")  # re-serialized JSON differs
    assert not rules.meta_signature_valid(header, "other", body)
    assert not rules.meta_signature_valid(None, "secret", body)
    assert not rules.meta_signature_valid(header, "", body)
    assert not rules.meta_signature_valid("sha1=" + header[7:], "secret", body)


def test_tokens_need_both_sides():
    assert rules.token_matches("t", "t")
    assert not rules.token_matches("t", "u")
    assert not rules.token_matches("", "")
    assert not rules.token_matches("t", None)


@pytest.mark.parametrize(
    ("quiet", "window"),
    [
        (timedelta(hours=1), "RESPONSE"),
        (timedelta(hours=24), "RESPONSE"),
        (timedelta(hours=24, seconds=1), "HUMAN_AGENT"),
        (timedelta(days=7), "HUMAN_AGENT"),
        (timedelta(days=7, seconds=1), None),
    ],
)
def test_meta_windows(quiet, window):
    assert rules.meta_window(NOW - quiet, NOW) == window


def test_no_inbound_message_no_window():
    assert rules.meta_window(None, NOW) is None


def test_telegram_split_keeps_every_character_within_the_limit():
    text = ("word " * 2000).strip()
    parts = rules.split_text(text)
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert " ".join(parts) == text
    assert rules.split_text("short") == ["short"]
    unbroken = "x" * 9000
    assert rules.split_text(unbroken) == ["x" * 4096, "x" * 4096, "x" * 808]
    assert rules.split_text("a" * 4096) == ["a" * 4096]


def test_snooze_must_be_ahead_and_within_90_days():
    rules.check_snooze_until(NOW + timedelta(minutes=1), NOW)
    with pytest.raises(ValidationFailed):
        rules.check_snooze_until(NOW, NOW)
    with pytest.raises(ValidationFailed):
        rules.check_snooze_until(NOW + timedelta(days=91), NOW)


def test_scope_admins_see_all_sellers_their_own():
    seller = uuid4()
    assert rules.agent_scope(Principal("a", frozenset({"admin"}))).seller_id is None
    assert rules.agent_scope(Principal("s", frozenset({"seller"}), seller_id=str(seller))).seller_id == seller
    with pytest.raises(Forbidden):
        rules.agent_scope(Principal("s", frozenset({"seller"})))


# --- normalizers ---------------------------------------------------------------------------


def messaging(**event):
    return {"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"}, "timestamp": 1764763200000, **event}


def test_meta_every_entry_and_every_event():
    body = {
        "object": "page",
        "entry": [
            {"id": "PAGE", "time": 1, "messaging": [messaging(message={"mid": "m1", "text": "a"}), messaging(
                message={"mid": "m2", "text": "b", "reply_to": {"mid": "m1"},
                         "attachments": [{"type": "image", "payload": {"url": "https://x/y.png"}}]})]},
            {"id": "PAGE2", "time": 1, "messaging": [messaging(delivery={"mids": ["m0"], "watermark": 1764763100000}),
                                                    messaging(read={"watermark": 1764763150000}),
                                                    messaging(postback={"title": "Start", "payload": "GET_STARTED"}),
                                                    messaging(reaction={"mid": "m1"})]},
        ],
    }  # fmt: skip
    batches = meta.events_by_entry(json.loads(json.dumps(body)))
    assert [page for page, _ in batches] == ["PAGE", "PAGE2"]
    first, second = batches[0][1]
    assert isinstance(first, InboundMessage) and first.external_id == "m1" and first.contact.external_id == "PSID"
    assert second.reply_to == "m1" and second.attachments[0]["type"] == "image"
    delivered, read, postback = batches[1][1]  # the reaction is skipped
    assert isinstance(delivered, Watermark) and delivered.status == "DELIVERED"
    assert isinstance(read, Watermark) and read.status == "READ"
    assert isinstance(postback, InboundMessage) and postback.kind == "postback" and postback.text == "Start"


def test_an_instagram_read_receipt_names_a_mid_and_its_time_stands_for_the_watermark():
    receipt = meta.normalize("IG", messaging(read={"mid": "aWdfZAG1"}))
    assert isinstance(receipt, Watermark) and receipt.status == "READ"
    assert receipt.watermark == datetime.fromtimestamp(1764763200, UTC)


def test_meta_echo_is_outbound_to_the_recipient():
    echo = {"mid": "m9", "is_echo": True, "text": "from another tool"}
    event = meta.normalize("PAGE", messaging(sender={"id": "PAGE"}, recipient={"id": "PSID"}, message=echo))
    assert isinstance(event, InboundMessage)
    assert event.direction == "OUT" and event.contact.external_id == "PSID"


@pytest.mark.parametrize(
    "body", [[], {"object": "user", "entry": []}, {"object": "page"}, {"object": "page", "entry": [{"time": 1}]}]
)
def test_meta_malformed(body):
    with pytest.raises(meta.MalformedDelivery):
        meta.events_by_entry(body)


def test_telegram_update():
    update = {
        "update_id": 900000001,
        "message": {
            "message_id": 7,
            "date": 1764763200,
            "chat": {"id": 5_000_000_000_123, "type": "private"},
            "from": {"id": 5_000_000_000_123, "first_name": "Sara", "last_name": "A", "username": "sara"},
            "text": "مرحبا",
        },
    }
    event = telegram.normalize(update)
    assert event is not None
    assert event.external_id == "5000000000123:7" and event.contact.external_id == "5000000000123"
    assert event.contact.name == "Sara A" and event.contact.username == "sara"
    assert event.dedupe_keys == ("update:900000001",)
    assert telegram.normalize({"update_id": 1, "edited_message": {}}) is None
    with pytest.raises(meta.MalformedDelivery):
        telegram.normalize({"message": {}})
