"""Backups: the manifest written with every backup, what the service reports back, and the
typed rows the repo reads from the catalog of the database being backed up or restored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.platform.base_model import AppModel

RunKind = Literal["backup", "verify", "retention"]
RunStatus = Literal["succeeded", "failed", "skipped"]


class TableEntry(AppModel):
    """One table as the backup wrote it: its blob, its columns and what its rows add up to."""

    name: str
    blob: str = Field(description="the table's blob, relative to the container")
    columns: list[str] = Field(description="in COPY order; generated columns are left out (they are recomputed)")
    rows: int
    fingerprint: str = Field(description="sum of the first 64 bits of md5(row::text) over every row: order-free")
    raw_bytes: int = Field(description="COPY text before compression")
    stored_bytes: int = Field(description="the compressed blob")
    sha256: str = Field(description="of the compressed blob: a changed byte refuses the restore")
    partitions: list[str] = Field(
        default_factory=list,
        description="a partitioned table's partitions: the restore creates the monthly ones its rows need "
        "(the migrations create only the months around the day they run)",
    )


class SequenceEntry(AppModel):
    name: str
    last_value: int
    is_called: bool


class Manifest(AppModel):
    """Written last: a backup without one never finished and is never listed as restorable."""

    format: Literal["souq-backup/1"] = "souq-backup/1"
    backup_id: str
    tool_version: str
    migration_version: str = Field(description="the newest applied migration")
    migrations: list[str] = Field(description="every applied migration: a restore applies exactly these")
    compression: Literal["gzip"] = "gzip"
    copy_format: Literal["text"] = "text"
    started_at: datetime
    finished_at: datetime
    tables: list[TableEntry]
    sequences: list[SequenceEntry]

    @property
    def stored_bytes(self) -> int:
        return sum(t.stored_bytes for t in self.tables)

    @property
    def raw_bytes(self) -> int:
        return sum(t.raw_bytes for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


class BackupListing(AppModel):
    """A backup as the container shows it: complete when its manifest exists."""

    backup_id: str
    started_at: datetime
    complete: bool
    blobs: list[str] = Field(default_factory=list)


class RetentionPolicy(AppModel):
    daily: int = Field(ge=0)
    weekly: int = Field(ge=0)
    monthly: int = Field(ge=0)


# -- typed rows (repo) --------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRow:
    name: str
    partitioned: bool
    columns: list[str]


@dataclass(frozen=True)
class ForeignKeyRow:
    table_name: str
    referenced: str
    constraint_name: str
    definition: str


@dataclass(frozen=True)
class ConstraintRow:
    table_name: str
    constraint_name: str
    definition: str


@dataclass(frozen=True)
class IndexRow:
    table_name: str
    index_name: str
    definition: str


@dataclass(frozen=True)
class CountedTable:
    rows: int
    fingerprint: str


@dataclass(frozen=True)
class CopiedTable:
    """What the COPY stream of one table came to (counted by the backup, not the server)."""

    rows: int
    raw_bytes: int
    stored_bytes: int
    sha256: str


@dataclass(frozen=True)
class SequenceRow:
    name: str
    last_value: int
    is_called: bool


# -- what the service reports -------------------------------------------------------------------


@dataclass
class BackupResult:
    status: RunStatus
    backup_id: str | None = None
    manifest: Manifest | None = None
    reason: str | None = None

    def summary(self) -> dict[str, object]:
        if self.manifest is None:
            return {"status": self.status, "reason": self.reason}
        m = self.manifest
        return {
            "status": self.status,
            "backup_id": self.backup_id,
            "tables": len(m.tables),
            "rows": m.rows,
            "raw_bytes": m.raw_bytes,
            "stored_bytes": m.stored_bytes,
        }


@dataclass
class RestoreResult:
    backup_id: str
    database: str
    tables: int
    rows: int
    mismatches: list[str] = field(default_factory=list)


@dataclass
class VerifyResult:
    status: RunStatus
    backup_id: str | None
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class RetentionResult:
    kept: list[str]
    deleted: list[str]
    failed: list[str] = field(default_factory=list)
