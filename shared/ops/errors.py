"""The error codes the operations domain answers with (listed in the OpenAPI document).

Readiness answers with the platform's `dependency_unavailable`, and the reports are admin-only
through the platform's `forbidden`. A code ops raises is added here, never as a string literal."""

from __future__ import annotations

from enum import StrEnum


class OpsError(StrEnum):
    # GET /api/ops/reports/slow-queries on a server or database without pg_stat_statements
    PG_STAT_STATEMENTS_NOT_ENABLED = "pg_stat_statements_not_enabled"
