"""The threads domain's pure rules, without a database; and the partition month arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from shared.data import partitions
from shared.notifications import rules as notification_rules
from shared.notifications.models import Recipient, ThreadMessagePosted
from shared.platform.auth import Principal
from shared.platform.errors import Conflict, Forbidden, ValidationFailed
from shared.threads import rules
from shared.threads.errors import ThreadError
from shared.threads.models import MessageRow, Party, PostingSlot, Sender, WelcomeContext

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SELLER = UUID("5e11e700-0000-4000-8000-000000000001")


def message(**changes) -> MessageRow:
    fields = {
        "id": 7,
        "thread_id": uuid4(),
        "seq": 3,
        "sender_id": "sara",
        "sender_side": "SHOPPER",
        "kind": "TEXT",
        "body": "hello",
        "reply_to": None,
        "metadata": {},
        "created_at": NOW,
        "edited_at": None,
        "deleted_at": None,
    }
    return MessageRow(**(fields | changes))


SARA = Party(side="SHOPPER", party_id="sara", user_id="sara")


def test_seller_party_needs_a_seller_bound_token():
    staff = Principal(user_id="staff-1", roles=frozenset({"seller"}), seller_id=str(SELLER))
    assert rules.seller_party(staff) == Party(side="SELLER", party_id=str(SELLER), user_id="staff-1")
    with pytest.raises(Forbidden) as refused:
        rules.seller_party(Principal(user_id="x", roles=frozenset({"seller"})))
    assert refused.value.code is ThreadError.NO_SELLER
    assert rules.shopper_party(Principal(user_id="sara", roles=frozenset({"customer"}))) == SARA


def test_message_kind_and_preview():
    assert rules.message_kind("hi", 0) == "TEXT"
    assert rules.message_kind(None, 2) == "ATTACHMENT"
    assert rules.message_kind("see file", 1) == "TEXT"
    assert rules.preview("  two\n lines ") == "two lines"
    assert rules.preview("", 2) == "📎 2 files"
    long = rules.preview("x" * 500)
    assert len(long) == rules.PREVIEW_CHARS and long.endswith("…")


def welcome(**changes) -> WelcomeContext:
    fields = {
        "preferred_language": "en",
        "seller_name_en": "Nahdi",
        "seller_name_ar": "النهدي",
        "welcome_message_en": None,
        "welcome_message_ar": None,
        "product_name_en": "Panadol",
        "product_name_ar": "بنادول",
    }
    return WelcomeContext(**(fields | changes))


def test_welcome_is_the_sellers_text_in_my_language_else_the_default():
    assert rules.welcome_text(welcome(welcome_message_en="Ahlan!")) == "Ahlan!"
    assert rules.welcome_text(welcome(preferred_language="ar", welcome_message_ar="أهلاً")) == "أهلاً"
    assert "Nahdi" in rules.welcome_text(welcome()) and "Panadol" in rules.welcome_text(welcome())
    arabic = rules.welcome_text(welcome(preferred_language="ar", welcome_message_en="only English"))
    assert "النهدي" in arabic and "بنادول" in arabic
    assert "about" not in rules.welcome_text(welcome(product_name_en=None))


def test_a_sender_changes_only_their_own_live_message_within_the_window():
    rules.check_own_change(message(), SARA, NOW + timedelta(minutes=15), window_minutes=15)
    with pytest.raises(Conflict) as late:
        rules.check_own_change(message(), SARA, NOW + timedelta(minutes=15, seconds=1), window_minutes=15)
    assert late.value.code is ThreadError.EDIT_WINDOW_CLOSED
    with pytest.raises(Forbidden):
        rules.check_own_change(message(sender_id="omar"), SARA, NOW, window_minutes=15)
    with pytest.raises(Forbidden):  # same user id, other side (a seller staff who is also a shopper)
        rules.check_own_change(message(sender_side="SELLER"), SARA, NOW, window_minutes=15)
    with pytest.raises(Conflict) as deleted:
        rules.check_own_change(message(deleted_at=NOW, body=""), SARA, NOW, window_minutes=15)
    assert deleted.value.code is ThreadError.MESSAGE_DELETED
    with pytest.raises(Conflict) as system:
        rules.check_own_change(message(kind="SYSTEM"), SARA, NOW, window_minutes=15)
    assert system.value.code is ThreadError.NOT_EDITABLE


def test_everyone_but_the_senders_side_is_told():
    assert rules.recipients("SHOPPER", "sara", SELLER) == [("seller", str(SELLER))]
    assert rules.recipients("SELLER", "sara", SELLER) == [("user", "sara")]
    assert rules.recipients("SUPPORT", "sara", SELLER) == [("user", "sara"), ("seller", str(SELLER))]
    assert rules.recipients("SUPPORT", "sara", None) == [("user", "sara")]
    slot = PostingSlot(message_seq=4, message_id=99, shopper_id="sara", seller_id=SELLER, subject="Panadol")
    payload = rules.posted_payload(uuid4(), slot, Sender(side="SHOPPER", user_id="sara"), "TEXT", "hi")
    assert payload["recipients"] == [{"type": "seller", "id": str(SELLER)}] and payload["message_id"] == 99


def test_collapsed_notification_titles_count_the_messages():
    assert notification_rules.thread_message_titles("Panadol", 1)[0] == "New message: Panadol"
    assert notification_rules.thread_message_titles("Panadol", 3)[0] == "3 new messages: Panadol"
    en, ar = notification_rules.thread_title_templates("50% off")
    assert en == "%s new messages: 50%% off" and ar.startswith("%s ")
    posted = ThreadMessagePosted(
        thread_id=uuid4(), message_id=5, subject="S", preview="p", recipients=[Recipient(type="user", id="sara")]
    )
    [note] = notification_rules.thread_notes(posted)
    assert note.data["count"] == 1 and note.kind == "thread.message_posted"


def test_archive_cutoff_and_upload_checks():
    assert rules.archive_cutoff(NOW, 180) == NOW - timedelta(days=180)
    thread, attachment = uuid4(), uuid4()
    assert rules.blob_name(thread, attachment) == f"threads/{thread}/{attachment}"
    rules.check_upload(None, attachment, max_bytes=10)
    for problem, code in [
        ("missing", ThreadError.FILE_MISSING),
        ("empty", ThreadError.FILE_EMPTY),
        ("too_large", ThreadError.FILE_TOO_LARGE),
        ("wrong_type", ThreadError.FILE_TYPE_NOT_ALLOWED),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            rules.check_upload(problem, attachment, max_bytes=10)
        assert refused.value.code is code


def test_partition_months_and_bounds():
    assert partitions.month_starts(date(2026, 11, 17)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)
    ]  # fmt: skip
    assert partitions.partition_name("messages", date(2027, 1, 1)) == "messages_p202701"
    start, end = partitions.bounds(date(2026, 12, 1))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
