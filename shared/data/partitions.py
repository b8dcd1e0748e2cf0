"""Monthly range partitions, created ahead by a daily timer (`maintain_partitions`).

`MONTHLY_TABLES` is the registry: every table partitioned by month on a timestamptz column
names itself here (migrations create the parent and its first months). `ensure_partitions`
creates, for each, this month's partition and the next `MONTHS_AHEAD`, named
`<table>_pYYYYMM`, bounds in UTC. It is idempotent (`CREATE TABLE IF NOT EXISTS`) and safe when
two runs overlap: each partition is created in its own statement, and the errors a
concurrent creator or an existing partition of another name over the same range cause
(duplicate table, duplicate type, overlap) mean "already there".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from shared.data import db, repo_partitions
from shared.platform import logs

log = logs.get_logger("partitions")
MONTHS_AHEAD = 3
# duplicate_table, unique_violation (pg_type of a concurrent creator), invalid_object_definition (overlap)
ALREADY_THERE = frozenset({"42P07", "23505", "42P17"})
MONTHLY_TABLES: tuple[str, ...] = ("messages", "inbox_messages")


@dataclass
class PartitionRun:
    created: list[str] = field(default_factory=list)
    existing: int = 0


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
