"""Health, readiness and the consistency report: the API bodies and the rows behind them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from shared.platform.base_model import AppModel


class Liveness(AppModel):
    status: Literal["ok"] = "ok"


DependencyName = Literal["postgresql", "redis", "storage"]
CheckWord = Literal["ok", "down"]
HealthStatus = Literal["ok", "degraded", "unavailable"]
BreakerState = Literal["closed", "open", "half_open"]


class Readiness(AppModel):
    """What an anonymous probe gets: the status and one word per dependency, nothing else."""

    status: Literal["ok", "degraded"] = Field(
        description="ok: every dependency answered; degraded: one the app serves without (Redis, Storage) "
        "did not. A required one (PostgreSQL) down is the 503 problem instead"
    )
    checks: dict[DependencyName, CheckWord]


class DependencyCheck(AppModel):
    """One dependency's check as operators see it (GET /api/ops/health)."""

    name: DependencyName
    ok: bool
    required: bool = Field(description="readiness answers 503 when a required dependency is down")
    latency_ms: float
    detail: dict[str, Any] = Field(default_factory=dict)
    error: str | None = Field(default=None, description="the failure's exception type; its message is logged")


class HealthReport(AppModel):
    """The details behind readiness, for operators (function key and an admin role)."""

    status: HealthStatus
    cache_breaker: BreakerState = Field(
        description="this instance's Redis circuit breaker: open means the catalog is reading PostgreSQL"
    )
    checks: list[DependencyCheck]

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]


class ServerFacts(AppModel):
    """Row: what readiness reports about the PostgreSQL server."""

    alive: int
    server_connections: int
    max_connections: int
    uptime_seconds: float
    server_version: str


ViolationKind = Literal[
    "order_totals", "seller_order_subtotal", "offer_reserved", "negative_stock", "thread_messages", "inbox_messages"
]


class Violation(AppModel):
    """Row (and report item): one invariant broken by one entity's field."""

    kind: ViolationKind
    entity_id: UUID = Field(
        description="orders.id, seller_orders.id, offers.id, threads.id or conversations.id, by kind"
    )
    field: str
    expected: Decimal = Field(description="what the children / items / reservations add up to; 0 for the stock floor")
    actual: Decimal


class ConsistencyReport(AppModel):
    checked_at: datetime
    ok: bool
    violation_count: int
    violations: list[Violation]
