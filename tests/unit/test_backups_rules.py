"""shared.backups.rules without I/O: names, block ids, the retention rule, the load order, the
manifest's agreement check and what a restore compares."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from shared.backups import rules
from shared.backups.models import (
    BackupListing,
    CopiedTable,
    CountedTable,
    ForeignKeyRow,
    RetentionPolicy,
    SequenceRow,
    TableEntry,
    TableRow,
)

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # a Thursday


def listing(started: datetime, *, complete: bool = True, suffix: str = "abc123") -> BackupListing:
    backup_id = rules.new_backup_id(started, suffix)
    return BackupListing(backup_id=backup_id, started_at=started, complete=complete)


def test_backup_ids_sort_by_time_and_round_trip():
    early = rules.new_backup_id(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC), "ffffff00")
    late = rules.new_backup_id(datetime(2026, 1, 2, 3, 4, 5, 679000, tzinfo=UTC), "000000")
    assert early == "20260102T030405.678Z-ffffff" and early < late
    assert rules.started_at_of(early) == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert rules.is_backup_id(early) and not rules.is_backup_id("20260102T030405Z-ffffff")
    with pytest.raises(ValueError):
        rules.started_at_of("latest")


def test_block_ids_have_one_length_and_are_base64():
    ids = [rules.block_id(n) for n in (0, 9, 12345, 49_999)]
    assert len({len(i) for i in ids}) == 1 and len(set(ids)) == 4
    assert base64.b64decode(ids[2]) == b"block-00012345"


def test_listings_are_newest_first_and_complete_only_with_a_manifest():
    a, b = rules.new_backup_id(NOW, "aaaaaa"), rules.new_backup_id(NOW + timedelta(seconds=1), "bbbbbb")
    names = [
        rules.table_blob_name(a, "orders"),
        rules.manifest_blob_name(a),
        rules.table_blob_name(b, "orders"),
        "not-a-backup/manifest.json",
    ]
    found = rules.listings_from_blob_names(names)
    assert [(x.backup_id, x.complete) for x in found] == [(b, False), (a, True)]
    assert found[1].blobs == sorted([rules.table_blob_name(a, "orders"), rules.manifest_blob_name(a)])


def daily_backups(days: int) -> list[BackupListing]:
    return [listing((NOW - timedelta(days=d)).replace(hour=h), suffix=f"{d:03d}{h:03d}") for d in range(1, days + 1)
            for h in (2, 14)]  # fmt: skip


def kept_days(kept: set[str]) -> set[str]:
    return {rules.started_at_of(k).strftime("%m-%d %H") for k in kept}


def test_retention_keeps_the_newest_of_each_day_week_and_month():
    kept = rules.backups_to_keep(daily_backups(100), RetentionPolicy(daily=3, weekly=2, monthly=3))
    # days: 2, 1 Dec and 30 Nov; weeks: W49 (2 Dec) and W48 (Sun 29 Nov); months: Dec, Nov (30th), Oct (31st)
    assert kept_days(kept) == {"12-02 14", "12-01 14", "11-30 14", "11-29 14", "10-31 14"}


def test_retention_defaults_keep_at_most_23_and_never_an_older_one_of_a_kept_day():
    kept = rules.backups_to_keep(daily_backups(400), RetentionPolicy(daily=7, weekly=4, monthly=12))
    assert len(kept) <= 7 + 4 + 12
    assert all(k.endswith("014") for k in kept)  # the 14:00 backup is each day's newest


def test_retention_always_keeps_the_newest_complete_backup_even_with_a_zero_policy():
    backups = daily_backups(3)
    newest = max(backups, key=lambda b: b.started_at).backup_id
    assert rules.backups_to_keep(backups, RetentionPolicy(daily=0, weekly=0, monthly=0)) == {newest}
    assert rules.backups_to_keep([], RetentionPolicy(daily=7, weekly=4, monthly=12)) == set()


def test_dead_runs_are_deleted_only_once_they_cannot_still_be_running():
    dead = listing(NOW - timedelta(days=2), complete=False, suffix="dead00")
    running = listing(NOW - timedelta(hours=2), complete=False, suffix="a11ce0")
    complete = listing(NOW - timedelta(days=3))
    doomed = rules.backups_to_delete([running, dead, complete], RetentionPolicy(daily=1, weekly=0, monthly=0), now=NOW)
    assert doomed == [dead.backup_id]


def fk(table: str, referenced: str) -> ForeignKeyRow:
    return ForeignKeyRow(table, referenced, f"{table}_{referenced}_fkey", "FOREIGN KEY …")


def test_load_order_puts_referenced_tables_first():
    keys = [fk("order_items", "orders"), fk("orders", "users"), fk("order_items", "offers"), fk("users", "users")]
    order = rules.load_order(["order_items", "offers", "orders", "users", "brands"], keys)
    assert order == ["brands", "offers", "users", "orders", "order_items"]


def test_load_order_appends_a_cycle_rather_than_loop_forever():
    order = rules.load_order(["a", "b", "c"], [fk("a", "b"), fk("b", "a"), fk("c", "a")])
    assert order == ["a", "b", "c"]


def entry(name: str, rows: int, fingerprint: str) -> TableEntry:
    return TableEntry(name=name, blob=f"x/{name}", columns=["id"], rows=rows, fingerprint=fingerprint, raw_bytes=1,
                      stored_bytes=1, sha256="0")  # fmt: skip


def test_mismatches_name_each_table_that_differs():
    expected = [entry("a", 2, "10"), entry("b", 3, "20"), entry("c", 1, "5"), entry("d", 0, "0")]
    restored = {"a": CountedTable(2, "10"), "b": CountedTable(2, "20"), "c": CountedTable(1, "6")}
    assert rules.mismatches(expected, restored) == [
        "b: 2 rows, the backup has 3",
        "c: fingerprint 6, the backup has 5",
        "d: not restored",
    ]


def test_a_manifest_is_refused_when_copy_and_count_disagree_in_one_snapshot():
    tables = [TableRow("orders", False, ["id"]), TableRow("users", False, ["id", "email"])]
    copied = {"orders": CopiedTable(3, 30, 20, "s1"), "users": CopiedTable(2, 40, 25, "s2")}
    counted = {"orders": CountedTable(3, "99"), "users": CountedTable(2, "-7")}
    manifest = rules.manifest_of("b", tables, copied, counted, [SequenceRow("s", 5, True)],
                                 migrations=["0001", "0011"], started_at=NOW, finished_at=NOW)  # fmt: skip
    assert manifest.migration_version == "0011" and manifest.rows == 5 and manifest.stored_bytes == 45
    assert [t.blob for t in manifest.tables] == [
        rules.table_blob_name("b", "orders"),
        rules.table_blob_name("b", "users"),
    ]
    counted["users"] = CountedTable(3, "-7")
    with pytest.raises(ValueError, match="users"):
        rules.manifest_of("b", tables, copied, counted, [], migrations=[], started_at=NOW, finished_at=NOW)


def test_scratch_database_names_are_short_plain_and_unique_per_run():
    backup_id = rules.new_backup_id(NOW, "abcdef")
    one, two = rules.scratch_database_name(backup_id, "11112222"), rules.scratch_database_name(backup_id, "33334444")
    assert one != two and len(one) <= 63 and one.startswith(rules.SCRATCH_PREFIX)
    assert all(c.isalnum() or c == "_" for c in one) and one == one.lower()


def test_migration_tables_are_not_application_tables():
    assert not rules.is_application_table("_yoyo_migration") and not rules.is_application_table("yoyo_lock")
    assert rules.is_application_table("orders")
    assert rules.database_url_for("postgresql://u@h:5432/souq?sslmode=require", "x") == (
        "postgresql://u@h:5432/x?sslmode=require"
    )


def test_backups_bypass_pgbouncer_and_keep_everything_else_of_the_url():
    pooled = "postgresql://server.postgres.database.azure.com:6432/souq?sslmode=require"
    assert rules.direct_url(pooled) == "postgresql://server.postgres.database.azure.com:5432/souq?sslmode=require"
    assert rules.direct_url("postgresql://u@h:5432/souq") == "postgresql://u@h:5432/souq"
    assert rules.database_name_of("postgresql://u@h:5432/souq_verify_x?sslmode=require") == "souq_verify_x"
