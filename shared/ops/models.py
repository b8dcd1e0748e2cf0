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


class DependencyCheck(AppModel):
    name: str
    ok: bool
    latency_ms: float
    detail: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class Readiness(AppModel):
    status: Literal["ready", "unavailable"]
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


ViolationKind = Literal["order_totals", "seller_order_subtotal", "offer_reserved", "negative_stock"]


class Violation(AppModel):
    """Row (and report item): one invariant broken by one entity's field."""

    kind: ViolationKind
    entity_id: UUID = Field(description="orders.id, seller_orders.id or offers.id, by kind")
    field: str
    expected: Decimal = Field(description="what the children / items / reservations add up to; 0 for the stock floor")
    actual: Decimal


class ConsistencyReport(AppModel):
    checked_at: datetime
    ok: bool
    violation_count: int
    violations: list[Violation]
