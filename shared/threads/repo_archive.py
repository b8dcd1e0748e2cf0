"""SQL of the daily archival: one statement per batch claims quiet threads (`FOR NO KEY UPDATE
SKIP LOCKED`, so overlapping runs take disjoint batches and a thread being posted to is skipped),
moves their messages to archived_messages and marks the threads archived, all in one
transaction. The claim rechecks the condition on the locked row: a post that committed first
made the thread active again, and it is left alone."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.threads.models import ArchiveRun
from shared.threads.repo import MESSAGE_COLUMNS

if TYPE_CHECKING:
    from psycopg import AsyncConnection

ARCHIVE_BATCH = f"""
WITH batch AS (
    SELECT id FROM threads
    WHERE archived_at IS NULL AND last_activity_at < %(cutoff)s
    ORDER BY last_activity_at, id
    LIMIT %(limit)s
    FOR NO KEY UPDATE SKIP LOCKED
), moved AS (
    DELETE FROM messages m USING batch WHERE m.thread_id = batch.id
    RETURNING m.id, m.thread_id, m.seq, m.sender_id, m.sender_side, m.kind, m.body, m.reply_to, m.metadata,
              m.created_at, m.edited_at, m.deleted_at
), kept AS (
    INSERT INTO archived_messages ({MESSAGE_COLUMNS}, archived_at)
    SELECT {MESSAGE_COLUMNS}, %(now)s FROM moved
), marked AS (
    UPDATE threads t SET archived_at = %(now)s, has_archived = true, version = t.version + 1, updated_at = %(now)s
    FROM batch WHERE t.id = batch.id
    RETURNING t.id
), logged AS (
    INSERT INTO archived_threads (thread_id, messages_moved, archived_at)
    SELECT b.id, (SELECT count(*) FROM moved WHERE moved.thread_id = b.id), %(now)s FROM batch b
)
SELECT (SELECT count(*) FROM marked) AS threads, (SELECT count(*) FROM moved) AS messages
"""


async def archive_batch(conn: AsyncConnection, cutoff: datetime, now: datetime, limit: int) -> ArchiveRun:
    """Threads and messages archived by this batch (0 threads: nothing left to claim)."""
    params = {"cutoff": cutoff, "now": now, "limit": limit}
    async with conn.cursor() as cur:
        await cur.execute(ARCHIVE_BATCH, params)
        row = await cur.fetchone()
    assert row is not None
    return ArchiveRun(threads=row[0], messages=row[1])
