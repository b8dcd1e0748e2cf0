"""The error codes the operations domain answers with (listed in the OpenAPI document).

Empty on purpose: readiness answers with the platform's `dependency_unavailable`, and the
consistency report is admin-only through the platform's `forbidden`. A code ops raises
later is added here, never as a string literal."""

from __future__ import annotations

from enum import StrEnum


class OpsError(StrEnum):
    pass
