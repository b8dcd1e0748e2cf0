"""The database reports (GET /api/ops/reports/…): their query parameters, the rows the
statistics views give, and the report bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from shared.platform.base_model import WHOLE, AppModel

ReportLimit = Annotated[int, Field(ge=1, le=200), WHOLE]
RowThreshold = Annotated[int, Field(ge=0, le=2_000_000_000), WHOLE]
SlowQueryOrder = Literal["mean", "total"]


class SlowQueriesQuery(AppModel):
    order: SlowQueryOrder = Field(default="total", description="mean: the slowest statements; total: the most time")
    limit: ReportLimit = 20


class IndexUsageQuery(AppModel):
    min_rows: RowThreshold = Field(
        default=10_000, description="tables with at least this many live rows that were read by sequential scans"
    )
    limit: ReportLimit = 50


class TablesQuery(AppModel):
    limit: ReportLimit = 50


# -- rows (also the report items)


class StatementsExtension(AppModel):
    """Row: whether pg_stat_statements can answer in this database."""

    installed: bool = Field(description="CREATE EXTENSION pg_stat_statements was run in this database")
    preloaded: bool = Field(description="the server loads it (shared_preload_libraries)")


class SlowQuery(AppModel):
    query: str = Field(description="the normalized statement: constants are $n placeholders, never values")
    calls: int
    mean_ms: float
    max_ms: float
    total_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int


class UnusedIndex(AppModel):
    schema_name: str
    table_name: str
    index_name: str
    size_bytes: int
    definition: str


class SeqScannedTable(AppModel):
    schema_name: str
    table_name: str
    live_rows: int
    seq_scans: int
    seq_rows_read: int
    index_scans: int


class TableHealth(AppModel):
    schema_name: str
    table_name: str
    total_bytes: int = Field(description="table, indexes and TOAST")
    table_bytes: int
    live_rows: int
    dead_rows: int
    dead_ratio: float = Field(description="dead / (live + dead), 0 for an empty table")
    last_autovacuum: datetime | None
    last_autoanalyze: datetime | None
    last_vacuum: datetime | None
    last_analyze: datetime | None


class ConnectionGroup(AppModel):
    state: str = Field(description="pg_stat_activity.state (active, idle, idle in transaction, …)")
    application_name: str
    connections: int


class ConnectionLimits(AppModel):
    """Row: the server's limits."""

    max_connections: int
    reserved_connections: int = Field(description="superuser_reserved_connections (+ reserved_connections)")


# -- report bodies


class SlowQueriesReport(AppModel):
    generated_at: datetime
    order: SlowQueryOrder
    statements: list[SlowQuery]


class IndexUsageReport(AppModel):
    generated_at: datetime
    stats_reset: datetime | None = Field(description="since when the counters count (null: since the server's start)")
    min_rows: int
    unused_indexes: list[UnusedIndex] = Field(
        description="never scanned, and not backing a primary key, unique or exclusion constraint; largest first"
    )
    unused_index_bytes: int
    seq_scanned_tables: list[SeqScannedTable] = Field(description="most rows read by sequential scans first")


class TablesReport(AppModel):
    generated_at: datetime
    tables: list[TableHealth] = Field(description="largest first")


class ConnectionsReport(AppModel):
    generated_at: datetime
    max_connections: int
    reserved_connections: int
    in_use: int = Field(description="client connections to the whole server")
    usage_ratio: float = Field(description="in_use / (max_connections - reserved_connections)")
    pool_max_per_instance: int = Field(description="DATABASE_POOL_MAX: one instance's pool ceiling on the primary")
    instances_that_fit: int = Field(
        description="how many instances at their pool ceiling the server's connections hold (the scale-out budget)"
    )
    groups: list[ConnectionGroup]
