"""Taking a backup: one snapshot, two connections sharing it.

The snapshot holder (async) takes the one-run-at-a-time lock, exports its snapshot, reads the
catalog and computes every table's count and fingerprint. Meanwhile a worker thread, on a
blocking connection that imported the same snapshot, streams each table's COPY text through
gzip into the table's block blob: rows are gathered into 1 MiB chunks, a second thread
compresses them (zlib releases the GIL), and each full 8 MiB block is staged by the event loop.
Three stages overlap; memory stays a few blocks; nothing touches local disk."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from shared.backups import blobs, repo_snapshot, rules
from shared.backups.blobs import BlockBlobWriter
from shared.backups.models import BackupResult, CopiedTable, CountedTable, TableRow
from shared.data import db

if TYPE_CHECKING:
    from psycopg import AsyncConnection, Connection

Clock = Callable[[], datetime]
Progress = Callable[[str, int, int], None]  # (step, done, total): the CLI's progress bars
APPLICATION_NAME = "souq-backup"
CHUNKS_IN_FLIGHT = 4  # chunks waiting for the compressor: bounds memory when Blob is slow


class TableSink:
    """One table's blob: compresses chunks in order, hashes what it stores, stages full blocks."""

    def __init__(self, writer: BlockBlobWriter, loop: asyncio.AbstractEventLoop) -> None:
        self._writer, self._loop = writer, loop
        self._compressor = zlib.compressobj(rules.COMPRESSION_LEVEL, zlib.DEFLATED, rules.GZIP_WBITS)
        self._sha256 = hashlib.sha256()
        self._pending = bytearray()
        self.raw_bytes = self.stored_bytes = 0

    def feed(self, chunk: bytes) -> None:
        self.raw_bytes += len(chunk)
        self._store(self._compressor.compress(chunk))

    def finish(self) -> None:
        self._store(self._compressor.flush())
        self._stage()

    def _store(self, data: bytes) -> None:
        self._sha256.update(data)
        self.stored_bytes += len(data)
        self._pending += data
        if len(self._pending) >= rules.BLOCK_BYTES:
            self._stage()

    def _stage(self) -> None:
        if self._pending:
            block, self._pending = bytes(self._pending), bytearray()
            asyncio.run_coroutine_threadsafe(self._writer.stage(block), self._loop).result()

    def copied(self, rows: int) -> CopiedTable:
        return CopiedTable(rows, self.raw_bytes, self.stored_bytes, self._sha256.hexdigest())


def copy_table(conn: Connection, table: TableRow, sink: TableSink, compressor: ThreadPoolExecutor) -> CopiedTable:
    """Runs in the worker thread: the COPY's rows into chunks, the chunks to the compressor."""
    waiting: deque[Future[None]] = deque()
    chunk, rows = bytearray(), 0
    for row in repo_snapshot.copy_out(conn, table):
        chunk += row
        rows += 1
        if len(chunk) >= rules.COPY_CHUNK_BYTES:
            waiting.append(compressor.submit(sink.feed, bytes(chunk)))
            chunk.clear()
            if len(waiting) > CHUNKS_IN_FLIGHT:
                waiting.popleft().result()
    waiting.append(compressor.submit(sink.feed, bytes(chunk)))
    waiting.append(compressor.submit(sink.finish))
    for future in waiting:
        future.result()
    return sink.copied(rows)


def copy_tables_in_thread(
    database_url: str, snapshot: str, tables: list[TableRow], sinks: dict[str, TableSink], progress: Progress
) -> dict[str, CopiedTable]:
    conn = db.open_dedicated_sync(database_url, application_name=APPLICATION_NAME)
    try:
        with (
            repo_snapshot.snapshot_transaction_sync(conn, snapshot),
            ThreadPoolExecutor(1, thread_name_prefix="backup-gzip") as compressor,
        ):
            copied = {}
            for done, table in enumerate(tables, start=1):
                copied[table.name] = copy_table(conn, table, sinks[table.name], compressor)
                progress("copy", done, len(tables))
            return copied
    finally:
        conn.close()


async def copy_tables(
    database_url: str, snapshot: str, tables: list[TableRow], *, container: str, backup_id: str, progress: Progress
) -> dict[str, CopiedTable]:
    """Every table's blob, committed once its last block is staged."""
    loop = asyncio.get_running_loop()
    writers = {t.name: await blobs.writer(container, rules.table_blob_name(backup_id, t.name)) for t in tables}
    sinks = {name: TableSink(writer, loop) for name, writer in writers.items()}
    copied = await asyncio.to_thread(copy_tables_in_thread, database_url, snapshot, tables, sinks, progress)
    for writer in writers.values():
        await writer.commit()
    return copied


async def count_tables(holder: AsyncConnection, tables: list[TableRow], progress: Progress) -> dict[str, CountedTable]:
    """On the snapshot holder, while the worker copies: the server computes, the loop waits."""
    counted = {}
    for done, table in enumerate(tables, start=1):
        counted[table.name] = await repo_snapshot.fingerprint(holder, table.name)
        progress("fingerprint", done, len(tables))
    return counted


async def copy_and_count(
    holder: AsyncConnection, database_url: str, snapshot: str, tables: list[TableRow], *, container: str,
    backup_id: str, progress: Progress,
) -> tuple[dict[str, CopiedTable], dict[str, CountedTable]]:  # fmt: skip
    """Both at once, in the same snapshot; either failing cancels the other."""
    async with asyncio.TaskGroup() as group:
        copying = group.create_task(
            copy_tables(database_url, snapshot, tables, container=container, backup_id=backup_id, progress=progress)
        )
        counting = group.create_task(count_tables(holder, tables, progress))
    return copying.result(), counting.result()


async def take_backup(
    database_url: str,
    *,
    container: str,
    backup_id: str,
    started_at: datetime,
    clock: Clock,
    progress: Progress,
    after_lock: Callable[[], Awaitable[None]],
) -> BackupResult:
    """The whole backup inside the holder's snapshot transaction; its manifest is the last write."""
    holder = await db.open_dedicated(database_url, application_name=APPLICATION_NAME)
    try:
        async with repo_snapshot.snapshot_transaction(holder):
            if not await repo_snapshot.try_backup_lock(holder, rules.BACKUP_LOCK_KEY):
                return BackupResult("skipped", reason="another backup of this database is running")
            await after_lock()
            snapshot = await repo_snapshot.export_snapshot(holder)
            tables = [t for t in await repo_snapshot.tables(holder) if rules.is_application_table(t.name)]
            migrations = await repo_snapshot.applied_migrations(holder)
            sequences = await repo_snapshot.sequences(holder)
            copied, counted = await copy_and_count(
                holder, database_url, snapshot, tables, container=container, backup_id=backup_id, progress=progress
            )
            parts = await repo_snapshot.partitions(holder)
            manifest = rules.manifest_of(backup_id, tables, copied, counted, sequences, migrations=migrations,
                                         started_at=started_at, finished_at=clock(), partitions=parts)  # fmt: skip
            await blobs.write_manifest(container, manifest)
            return BackupResult("succeeded", backup_id, manifest)
    finally:
        await holder.close()
