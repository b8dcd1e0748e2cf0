"""Timers: a consistent backup of the database to Blob (daily), the proof that the newest one
restores (weekly), and retention (daily). docs/backups.md."""

import azure.functions as func

from shared.backups import service as backups
from shared.platform.jobs import background_job

bp = func.Blueprint()


@bp.timer_trigger(schedule="0 30 2 * * *", arg_name="timer", run_on_startup=False)
@background_job
async def backup_database(timer: func.TimerRequest, context: func.Context) -> dict:
    return (await backups.create_backup()).summary()


@bp.timer_trigger(schedule="0 30 4 * * 0", arg_name="timer", run_on_startup=False)
@background_job
async def verify_latest_backup(timer: func.TimerRequest, context: func.Context) -> dict:
    result = await backups.verify_backup()
    return {"status": result.status, "backup_id": result.backup_id, **result.detail}


@bp.timer_trigger(schedule="0 0 5 * * *", arg_name="timer", run_on_startup=False)
@background_job
async def apply_backup_retention(timer: func.TimerRequest, context: func.Context) -> dict:
    result = await backups.apply_retention()
    return {"kept": len(result.kept), "deleted": result.deleted, "failed": result.failed}
