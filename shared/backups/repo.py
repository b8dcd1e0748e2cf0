"""SQL of the backup runs table (migration 0011): one row per backup, verification and
retention run, so the last proven restore is one query away."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.backups.models import RunKind, RunStatus
from shared.data import db

if TYPE_CHECKING:
    from psycopg import AsyncConnection

INSERT_RUN = """
INSERT INTO backup_runs (kind, backup_id, status, started_at, finished_at, detail)
VALUES (%(kind)s, %(backup_id)s, %(status)s, %(started_at)s, %(finished_at)s, %(detail)s)
"""


async def record_run(
    conn: AsyncConnection,
    *,
    kind: RunKind,
    backup_id: str | None,
    status: RunStatus,
    started_at: datetime,
    finished_at: datetime,
    detail: dict[str, object],
) -> None:
    params = {
        "kind": kind,
        "backup_id": backup_id,
        "status": status,
        "started_at": started_at,
        "finished_at": finished_at,
        "detail": db.json_param(detail),
    }
    await db.execute(conn, INSERT_RUN, params)
