"""Monthly partitions of the outbox, order status history and notifications (migration 0016)
against the real PostgreSQL: the migration keeps every row and id (and its rollback too),
expired months are detached and dropped, never one holding an unpublished event, two
maintenance runs at once drop each month once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, date, datetime

import psycopg

from scripts.migrate import available_migrations, migrate_down, migrate_exactly, migrate_up
from shared.data import partitions
from tests.catalog_support import sql

TODAY = datetime.now(UTC).date().replace(day=15)  # the injected clock: mid this month


def months_back(n: int) -> date:
    first = TODAY.replace(day=1)
    year, month = divmod(first.month - 1 - n, 12)
    return date(first.year + year, month + 1, 1)


def at(month: date, day: int = 10) -> datetime:
    return datetime(month.year, month.month, day, 12, tzinfo=UTC)


def name(table: str, back: int) -> str:
    return partitions.partition_name(table, months_back(back))


def partitions_of(database_url: str, table: str) -> set[str]:
    rows = sql(database_url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                             "WHERE i.inhparent = %s::regclass", table)  # fmt: skip
    return {row[0] for row in rows}


# -- the migration


BEFORE_0016 = """
INSERT INTO users (id) VALUES ('u-1');
INSERT INTO orders (id, number, user_id, delivery_method, subtotal, tax, delivery_fee, total)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'SQ-1', 'u-1', 'pickup', 10, 0, 0, 10);
INSERT INTO order_status_history (order_id, field, from_status, to_status, actor_id, actor_role, created_at)
SELECT '00000000-0000-0000-0000-0000000000a1', 'status', 'PENDING', 'CONFIRMED', 'u-1', 'customer',
       timestamptz '2025-03-10T10:00Z' + g * interval '40 days'
FROM generate_series(0, 4) g;
INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, occurred_at, published_at)
SELECT 'order.placed', 'order', 'o-' || g, timestamptz '2025-03-10T10:00Z' + g * interval '40 days',
       CASE WHEN g < 4 THEN now() END
FROM generate_series(0, 4) g;
INSERT INTO notifications (recipient_type, recipient_id, event_id, kind, title_en, title_ar, data, created_at)
VALUES ('user', 'u-1', gen_random_uuid(), 'order.placed', 'Order', 'الطلب', '{}', '2025-04-02T10:00Z'),
       ('seller', 's-1', gen_random_uuid(), 'thread.message_posted', '2 new', 'رسالتان',
        '{"thread_id": "t-1", "count": 2}', '2025-06-02T10:00Z');
"""
EVERYTHING = """
SELECT (SELECT array_agg((id, occurred_at, published_at IS NULL) ORDER BY id) FROM outbox_events)::text,
       (SELECT array_agg((id, created_at, to_status) ORDER BY id) FROM order_status_history)::text,
       (SELECT array_agg((id, created_at, kind, read_at) ORDER BY id) FROM notifications)::text
"""


def test_the_migration_keeps_rows_and_ids_and_its_rollback_too(fresh_database):
    migrate_exactly(fresh_database, [m for m in available_migrations() if m < "0016"])
    sql(fresh_database, BEFORE_0016)
    before = sql(fresh_database, EVERYTHING)
    assert migrate_up(fresh_database) >= 1
    assert sql(fresh_database, EVERYTHING) == before
    assert "outbox_events_p202503" in partitions_of(fresh_database, "outbox_events")
    assert "order_status_history_p202507" in partitions_of(fresh_database, "order_status_history")
    # the unread thread notice is claimed; new ids continue past the copied ones
    assert sql(fresh_database, "SELECT recipient_id, thread_id FROM thread_unread_notices") == [("s-1", "t-1")]
    [(new_id,)] = sql(fresh_database, "INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id) "
                                      "VALUES ('order.placed', 'order', 'o-9') RETURNING id")  # fmt: skip
    assert new_id == 6
    sql(fresh_database, "DELETE FROM outbox_events WHERE id = 6")
    migrate_down(
        fresh_database, count=len(available_migrations()) - available_migrations().index("0016.monthly-partitions")
    )
    assert sql(fresh_database, EVERYTHING) == before
    assert sql(fresh_database, "SELECT relkind::text FROM pg_class WHERE relname = 'notifications'") == [("r",)]


# -- retention


PUBLISHED_EVENT = """
INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, occurred_at, published_at)
VALUES ('order.placed', 'order', %s, %s, %s)"""


def publish(database_url: str, month: date, *, unpublished: bool = False) -> None:
    published_at = None if unpublished else at(month, 11)
    sql(database_url, PUBLISHED_EVENT, str(uuid.uuid4()), at(month), published_at)


async def test_expired_outbox_months_are_dropped_unless_they_hold_an_unpublished_event(app_env, database_url, caplog):
    caplog.set_level(logging.INFO, "souq.partitions")
    await partitions.ensure_partitions(today=months_back(4), tables=("outbox_events",), months_ahead=3)
    for back in (4, 3, 2, 1):
        publish(database_url, months_back(back))
    publish(database_url, months_back(3), unpublished=True)
    run = await partitions.drop_expired(today=TODAY, retained={"outbox_events": partitions.RETAINED["outbox_events"]})
    # 30 days before the 15th: months 4, 3 and 2 back ended; month 3 holds an unpublished event
    assert run.dropped == [name("outbox_events", 4), name("outbox_events", 2)]
    assert run.kept == [name("outbox_events", 3)]
    left = partitions_of(database_url, "outbox_events")
    assert {name("outbox_events", 3), name("outbox_events", 1), name("outbox_events", 0)} <= left
    assert not {name("outbox_events", 4), name("outbox_events", 2)} & left
    assert sql(database_url, "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox_events") == [
        (3, 1)
    ]
    assert f"dropped partition {name('outbox_events', 4)}" in caplog.text


async def test_notifications_go_after_their_retention_and_order_history_never(app_env, database_url):
    await partitions.ensure_partitions(today=months_back(8), tables=("notifications",), months_ahead=3)
    for back in (8, 7, 6, 5):
        sql(database_url, "INSERT INTO notifications (recipient_type, recipient_id, event_id, kind, title_en, title_ar,"
                          " created_at) VALUES ('user', 'u-1', gen_random_uuid(), 'order.placed', 'o', 'o', %s)",
            at(months_back(back)))  # fmt: skip
    await partitions.ensure_partitions(today=months_back(8), tables=("order_status_history",), months_ahead=3)
    run = await partitions.drop_expired(today=TODAY)  # every retained table, settings' retention
    assert name("notifications", 8) in run.dropped and name("notifications", 7) in run.dropped
    assert not [n for n in run.dropped if n.startswith("notifications_") and n >= name("notifications", 6)]
    assert sql(database_url, "SELECT count(*) FROM notifications") == [(2,)]
    assert name("order_status_history", 8) in partitions_of(database_url, "order_status_history")


async def test_two_maintenance_runs_at_once_drop_each_expired_month_once(app_env, database_url):
    await partitions.ensure_partitions(today=months_back(5), tables=("outbox_events",), months_ahead=2)
    for back in (5, 4, 3):
        publish(database_url, months_back(back))
    runs = await asyncio.gather(*(partitions.maintain(today=TODAY) for _ in range(2)))
    dropped = sorted(n for run in runs for n in run.dropped)
    assert dropped == sorted(name("outbox_events", back) for back in (5, 4, 3))  # each by one run
    assert all(run.kept == [] and run.created == [] for run in runs)
    assert sql(database_url, "SELECT count(*) FROM outbox_events") == [(0,)]


def scans(plan: dict) -> dict[str, str]:
    """Relation -> how the plan reads it."""
    found = {plan["Relation Name"]: plan["Node Type"]} if "Scan" in plan["Node Type"] else {}
    for child in plan.get("Plans", []):
        found |= scans(child)
    return found


MANY_PUBLISHED_EVENTS = """
INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, occurred_at, published_at)
SELECT 'order.placed', 'order', 'o-' || g, %s, %s FROM generate_series(1, 20000) g
"""


async def test_the_relays_updates_by_id_stay_index_probes_of_every_month(app_env, database_url):
    from shared.events import repo

    full = [months_back(0), months_back(-1)]
    for month in full:
        sql(database_url, MANY_PUBLISHED_EVENTS, at(month), at(month, 11))
    sql(database_url, "ANALYZE outbox_events")
    for statement in (repo.MARK_EVENTS_PUBLISHED, repo.RELEASE_EVENT_CLAIMS):
        with psycopg.connect(database_url) as conn:
            params = {"ids": [3, 25000], "lease": datetime.now(UTC)}
            [plan] = conn.execute(f"EXPLAIN (FORMAT JSON) {statement}", params).fetchone()
        found = scans(plan[0]["Plan"])
        print(f"{statement.split()[0]} … id = ANY: {found}")
        # the months with rows are probed through their key (empty ones cost nothing either way)
        for month in full:
            assert "Index" in found[partitions.partition_name("outbox_events", month)], found
