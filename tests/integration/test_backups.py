"""Backups against the real PostgreSQL and Azurite: backup → restore into an empty database is
identical (counts, fingerprints, pg_dump --data-only), rows of a month the migrations did not
partition included; a backup taken while orders are placed
restores consistent; a corrupted, cut or unfinished backup is refused; retention keeps exactly
the configured set; two overlapping runs: one runs, the other exits; the weekly verification
records its result and logs a failure at ERROR."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from shared.backups import rules, service
from shared.backups.errors import BackupError, BackupRefused, TargetNotEmpty
from shared.backups.models import RetentionPolicy
from tests.integration.conftest import violations_in
from tests.order_support import line, place, shopper_with_address, stocked_catalog
from tests.support import create_database, drop_database, unique


@pytest.fixture
async def container(app_env):
    """A container of the test's own, deleted afterwards (Azurite is shared by every run)."""
    import contextlib

    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import blob_service_client

    name = unique("backups")
    yield name
    with contextlib.suppress(ResourceNotFoundError):
        await blob_service_client().delete_container(name)


@pytest.fixture
def empty_database(server_url: str):
    name = f"souq_restore_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


async def shop(database_url: str, orders: int) -> None:
    """A catalog with stock and a few orders of several lines."""
    catalog = await stocked_catalog(database_url)
    headers, _ = await shopper_with_address(unique("shopper"))
    for _ in range(orders):
        status, _, body = await place(headers, [line(catalog, "vitamin", 1), line(catalog, "panadol", 1, "dawaa")])
        assert status == 201, body
    from shared.events import relay

    await relay.wait_for_background_relay()  # nothing changes the database once it returns


def pg_dump_program() -> str:
    found = shutil.which("pg_dump") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))), None)
    if not found:
        pytest.skip("pg_dump is not installed")
    return str(found)


def data_dump_lines(url: str) -> list[str]:
    """pg_dump --data-only of the application tables, sorted: row order is not the backup's business."""
    command = [pg_dump_program(), "--data-only", "--exclude-table=_yoyo*", "--exclude-table=yoyo_lock", url]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    skipped = ("--", "\\restrict", "\\unrestrict")  # comments name the database; restrict keys are random
    return sorted(line for line in text.splitlines() if line and not line.startswith(skipped))


def fingerprints(url: str, tables: list[str]) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(
                f"SELECT count(*), coalesce(sum(('x' || left(md5(x::text), 16))::bit(64)::bigint), 0)::text "
                f'FROM "{t}" x'
            ).fetchone()
            for t in tables
        }


async def test_backup_then_restore_into_an_empty_database_is_identical(
    app_env, database_url, container, empty_database
):
    await shop(database_url, orders=3)
    before = data_dump_lines(database_url)  # the backup records its own run afterwards

    result = await service.create_backup(container=container)
    assert result.status == "succeeded" and result.manifest is not None
    manifest = result.manifest
    assert {"orders", "order_items", "offers", "users", "backup_runs"} <= {t.name for t in manifest.tables}
    assert not any(t.name.startswith("_yoyo") for t in manifest.tables)
    assert manifest.migration_version == manifest.migrations[-1] and "0011.backups" in manifest.migrations

    restored = await service.restore_backup(manifest.backup_id, empty_database, container=container)

    assert restored.rows == manifest.rows > 0
    names = [t.name for t in manifest.tables]
    assert fingerprints(empty_database, names) == {t.name: (t.rows, t.fingerprint) for t in manifest.tables}
    assert data_dump_lines(empty_database) == before
    listed = await service.list_backups(container=container)
    assert [(b.backup_id, b.complete) for b in listed] == [(manifest.backup_id, True)]


PAST_MONTH_ROWS = """
INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, occurred_at, published_at)
VALUES ('order.placed', 'order', 'o-1', '2025-02-10T10:00Z', '2025-02-10T10:00:01Z');
INSERT INTO notifications (recipient_type, recipient_id, event_id, kind, title_en, title_ar, created_at)
VALUES ('user', 'u-1', gen_random_uuid(), 'order.placed', 'o', 'o', '2025-02-10');
"""
PAST_MONTH_PARTITIONS = """
SELECT count(*) FROM pg_class WHERE relname IN ('outbox_events_p202502', 'notifications_p202502') AND relispartition
"""


async def test_rows_of_a_past_month_restore_into_partitions_the_migrations_did_not_make(
    app_env, database_url, container, empty_database
):
    from shared.data import partitions

    past = date(2025, 2, 1)  # long before the migrations ran: only the restore can make it
    await partitions.ensure_partitions(today=past, tables=("outbox_events", "notifications"), months_ahead=0)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(PAST_MONTH_ROWS)
    result = await service.create_backup(container=container)
    assert result.manifest is not None
    [outbox] = [t for t in result.manifest.tables if t.name == "outbox_events"]
    assert "outbox_events_p202502" in outbox.partitions and outbox.rows == 1

    await service.restore_backup(result.manifest.backup_id, empty_database, container=container)

    tables = ["outbox_events", "notifications"]
    assert fingerprints(empty_database, tables) == fingerprints(database_url, tables)
    with psycopg.connect(empty_database) as conn:
        made = conn.execute(PAST_MONTH_PARTITIONS).fetchone()
    assert made == (2,)


async def test_a_backup_taken_while_orders_are_placed_restores_consistent(
    app_env, database_url, container, empty_database
):
    catalog = await stocked_catalog(database_url)
    headers, _ = await shopper_with_address(unique("shopper"))
    placed_after_lock = asyncio.Event()
    locked = asyncio.Event()
    stop = asyncio.Event()

    async def place_orders() -> int:
        count = after = 0
        while not stop.is_set():
            status, _, body = await place(headers, [line(catalog, "vitamin", 1), line(catalog, "brufen", 1)])
            assert status in (201, 409), body
            count += 1
            after += locked.is_set()
            if after >= 3:
                placed_after_lock.set()
        return count

    async def hold_until_orders_commit() -> None:
        locked.set()
        await placed_after_lock.wait()  # orders commit while this run's snapshot is open

    orders = asyncio.create_task(place_orders())
    result = await service.create_backup(container=container, after_lock=hold_until_orders_commit)
    stop.set()
    assert await orders >= 3 and result.status == "succeeded" and result.manifest

    await service.restore_backup(result.manifest.backup_id, empty_database, container=container)
    assert violations_in(empty_database) == []
    assert result.manifest.rows > 0


async def overwrite(container: str, blob_name: str, data: bytes) -> None:
    from shared.storage import blob_service_client

    blob = blob_service_client().get_blob_client(container, blob_name)
    await blob.upload_blob(data, overwrite=True)


async def read(container: str, blob_name: str) -> bytes:
    from shared.storage import blob_service_client

    blob = blob_service_client().get_blob_client(container, blob_name)
    return await (await blob.download_blob()).readall()


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        ("flip_a_byte", BackupError.BACKUP_CORRUPTED),
        ("cut_short", BackupError.BACKUP_CORRUPTED),
        ("delete_a_blob", BackupError.BACKUP_INCOMPLETE),
        ("delete_the_manifest", BackupError.BACKUP_INCOMPLETE),
    ],
)
async def test_a_damaged_backup_is_refused_and_loads_nothing(
    app_env, database_url, container, empty_database, damage, code
):
    from shared.storage import blob_service_client

    await shop(database_url, orders=2)
    result = await service.create_backup(container=container)
    assert result.manifest is not None
    backup_id = result.manifest.backup_id
    victim = rules.table_blob_name(backup_id, "order_items")
    data = await read(container, victim)
    if damage == "flip_a_byte":
        await overwrite(container, victim, data[:40] + bytes([data[40] ^ 0x55]) + data[41:])
    elif damage == "cut_short":
        await overwrite(container, victim, data[: len(data) // 2])
    else:
        name = victim if damage == "delete_a_blob" else rules.manifest_blob_name(backup_id)
        await blob_service_client().get_blob_client(container, name).delete_blob()

    with pytest.raises(BackupRefused) as refused:
        await service.restore_backup(backup_id, empty_database, container=container)
    assert refused.value.code is code
    assert backup_id in refused.value.detail or victim in refused.value.detail
    with psycopg.connect(empty_database) as conn:
        exists = conn.execute("SELECT to_regclass('order_items') IS NOT NULL").fetchone()[0]
        assert not exists or conn.execute("SELECT count(*) FROM order_items").fetchone()[0] == 0


async def test_restore_refuses_a_database_that_has_tables(app_env, database_url, container):
    result = await service.create_backup(container=container)
    assert result.manifest is not None
    with pytest.raises(TargetNotEmpty):
        await service.restore_backup(result.manifest.backup_id, database_url, container=container)


async def test_two_overlapping_runs_one_runs_the_other_exits(app_env, database_url, container):
    await shop(database_url, orders=1)
    first_locked, release_first = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        first_locked.set()
        await release_first.wait()

    first = asyncio.create_task(service.create_backup(container=container, after_lock=hold))
    await first_locked.wait()
    second = await service.create_backup(container=container)
    release_first.set()
    first_result = await first

    assert (first_result.status, second.status) == ("succeeded", "skipped")
    listed = await service.list_backups(container=container)
    assert [b.backup_id for b in listed if b.complete] == [first_result.backup_id]
    with psycopg.connect(database_url) as conn:
        runs = conn.execute("SELECT status FROM backup_runs WHERE kind = 'backup' ORDER BY id").fetchall()
    assert sorted(r[0] for r in runs) == ["skipped", "succeeded"]


async def put_blob(container: str, name: str) -> None:
    from shared.backups import blobs

    client = await blobs.container(container)
    await client.upload_blob(name, b"x", overwrite=True)


async def test_retention_keeps_exactly_the_configured_set(app_env, database_url, container):
    now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # a Thursday
    # Two backups a day (02:00 and 14:00) for 100 days back from yesterday.
    ids = {}
    for days in range(1, 101):
        for hour in (2, 14):
            started = (now - timedelta(days=days)).replace(hour=hour)
            ids[started] = rules.new_backup_id(started, uuid.uuid4().hex)
    for backup_id in ids.values():
        await put_blob(container, rules.manifest_blob_name(backup_id))
        await put_blob(container, rules.table_blob_name(backup_id, "orders"))
    died_long_ago = rules.new_backup_id(now - timedelta(days=3), "dead00")
    still_running = rules.new_backup_id(now - timedelta(hours=1), "a11ce0")
    for backup_id in (died_long_ago, still_running):
        await put_blob(container, rules.table_blob_name(backup_id, "orders"))

    policy = RetentionPolicy(daily=3, weekly=2, monthly=3)
    result = await service.apply_retention(container=container, policy=policy, clock=lambda: now)

    at = lambda month, day: ids[datetime(2026, month, day, 14, tzinfo=UTC)]  # noqa: E731 - the day's newest
    expected = {
        at(12, 2), at(12, 1), at(11, 30),  # daily: the last three days
        at(11, 29),  # weekly: Sunday 29 Nov ends the previous ISO week (this week's newest is 2 Dec)
        at(10, 31),  # monthly: December (2 Dec), November (30 Nov), October (31 Oct)
        still_running,  # no manifest yet, but too young to be called dead
    }  # fmt: skip
    remaining = {name.split("/", 1)[0] for name in await blob_names(container)}
    assert remaining == expected
    assert died_long_ago in result.deleted and result.failed == []


async def blob_names(container: str) -> list[str]:
    from shared.backups import blobs

    return await blobs.blob_names(container)


async def test_verification_restores_the_newest_records_it_and_drops_the_scratch_database(
    app_env, database_url, server_url, container
):
    await shop(database_url, orders=1)
    await service.create_backup(container=container)
    newest = await service.create_backup(container=container)

    result = await service.verify_backup(container=container)

    assert (result.status, result.backup_id) == ("succeeded", newest.backup_id)
    with psycopg.connect(database_url) as conn:
        run = conn.execute("SELECT backup_id, status FROM backup_runs WHERE kind = 'verify'").fetchall()
    assert run == [(newest.backup_id, "succeeded")]
    assert scratch_databases(server_url, newest.backup_id) == []


def scratch_databases(server_url: str, backup_id: str) -> list[str]:
    prefix = rules.scratch_database_name(backup_id, "")
    with psycopg.connect(server_url, dbname="postgres") as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)).fetchall()
    return [r[0] for r in rows]


async def test_a_failed_verification_is_recorded_and_logged_at_error(
    app_env, database_url, server_url, container, caplog
):
    await shop(database_url, orders=1)
    result = await service.create_backup(container=container)
    assert result.manifest is not None
    victim = rules.table_blob_name(result.manifest.backup_id, "orders")
    await overwrite(container, victim, b"not gzip at all")

    with caplog.at_level(logging.ERROR, logger="souq.backups"):
        verified = await service.verify_backup(container=container)

    assert verified.status == "failed" and "corrupted" in str(verified.detail["reason"])
    assert any("backup verification failed" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    with psycopg.connect(database_url) as conn:
        run = conn.execute("SELECT status, detail->>'code' FROM backup_runs WHERE kind = 'verify'").fetchall()
    assert run == [("failed", "backup_corrupted")]
    assert scratch_databases(server_url, result.manifest.backup_id) == []


async def test_verification_without_any_complete_backup_fails_loudly(app_env, database_url, container, caplog):
    with caplog.at_level(logging.ERROR, logger="souq.backups"):
        verified = await service.verify_backup(container=container)
    assert (verified.status, verified.backup_id) == ("failed", None)
    assert any("no complete backup" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT status FROM backup_runs WHERE kind = 'verify'").fetchall() == [("failed",)]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    import os
    import sys

    command = [sys.executable, "-m", "scripts.backup", *args]
    return subprocess.run(command, env=os.environ | env, capture_output=True, text=True, timeout=300)


async def test_the_cli_creates_lists_and_restores_and_refuses_a_database_with_tables(
    app_env, app_settings, database_url, server_url, container
):
    await shop(database_url, orders=1)
    env = app_settings | {"BACKUP_CONTAINER": container}
    created = run_cli(env, "create")
    assert created.returncode == 0, created.stderr
    backup_id = (await service.list_backups(container=container))[0].backup_id
    listed = run_cli(env, "list")
    assert listed.returncode == 0 and backup_id in listed.stdout and "INCOMPLETE" not in listed.stdout

    target = f"souq_cli_{uuid.uuid4().hex[:10]}"
    try:
        restored = run_cli(env, "restore", backup_id, "--into", target)
        assert restored.returncode == 0, restored.stderr
        assert "every count and fingerprint matches" in restored.stdout
        again = run_cli(env, "restore", backup_id, "--into", target)
        assert again.returncode == 2 and "restore_target_not_empty" in again.stderr
    finally:
        drop_database(server_url, target)
