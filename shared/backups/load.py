"""Restoring a backup into an empty database, or refusing to.

Before anything is written: the manifest must exist, every blob it names must be there, and
every migration it lists must be known to this code. Then the schema is built by running
exactly those migrations, and one transaction loads the data as pg_restore does: foreign keys
and secondary indexes set aside, the tables' own triggers off, each blob streamed through
gunzip into COPY in dependency order, then indexes and keys rebuilt, sequences put back, and
every table's count and fingerprint compared with the manifest. A changed byte (sha256, gzip
CRC), a short blob or a differing fingerprint rolls the whole load back."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.backups import blobs, repo_restore, repo_snapshot, rules
from shared.backups.dump import APPLICATION_NAME, Progress
from shared.backups.errors import BackupError, BackupNotFound, BackupRefused, TargetNotEmpty
from shared.backups.models import ConstraintRow, ForeignKeyRow, IndexRow, Manifest, RestoreResult, TableEntry
from shared.data import db, partitions, repo_partitions

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def restorable_manifest(container: str, backup_id: str) -> Manifest:
    """The manifest, once the backup is known to be whole; refusals say what is wrong."""
    from scripts.migrate import available_migrations

    names = await blobs.blob_names(container)
    listing = next((b for b in rules.listings_from_blob_names(names) if b.backup_id == backup_id), None)
    if listing is None:
        raise BackupNotFound(f"no backup {backup_id} in container {container}")
    manifest = await blobs.read_manifest(container, backup_id) if listing.complete else None
    if manifest is None:
        raise BackupRefused(f"backup {backup_id} has no manifest: the run never finished; it cannot be restored")
    missing = rules.missing_blobs(manifest, names)
    if missing:
        raise BackupRefused(f"backup {backup_id} is incomplete: missing {', '.join(missing)}")
    unknown = rules.unknown_migrations(manifest, available_migrations())
    if unknown:
        raise BackupRefused(
            f"backup {backup_id} needs migrations this code does not have: {', '.join(unknown)}",
            code=BackupError.MIGRATION_UNKNOWN,
        )
    return manifest


class BlobCheck:
    """Gunzips one table's blob as it streams, and checks it is the blob the backup wrote."""

    def __init__(self, entry: TableEntry) -> None:
        self._entry = entry
        self._gunzip = zlib.decompressobj(rules.GZIP_WBITS)
        self._sha256 = hashlib.sha256()
        self._raw_bytes = 0

    def feed(self, chunk: bytes) -> bytes:
        self._sha256.update(chunk)
        try:
            data = self._gunzip.decompress(chunk)
        except zlib.error as error:
            raise self._corrupted(f"not valid gzip ({error})") from None
        self._raw_bytes += len(data)
        return data

    def finish(self) -> None:
        if not self._gunzip.eof or self._gunzip.unused_data:
            raise self._corrupted("the gzip stream is cut short or has trailing bytes")
        if self._sha256.hexdigest() != self._entry.sha256:
            raise self._corrupted("its sha256 differs from the manifest's")
        if self._raw_bytes != self._entry.raw_bytes:
            raise self._corrupted(f"{self._raw_bytes} bytes of rows, the manifest says {self._entry.raw_bytes}")

    def _corrupted(self, why: str) -> BackupRefused:
        return BackupRefused(f"{self._entry.blob} is corrupted: {why}", code=BackupError.BACKUP_CORRUPTED)


async def load_table(conn: AsyncConnection, container: str, entry: TableEntry, *, freeze: bool) -> None:
    import psycopg

    check = BlobCheck(entry)
    try:
        async with repo_restore.copy_in(conn, entry.name, entry.columns, freeze=freeze) as copy:
            async for chunk in blobs.chunks(container, entry.blob):
                await copy.write(check.feed(chunk))
            check.finish()
    except psycopg.DataError as error:  # rows the table refuses: the blob is not what was written
        raise BackupRefused(f"{entry.blob} does not load: {error}", code=BackupError.BACKUP_CORRUPTED) from error


async def check_schema(conn: AsyncConnection, manifest: Manifest) -> None:
    """After the migrations, the tables and columns must be the backup's."""
    found = {t.name: t.columns for t in await repo_snapshot.tables(conn) if rules.is_application_table(t.name)}
    expected = {t.name: t.columns for t in manifest.tables}
    if found != expected:
        differing = sorted(name for name in found.keys() | expected.keys() if found.get(name) != expected.get(name))
        raise BackupRefused(
            f"the migrated schema differs from backup {manifest.backup_id}'s in {', '.join(differing)}",
            code=BackupError.BACKUP_MISMATCH,
        )


@dataclass(frozen=True)
class SetAside:
    """What the load goes without and gets back at the end: keys, indexes, triggers."""

    tables: list[str]
    keys: list[ConstraintRow]
    foreign_keys: list[ForeignKeyRow]
    indexes: list[IndexRow]


async def set_aside(conn: AsyncConnection, tables: list[str]) -> SetAside:
    """Inside the load's transaction: triggers off, foreign keys, then keys and indexes dropped,
    and whatever the migrations wrote truncated."""
    aside = SetAside(tables, await repo_restore.key_constraints(conn), await repo_restore.foreign_keys(conn),
                     await repo_restore.secondary_indexes(conn))  # fmt: skip
    for table in tables:
        await repo_restore.set_user_triggers(conn, table, enabled=False)
    dropped: list[ConstraintRow | ForeignKeyRow] = [*aside.foreign_keys, *aside.keys]
    for constraint in dropped:
        await repo_restore.drop_constraint(conn, constraint)
    for index in aside.indexes:
        await repo_restore.drop_index(conn, index)
    await repo_restore.truncate(conn, tables)
    return aside


async def put_back(conn: AsyncConnection, aside: SetAside, progress: Progress) -> None:
    """Keys first (foreign keys need them), then indexes, foreign keys, triggers."""
    rebuilt: list[ConstraintRow | ForeignKeyRow | IndexRow] = [*aside.keys, *aside.indexes, *aside.foreign_keys]
    for done, item in enumerate(rebuilt, start=1):
        if isinstance(item, IndexRow):
            await repo_restore.create_index(conn, item)
        else:
            await repo_restore.add_constraint(conn, item)
        progress("index", done, len(rebuilt))
    for table in aside.tables:
        await repo_restore.set_user_triggers(conn, table, enabled=True)


async def load_all(conn: AsyncConnection, container: str, manifest: Manifest, progress: Progress) -> None:
    """Inside the caller's transaction: set aside, load in dependency order, put back, sequences."""
    names = [t.name for t in manifest.tables]
    partitioned = {t.name for t in await repo_snapshot.tables(conn) if t.partitioned}
    await create_backup_months(conn, manifest)
    aside = await set_aside(conn, names)
    await repo_restore.set_restore_memory(conn)
    entries = {t.name: t for t in manifest.tables}
    for done, table in enumerate(rules.load_order(names, aside.foreign_keys), start=1):
        await load_table(conn, container, entries[table], freeze=table not in partitioned)
        progress("load", done, len(names))
    await put_back(conn, aside, progress)
    for sequence in manifest.sequences:
        await repo_restore.set_sequence(conn, sequence)


async def create_backup_months(conn: AsyncConnection, manifest: Manifest) -> None:
    """The migrations made the months around the day they ran; the backup's rows may be of
    others. Every monthly partition the backup had is created (idempotent), before the keys
    and indexes are set aside, so it gets them with its parent's."""
    for entry in manifest.tables:
        for name in entry.partitions:
            month = partitions.month_of(entry.name, name)
            if month is not None:
                await repo_partitions.create_partition(conn, entry.name, name, *partitions.bounds(month))


async def compare(conn: AsyncConnection, manifest: Manifest, progress: Progress) -> None:
    restored = {}
    for done, table in enumerate(manifest.tables, start=1):
        restored[table.name] = await repo_snapshot.fingerprint(conn, table.name)
        progress("compare", done, len(manifest.tables))
    found = rules.mismatches(manifest.tables, restored)
    if found:
        raise BackupRefused(
            f"backup {manifest.backup_id} restored differently: {'; '.join(found)}", code=BackupError.BACKUP_MISMATCH
        )


async def restore(manifest: Manifest, target_url: str, *, container: str, progress: Progress) -> RestoreResult:
    """Into an empty database (no tables): refuses one that has any."""
    from scripts.migrate import migrate_exactly

    target = await db.open_dedicated(target_url, application_name=APPLICATION_NAME)
    try:
        if await repo_restore.table_count(target):
            raise TargetNotEmpty("the target database has tables: restore into an empty one")
        migrations_url = await asyncio.to_thread(db.url_for_migrations, target_url)
        await asyncio.to_thread(migrate_exactly, migrations_url, manifest.migrations)
        async with target.transaction():
            await repo_snapshot.set_stable_text(target)
            await check_schema(target, manifest)
            await load_all(target, container, manifest, progress)
            await compare(target, manifest, progress)
    finally:
        await target.close()
    database = rules.database_name_of(target_url)
    return RestoreResult(manifest.backup_id, database, len(manifest.tables), manifest.rows)
