"""The error codes of backups and restores. No HTTP route raises them (backups are timers and a
CLI), but each failure still has a stable code for logs, `backup_runs.detail` and the CLI."""

from __future__ import annotations

from enum import StrEnum

from shared.platform.errors import Conflict, NotFound


class BackupError(StrEnum):
    BACKUP_NOT_FOUND = "backup_not_found"
    BACKUP_INCOMPLETE = "backup_incomplete"
    BACKUP_CORRUPTED = "backup_corrupted"
    BACKUP_MISMATCH = "backup_mismatch"
    MIGRATION_UNKNOWN = "backup_migration_unknown"
    TARGET_NOT_EMPTY = "restore_target_not_empty"


class BackupNotFound(NotFound):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, code=BackupError.BACKUP_NOT_FOUND)


class BackupRefused(Conflict):
    """The backup cannot be restored as it is: missing manifest or blob, a changed byte, counts or
    fingerprints that differ after loading, or migrations this code does not have."""

    def __init__(self, detail: str, *, code: BackupError = BackupError.BACKUP_INCOMPLETE) -> None:
        super().__init__(detail, code=code)


class TargetNotEmpty(Conflict):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, code=BackupError.TARGET_NOT_EMPTY)
