"""Health and readiness reports."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyCheck(BaseModel):
    name: str
    ok: bool
    latency_ms: float
    detail: dict[str, Any] = {}
    error: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: list[DependencyCheck]

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]
