"""Proving a backup restores: into a scratch database of its own on the same server (created,
restored, compared, dropped), never into anything that exists. Needs CREATEDB for the role."""

from __future__ import annotations

import time
from uuid import uuid4

from shared.backups import load, repo_restore, rules
from shared.backups.dump import APPLICATION_NAME, Progress
from shared.backups.models import VerifyResult
from shared.data import db
from shared.platform.errors import DomainError

MAINTENANCE_DATABASE = "postgres"


async def verify_into_scratch(backup_id: str, database_url: str, *, container: str, progress: Progress) -> VerifyResult:
    scratch = rules.scratch_database_name(backup_id, uuid4().hex)
    admin_url = rules.database_url_for(database_url, MAINTENANCE_DATABASE)
    admin = await db.open_dedicated(admin_url, application_name=APPLICATION_NAME)
    started = time.perf_counter()
    try:
        await repo_restore.create_database(admin, scratch)
        try:
            manifest = await load.restorable_manifest(container, backup_id)
            restored = await load.restore(
                manifest, rules.database_url_for(database_url, scratch), container=container, progress=progress
            )
        finally:
            await repo_restore.drop_database(admin, scratch)
    except DomainError as refused:  # the backup's fault: recorded as a failed verification
        return VerifyResult("failed", backup_id, {"reason": refused.detail, "code": str(refused.code)})
    except Exception as error:  # noqa: BLE001 - anything else fails the verification too, and says why
        return VerifyResult("failed", backup_id, {"reason": f"{type(error).__name__}: {error}"[:500]})
    finally:
        await admin.close()
    seconds = round(time.perf_counter() - started, 1)
    return VerifyResult("succeeded", backup_id, {"tables": restored.tables, "rows": restored.rows, "seconds": seconds})


async def create_empty_database(target_url: str) -> bool:
    """Creates the target database if it does not exist yet; False when it already did."""
    from psycopg import errors

    database = rules.database_name_of(target_url)
    admin = await db.open_dedicated(
        rules.database_url_for(target_url, MAINTENANCE_DATABASE), application_name=APPLICATION_NAME
    )
    try:
        await repo_restore.create_database(admin, database)
    except errors.DuplicateDatabase:
        return False
    finally:
        await admin.close()
    return True
