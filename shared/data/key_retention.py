"""Retention of dedupe keys: tables that remember what was already done, so that a repeat is
a no-op, and whose rows are useless once no repeat can come.

- `processed_events`: an event a queue consumer handled. A queue message lives at most 7
  days (Azure Storage's default time to live, which the app keeps), so a key older than that
  can meet no redelivery; `PROCESSED_EVENT_RETENTION_DAYS` (30, at least 8) keeps a margin.
- `message_client_ids`: a thread post's client id, which makes a retried post one message.
  `MESSAGE_CLIENT_ID_RETENTION_DAYS` (30): an app retries within minutes, an offline queue
  within days.

The daily `prune_dedupe_keys` timer (functions/ops.py) deletes expired keys oldest first in
batches of `BATCH`, each its own short transaction, at most `MAX_BATCHES` a table a run (what
is left goes the next day). Keys are not partitioned like the append-only tables: a partition
key must be part of the primary key, and a dated key would no longer dedupe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shared.data import db, repo_key_retention
from shared.platform import logs

if TYPE_CHECKING:
    from shared.platform.settings_model import Settings

log = logs.get_logger("key_retention")
BATCH = 5000
MAX_BATCHES = 200  # a million keys a table a run


@dataclass(frozen=True)
class KeyTable:
    table: str
    key: tuple[str, ...]  # the primary key
    stamp: str  # when the key was written
    retention_days: Callable[[Settings], int]


KEY_TABLES: tuple[KeyTable, ...] = (
    KeyTable("processed_events", ("event_id", "consumer"), "processed_at", lambda s: s.processed_event_retention_days),
    KeyTable(
        "message_client_ids", ("thread_id", "sender_id", "client_id"), "created_at",
        lambda s: s.message_client_id_retention_days,
    ),
)  # fmt: skip


@dataclass
class KeyPrune:
    deleted: dict[str, int] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)  # hit MAX_BATCHES: more expired keys left


async def prune(
    now: datetime | None = None,
    tables: tuple[KeyTable, ...] = KEY_TABLES,
    batch: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> KeyPrune:
    """Each table's keys written more than its retention before `now`, deleted."""
    from shared.platform.config import get_settings

    settings, run = get_settings(), KeyPrune()
    for key_table in tables:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=key_table.retention_days(settings))
        deleted, finished = await _prune_table(key_table, cutoff, batch, max_batches)
        run.deleted[key_table.table] = deleted
        if not finished:
            run.unfinished.append(key_table.table)
        log.info("pruned %d %s keys from before %s%s", deleted, key_table.table, cutoff.isoformat(),
                 "" if finished else "; more left for the next run")  # fmt: skip
    return run


async def _prune_table(key_table: KeyTable, cutoff: datetime, batch: int, max_batches: int) -> tuple[int, bool]:
    """(keys deleted, whether none expired is left)."""
    total = 0
    for _ in range(max_batches):
        async with db.transaction() as conn:
            count = await repo_key_retention.delete_expired_batch(
                conn, key_table.table, key_table.key, key_table.stamp, cutoff, batch
            )
        total += count
        if count < batch:
            return total, True
    return total, False
