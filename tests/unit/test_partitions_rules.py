"""Which monthly partitions are past their retention: pure, no database."""

from __future__ import annotations

from datetime import date

from shared.data import partitions

NAMES = [
    "outbox_events_p202609", "outbox_events_p202610", "outbox_events_p202611", "outbox_events_p202612",
    "outbox_events_p202613", "outbox_events_old", "outbox_events_archive_p202601", "notifications_p202601",
]  # fmt: skip


def test_a_month_expires_once_it_ended_the_retention_before_today():
    # 30 days before 15 Dec is 15 Nov: September and October ended before it, November did not
    assert partitions.expired("outbox_events", NAMES, date(2026, 12, 15), 30) == [
        "outbox_events_p202609", "outbox_events_p202610"
    ]  # fmt: skip
    # the cut-off day itself: October ended on 1 Nov, exactly 30 days before 1 Dec
    assert partitions.expired("outbox_events", NAMES, date(2026, 12, 1), 30) == [
        "outbox_events_p202609", "outbox_events_p202610"
    ]  # fmt: skip
    assert partitions.expired("outbox_events", NAMES, date(2026, 12, 1), 31) == ["outbox_events_p202609"]
    assert partitions.expired("outbox_events", NAMES, date(2026, 12, 2), 31) == [
        "outbox_events_p202609", "outbox_events_p202610"
    ]  # fmt: skip


def test_names_of_other_tables_or_shapes_are_left_alone():
    assert partitions.expired("notifications", NAMES, date(2030, 1, 1), 180) == ["notifications_p202601"]
    assert partitions.expired("outbox_events", ["outbox_events_p202613"], date(2030, 1, 1), 1) == []


def test_only_the_outbox_and_notifications_have_a_retention():
    assert set(partitions.RETAINED) == {"outbox_events", "notifications"}
    assert set(partitions.RETAINED) < set(partitions.MONTHLY_TABLES)
    assert partitions.RETAINED["outbox_events"].refuse_if is not None  # unpublished events keep a month
    assert partitions.RETAINED["notifications"].refuse_if is None
