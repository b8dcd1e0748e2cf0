"""The daily archival: threads with no activity for THREAD_ARCHIVE_AFTER_DAYS move their
messages to the archive tables, a batch per transaction (repo_archive). Archived threads stay
readable through the same endpoints (their pages read the archive too); a new message
unarchives the thread (repo.append_message). Two runs at once take disjoint batches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from shared.data import db
from shared.platform.config import get_settings
from shared.threads import repo_archive, rules
from shared.threads.models import ArchiveRun

ARCHIVE_BATCH = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


async def archive_quiet_threads(clock: Callable[[], datetime] = utcnow, batch: int = ARCHIVE_BATCH) -> ArchiveRun:
    run = ArchiveRun()
    while True:
        now = clock()
        cutoff = rules.archive_cutoff(now, get_settings().thread_archive_after_days)
        async with db.transaction() as conn:
            done = await repo_archive.archive_batch(conn, cutoff, now, batch)
        run.threads += done.threads
        run.messages += done.messages
        if done.threads < batch:
            return run
