-- depends: 0008.prescriptions
-- Backups (docs/backups.md): every backup, verification and retention run leaves one row, so
-- operators (and the weekly verification's alert) can see when a restore was last proven.
-- The backups themselves live in Blob Storage; a backup is restorable only when its manifest is.

CREATE TABLE backup_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('backup', 'verify', 'retention')),
    -- The backup the run made or verified (retention runs name none).
    backup_id   text CHECK (length(backup_id) BETWEEN 1 AND 100),
    status      text NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    -- What the run measured (tables, rows, bytes, mismatches) or why it failed.
    detail      jsonb NOT NULL DEFAULT '{}',
    CHECK (finished_at >= started_at),
    -- A succeeded backup or verification names its backup (a skipped or failed one may have none).
    CHECK (kind = 'retention' OR status <> 'succeeded' OR backup_id IS NOT NULL)
);
-- "When was a restore last proven?": the newest runs of one kind first.
CREATE INDEX backup_runs_by_kind ON backup_runs (kind, started_at DESC);
