"""Health and readiness reports."""

from __future__ import annotations

from typing import Any, Literal

from shared.platform.base_model import AppModel


class Liveness(AppModel):
    status: Literal["ok"] = "ok"


class DependencyCheck(AppModel):
    name: str
    ok: bool
    latency_ms: float
    detail: dict[str, Any] = {}
    error: str | None = None


class Readiness(AppModel):
    status: Literal["ready", "unavailable"]
    checks: list[DependencyCheck]

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]
