"""Monthly range partitions: created ahead, and the expired ones dropped, by one daily timer
(`maintain_partitions`, functions/ops.py).

`MONTHLY_TABLES` is the registry: every table partitioned by month on a timestamptz column
names itself here (migrations create the parent and its first months). `ensure_partitions`
creates, for each, this month's partition and the next `MONTHS_AHEAD`, named
`<table>_pYYYYMM`, bounds in UTC. It is idempotent (`CREATE TABLE IF NOT EXISTS`) and safe when
two runs overlap: each partition is created in its own statement, and the errors a
concurrent creator or an existing partition of another name over the same range cause
(duplicate table, duplicate type, overlap) mean "already there".

`RETAINED` names the tables whose old months go: a partition whose whole month ended more than
the table's retention ago is detached and dropped (`drop_expired`), never DELETEd from (no
dead rows, no vacuum, no long transaction). The outbox keeps a month that still holds an
unpublished event: detach, check and drop run in one transaction, so no event can be written
to or left in the partition between the check and the drop. Order status history is an audit
trail: registered for creation, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from shared.data import db, repo_partitions
from shared.platform import logs

if TYPE_CHECKING:
    from shared.platform.settings_model import Settings

log = logs.get_logger("partitions")
MONTHS_AHEAD = 3
# duplicate_table, unique_violation (pg_type of a concurrent creator), invalid_object_definition (overlap)
ALREADY_THERE = frozenset({"42P07", "23505", "42P17"})
MONTHLY_TABLES: tuple[str, ...] = (
    "messages", "inbox_messages", "outbox_events", "order_status_history", "notifications",
)  # fmt: skip


@dataclass(frozen=True)
class Retention:
    """How long a table's months are kept (read from the settings), and the SQL that refuses a
    drop (a partition for which it returns true is kept), or None."""

    days: Callable[[Settings], int]
    refuse_if: str | None = None


RETAINED: dict[str, Retention] = {
    "outbox_events": Retention(lambda s: s.outbox_retention_days, repo_partitions.HOLDS_UNPUBLISHED_EVENTS),
    "notifications": Retention(lambda s: s.notification_retention_days),
}


@dataclass
class PartitionRun:
    created: list[str] = field(default_factory=list)
    existing: int = 0
    dropped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # expired, but refused (or locked): next run


def month_starts(today: date, months_ahead: int = MONTHS_AHEAD) -> list[date]:
    """The first day of this month and of the `months_ahead` after it."""
    first = today.replace(day=1)
    return [_add_months(first, n) for n in range(months_ahead + 1)]


def _add_months(first: date, months: int) -> date:
    year, month = divmod(first.month - 1 + months, 12)
    return date(first.year + year, month + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant of the month, first instant of the next), UTC."""
    end = _add_months(month, 1)
    return datetime(month.year, month.month, 1, tzinfo=UTC), datetime(end.year, end.month, 1, tzinfo=UTC)


async def ensure_partitions(
    today: date | None = None, tables: tuple[str, ...] = MONTHLY_TABLES, months_ahead: int = MONTHS_AHEAD
) -> PartitionRun:
    run = PartitionRun()
    for table in tables:
        for month in month_starts(today or datetime.now(UTC).date(), months_ahead):
            name = partition_name(table, month)
            if await _create(table, name, *bounds(month)):
                run.created.append(name)
            else:
                run.existing += 1
    return run


async def _create(table: str, name: str, start: datetime, end: datetime) -> bool:
    """True when this call made the partition."""
    import psycopg

    async with db.connection() as conn:
        if name in await repo_partitions.partitions_of(conn, table):
            return False
        try:
            return await repo_partitions.create_partition(conn, table, name, start, end)
        except psycopg.Error as error:
            if error.sqlstate not in ALREADY_THERE:
                raise
            log.info("partition %s already there (%s)", name, error.sqlstate)
            return False


def expired(table: str, partitions: list[str], today: date, retention_days: int) -> list[str]:
    """The partitions of `table` (named `<table>_pYYYYMM`) whose whole month ended at least
    `retention_days` before `today`, oldest first; other names are left alone."""
    cutoff = today - timedelta(days=retention_days)
    months = {name: month_of(table, name) for name in partitions}
    return sorted(name for name, month in months.items() if month and _add_months(month, 1) <= cutoff)


def month_of(table: str, name: str) -> date | None:
    """The month of a partition named `<table>_pYYYYMM`, else None."""
    match = re.fullmatch(re.escape(table) + r"_p(\d{4})(\d{2})", name)
    if not match or not 1 <= int(match[2]) <= 12:
        return None
    return date(int(match[1]), int(match[2]), 1)


async def drop_expired(
    today: date | None = None, retained: dict[str, Retention] | None = None, run: PartitionRun | None = None
) -> PartitionRun:
    """Each retained table's expired partitions, each in its own transaction; recorded in `run`."""
    from shared.platform.config import get_settings

    settings = get_settings()
    run = run or PartitionRun()
    for table, retention in (RETAINED if retained is None else retained).items():
        days = retention.days(settings)
        async with db.connection() as conn:
            names = await repo_partitions.partitions_of(conn, table)
        for name in expired(table, names, today or datetime.now(UTC).date(), days):
            outcome = await _drop(table, name, retention)
            if outcome is not None:
                (run.dropped if outcome else run.kept).append(name)
    return run


async def _drop(table: str, name: str, retention: Retention) -> bool | None:
    """Detach, check, drop in one transaction: True when dropped, False when kept (rolled
    back), None when a concurrent run dropped it first."""
    import psycopg

    try:
        async with db.transaction() as conn:
            if await repo_partitions.detach_and_drop(conn, table, name, retention.refuse_if):
                raise _Refused
    except _Refused:
        log.warning("partition %s expired but kept: it holds rows its table must keep (unpublished events)", name)
        return False
    except psycopg.errors.LockNotAvailable:
        log.warning("partition %s expired but kept: %s was busy; the next run retries", name, table)
        return False
    except psycopg.errors.UndefinedTable:  # the other run detached and dropped it while this one waited
        log.info("partition %s already dropped", name)
        return None
    log.info("dropped partition %s of %s (past its retention)", name, table)
    return True


class _Refused(Exception):
    """Rolls the detach back."""


async def maintain(today: date | None = None) -> PartitionRun:
    """The timer's run: months ahead for every registered table, expired months dropped."""
    return await drop_expired(today, run=await ensure_partitions(today))
