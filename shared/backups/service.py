"""Backups: take one (daily timer, CLI), list them, restore one into an empty database, prove
the newest restores (weekly timer), and apply retention (daily timer). docs/backups.md.

Every run leaves a row in `backup_runs` of the database it concerns. The heavy modules (psycopg,
the Blob SDK, the migration tool) are imported on first use: the app's cold start stays small."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import uuid4

from shared.backups import rules
from shared.backups.errors import BackupNotFound
from shared.backups.models import (
    BackupListing,
    BackupResult,
    Manifest,
    RestoreResult,
    RetentionPolicy,
    RetentionResult,
    RunKind,
    RunStatus,
    VerifyResult,
)
from shared.platform import logs
from shared.platform.config import get_settings

log = logs.get_logger("backups")
Clock = Callable[[], datetime]
Progress = Callable[[str, int, int], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_progress(step: str, done: int, total: int) -> None:
    pass


async def nothing() -> None:
    pass


def _container(container: str | None) -> str:
    return container or get_settings().backup_container


def _database(database_url: str | None) -> str:
    return rules.direct_url(database_url or get_settings().database_url)


async def record_run(
    database_url: str,
    kind: RunKind,
    backup_id: str | None,
    status: RunStatus,
    started_at: datetime,
    clock: Clock,
    detail: dict[str, object],
) -> None:
    from shared.backups import repo
    from shared.backups.dump import APPLICATION_NAME
    from shared.data import db

    conn = await db.open_dedicated(database_url, application_name=APPLICATION_NAME)
    try:
        await repo.record_run(
            conn,
            kind=kind,
            backup_id=backup_id,
            status=status,
            started_at=started_at,
            finished_at=clock(),
            detail=detail,
        )
    finally:
        await conn.close()


async def create_backup(
    *,
    database_url: str | None = None,
    container: str | None = None,
    clock: Clock = utc_now,
    progress: Progress = no_progress,
    after_lock: Callable[[], Awaitable[None]] = nothing,
) -> BackupResult:
    """One consistent backup, or `skipped` when another run of this database holds the lock.
    `after_lock` lets a test hold a run right after it took the lock."""
    from shared.backups.dump import take_backup

    url, started_at = _database(database_url), clock()
    backup_id = rules.new_backup_id(started_at, uuid4().hex)
    try:
        result = await take_backup(
            url,
            container=_container(container),
            backup_id=backup_id,
            started_at=started_at,
            clock=clock,
            progress=progress,
            after_lock=after_lock,
        )
    except Exception as error:
        log.exception("backup %s failed", backup_id)
        with contextlib.suppress(Exception):  # the database may be what failed: the error above is the news
            await record_run(url, "backup", backup_id, "failed", started_at, clock, {"error": repr(error)[:500]})
        raise
    await record_run(url, "backup", result.backup_id, result.status, started_at, clock, result.summary())
    return result


async def list_backups(*, container: str | None = None) -> list[BackupListing]:
    """Newest first, complete or not (a run that died shows `complete: false`)."""
    from shared.backups import blobs

    return rules.listings_from_blob_names(await blobs.blob_names(_container(container)))


async def read_manifest(backup_id: str, *, container: str | None = None) -> Manifest:
    from shared.backups import blobs

    manifest = await blobs.read_manifest(_container(container), backup_id)
    if manifest is None:
        raise BackupNotFound(f"backup {backup_id} has no manifest")
    return manifest


async def restore_backup(
    backup_id: str, target_url: str, *, container: str | None = None, progress: Progress = no_progress
) -> RestoreResult:
    """Into an empty database; refuses (BackupRefused, TargetNotEmpty) with the reason."""
    from shared.backups import load

    manifest = await load.restorable_manifest(_container(container), backup_id)
    return await load.restore(manifest, target_url, container=_container(container), progress=progress)


async def create_database(target_url: str) -> bool:
    """The restore target, created on the same server when missing (False: it existed)."""
    from shared.backups.verify import create_empty_database

    return await create_empty_database(target_url)


async def newest_complete(container: str) -> str | None:
    complete = [b for b in await list_backups(container=container) if b.complete]
    return complete[0].backup_id if complete else None


async def verify_backup(
    backup_id: str | None = None,
    *,
    database_url: str | None = None,
    container: str | None = None,
    clock: Clock = utc_now,
    progress: Progress = no_progress,
) -> VerifyResult:
    """Restores a backup (the newest complete one by default) into a scratch database on the
    same server, compares every count and fingerprint, records the result and drops the
    scratch database. A failure is logged at ERROR: infra's alert rule fires on it."""
    from shared.backups.verify import verify_into_scratch

    url, name, started_at = _database(database_url), _container(container), clock()
    backup_id = backup_id or await newest_complete(name)
    if backup_id is None:
        log.error("backup verification failed: no complete backup in container %s", name)
        await record_run(url, "verify", None, "failed", started_at, clock, {"reason": "no complete backup"})
        return VerifyResult("failed", None, {"reason": "no complete backup"})
    result = await verify_into_scratch(backup_id, url, container=name, progress=progress)
    if result.status == "failed":
        log.error(
            "backup verification failed for %s: %s",
            backup_id,
            result.detail.get("reason"),
            extra={"backup_id": backup_id},
        )
    await record_run(url, "verify", backup_id, result.status, started_at, clock, result.detail)
    return result


def retention_policy() -> RetentionPolicy:
    settings = get_settings()
    return RetentionPolicy(
        daily=settings.backup_keep_daily, weekly=settings.backup_keep_weekly, monthly=settings.backup_keep_monthly
    )


async def apply_retention(
    *,
    database_url: str | None = None,
    container: str | None = None,
    policy: RetentionPolicy | None = None,
    clock: Clock = utc_now,
) -> RetentionResult:
    """Deletes the backups the policy does not keep (and dead runs' blobs). A blob still under
    the container's immutability policy refuses: it is reported and tried again next run."""
    from shared.backups import blobs

    name, started_at = _container(container), clock()
    backups = await list_backups(container=name)
    doomed = rules.backups_to_delete(backups, policy or retention_policy(), now=started_at)
    names = [blob for b in backups if b.backup_id in doomed for blob in b.blobs]
    failed_blobs = await blobs.delete_blobs(name, names)
    failed = sorted({blob.split("/", 1)[0] for blob in failed_blobs})
    if failed:
        log.warning("retention could not delete every blob of %s (immutability?)", ", ".join(failed))
    result = RetentionResult(
        kept=[b.backup_id for b in backups if b.backup_id not in doomed],
        deleted=[d for d in doomed if d not in failed],
        failed=failed,
    )
    detail: dict[str, object] = {"kept": result.kept, "deleted": result.deleted, "failed": result.failed}
    await record_run(_database(database_url), "retention", None, "succeeded", started_at, clock, detail)
    return result
