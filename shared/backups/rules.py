"""Backups without I/O: names in the container, block ids, the retention rule, the order tables
load in, and what makes a backup restorable (docs/backups.md)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from shared.backups.models import (
    BackupListing,
    CopiedTable,
    CountedTable,
    ForeignKeyRow,
    Manifest,
    RetentionPolicy,
    SequenceEntry,
    SequenceRow,
    TableEntry,
    TableRow,
)

TOOL_VERSION = "souq-backup 1.0"
# zlib level 1 compresses about twice as fast as pg_dump's default (6) for a few percent more
# bytes: the backup's time is the scarce thing (it runs inside a function timeout), Blob is cheap.
COMPRESSION_LEVEL = 1
GZIP_WBITS = 31  # a gzip member per table: `zcat` reads a blob, the CRC catches a changed byte
COPY_CHUNK_BYTES = 1 << 20  # COPY rows are gathered into chunks this big before compression
BLOCK_BYTES = 8 << 20  # staged block size: 50,000 blocks × 8 MiB = 400 GiB per table at most
DOWNLOAD_CHUNK_BYTES = 4 << 20
MANIFEST_NAME = "manifest.json"
BACKUP_ID = re.compile(r"^(\d{8}T\d{6}\.\d{3})Z-[0-9a-f]{6}$")
ID_TIME_FORMAT = "%Y%m%dT%H%M%S.%f"
# A run without a manifest older than this died (a run takes minutes): its blobs go.
ABANDONED_AFTER = timedelta(days=1)
SCRATCH_PREFIX = "souq_verify_"
# Tables of the migration tool: a restore writes its own by running the migrations.
MIGRATION_TABLE_PREFIXES = ("_yoyo", "yoyo_")
# One backup at a time per database: the key of the transaction-scoped advisory lock.
BACKUP_LOCK_KEY = 0x50_55_51_42_4B  # "SOUQBK"


def new_backup_id(now: datetime, random_hex: str) -> str:
    """Sorted by time as text, to the millisecond: `20261203T022500.123Z-3fa2c1`."""
    now = now.astimezone(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%S')}.{now.microsecond // 1000:03d}Z-{random_hex[:6]}"


def is_backup_id(text: str) -> bool:
    return BACKUP_ID.fullmatch(text) is not None


def started_at_of(backup_id: str) -> datetime:
    match = BACKUP_ID.fullmatch(backup_id)
    if match is None:
        raise ValueError(f"not a backup id: {backup_id!r}")
    return datetime.strptime(match.group(1), ID_TIME_FORMAT).replace(tzinfo=UTC)


def table_blob_name(backup_id: str, table: str) -> str:
    return f"{backup_id}/tables/{table}.copy.gz"


def manifest_blob_name(backup_id: str) -> str:
    return f"{backup_id}/{MANIFEST_NAME}"


def block_id(index: int) -> str:
    """Every block id of a blob must have the same length: base64 of a zero-padded counter."""
    return base64.b64encode(f"block-{index:08d}".encode()).decode()


def is_application_table(name: str) -> bool:
    return not name.startswith(MIGRATION_TABLE_PREFIXES)


def listings_from_blob_names(names: Iterable[str]) -> list[BackupListing]:
    """Backups in the container, newest first; complete when `<id>/manifest.json` exists.
    Names outside `<backup id>/` are not backups and are left out."""
    blobs: dict[str, list[str]] = {}
    for name in names:
        backup_id = name.split("/", 1)[0]
        if is_backup_id(backup_id):
            blobs.setdefault(backup_id, []).append(name)
    return [
        BackupListing(
            backup_id=backup_id,
            started_at=started_at_of(backup_id),
            complete=manifest_blob_name(backup_id) in names_,
            blobs=sorted(names_),
        )
        for backup_id, names_ in sorted(blobs.items(), reverse=True)
    ]


# -- retention -------------------------------------------------------------------------------


def backups_to_keep(backups: Sequence[BackupListing], policy: RetentionPolicy) -> set[str]:
    """The newest complete backup of each of the last `daily` days that have one, of the last
    `weekly` ISO weeks and of the last `monthly` months (a backup may count for all three), and
    always the newest complete backup. Incomplete ones are never kept by this rule."""
    complete = sorted((b for b in backups if b.complete), key=lambda b: b.started_at, reverse=True)
    keep: set[str] = {complete[0].backup_id} if complete else set()
    buckets = (
        (policy.daily, lambda t: t.date().isoformat()),
        (policy.weekly, lambda t: f"{t.isocalendar()[0]}-W{t.isocalendar()[1]:02d}"),
        (policy.monthly, lambda t: f"{t.year}-{t.month:02d}"),
    )
    for count, bucket_of in buckets:
        seen: set[str] = set()
        for backup in complete:  # newest first: the first one met in a bucket is its newest
            bucket = bucket_of(backup.started_at.astimezone(UTC))
            if bucket not in seen and len(seen) < count:
                seen.add(bucket)
                keep.add(backup.backup_id)
    return keep


def backups_to_delete(backups: Sequence[BackupListing], policy: RetentionPolicy, *, now: datetime) -> list[str]:
    """Complete backups the policy does not keep, and runs that died (no manifest) long enough
    ago that they cannot still be running."""
    keep = backups_to_keep(backups, policy)
    return [
        b.backup_id
        for b in backups
        if (b.complete and b.backup_id not in keep) or (not b.complete and now - b.started_at > ABANDONED_AFTER)
    ]


# -- restore -----------------------------------------------------------------------------------


def load_order(tables: Sequence[str], foreign_keys: Sequence[ForeignKeyRow]) -> list[str]:
    """Tables ordered so that every table comes after the tables it references (ties by name).
    A cycle of foreign keys cannot be ordered: the restore drops the keys while loading anyway,
    so cyclic tables are appended by name instead of refused."""
    pending = {t: {fk.referenced for fk in foreign_keys if fk.table_name == t and fk.referenced != t} for t in tables}
    pending = {t: refs & set(tables) for t, refs in pending.items()}
    ordered: list[str] = []
    while pending:
        ready = sorted(t for t, refs in pending.items() if not refs)
        if not ready:
            ready = sorted(pending)
        for table in ready:
            ordered.append(table)
            del pending[table]
        for refs in pending.values():
            refs.difference_update(ready)
    return ordered


def missing_blobs(manifest: Manifest, existing: Iterable[str]) -> list[str]:
    present = set(existing)
    return [t.blob for t in manifest.tables if t.blob not in present]


def mismatches(expected: Sequence[TableEntry], restored: dict[str, CountedTable]) -> list[str]:
    """One line per table whose restored rows or fingerprint differ from the manifest's."""
    found = []
    for table in expected:
        got = restored.get(table.name)
        if got is None:
            found.append(f"{table.name}: not restored")
        elif got.rows != table.rows:
            found.append(f"{table.name}: {got.rows} rows, the backup has {table.rows}")
        elif got.fingerprint != table.fingerprint:
            found.append(f"{table.name}: fingerprint {got.fingerprint}, the backup has {table.fingerprint}")
    return found


def unknown_migrations(manifest: Manifest, available: Iterable[str]) -> list[str]:
    known = set(available)
    return [m for m in manifest.migrations if m not in known]


def scratch_database_name(backup_id: str, random_hex: str) -> str:
    """At most 63 bytes, lower case, unique per run (two verifications never share one)."""
    plain = re.sub(r"[^a-z0-9]", "_", backup_id.lower())
    return f"{SCRATCH_PREFIX}{plain}_{random_hex[:8]}"


def _entry(backup_id: str, t: TableRow, copied: CopiedTable, counted: CountedTable, parts: list[str]) -> TableEntry:
    return TableEntry(
        name=t.name,
        blob=table_blob_name(backup_id, t.name),
        columns=list(t.columns),
        rows=counted.rows,
        fingerprint=counted.fingerprint,
        raw_bytes=copied.raw_bytes,
        stored_bytes=copied.stored_bytes,
        sha256=copied.sha256,
        partitions=parts,
    )


def manifest_of(
    backup_id: str,
    tables: Sequence[TableRow],
    copied: dict[str, CopiedTable],
    counted: dict[str, CountedTable],
    sequences: Sequence[SequenceRow],
    *,
    migrations: Sequence[str],
    started_at: datetime,
    finished_at: datetime,
    partitions: dict[str, list[str]] | None = None,
) -> Manifest:
    """The manifest of a finished backup. The rows the COPY streamed and the rows the server
    counted in the same snapshot must agree: if not, the snapshot was not one, and no manifest
    (so no backup) comes out of it."""
    disagree = [t.name for t in tables if copied[t.name].rows != counted[t.name].rows]
    if disagree:
        raise ValueError(f"COPY and count(*) disagree in one snapshot for {', '.join(disagree)}")
    entries = [
        _entry(backup_id, t, copied[t.name], counted[t.name], (partitions or {}).get(t.name, [])) for t in tables
    ]
    return Manifest(
        backup_id=backup_id,
        tool_version=TOOL_VERSION,
        migration_version=migrations[-1] if migrations else "",
        migrations=list(migrations),
        started_at=started_at,
        finished_at=finished_at,
        tables=entries,
        sequences=[SequenceEntry(name=s.name, last_value=s.last_value, is_called=s.is_called) for s in sequences],
    )


PGBOUNCER_PORT, SERVER_PORT = 6432, 5432  # Azure Flexible Server's built-in PgBouncer and the server


def direct_url(url: str) -> str:
    """Backups and restores hold one transaction for minutes and create databases: they connect
    to the server itself, never through transaction-mode PgBouncer."""
    parts = urlsplit(url)
    if parts.port != PGBOUNCER_PORT:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0] + f":{SERVER_PORT}"))


def database_url_for(url: str, database: str) -> str:
    """The same server URL with another database (URL form: the migration tool needs one)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
