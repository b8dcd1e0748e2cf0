"""Operations without I/O: the consistency checks (which invariants, how many rows, how the
report and the hourly summary read) and how readiness sums up its dependency checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.ops.models import ConsistencyReport, DependencyCheck, Readiness, Violation, ViolationKind
from shared.platform.errors import DependencyUnavailable

# -- consistency: invariants of orders and stock that no CHECK constraint can hold, because
# they span rows. Each has one set-based query in repo.CHECK_QUERIES.

CHECKS: dict[ViolationKind, str] = {
    "order_totals": "a parent's subtotal / tax / delivery_fee / total is the sum over its children",
    "seller_order_subtotal": "a child's subtotal is the sum of its items' line_total",
    "offer_reserved": "offers.reserved is the sum of the offer's ACTIVE reservations",
    "negative_stock": "on_hand, reserved and available (on_hand - reserved) are not below zero",
}
MAX_ROWS_PER_CHECK = 1000  # a broken migration could flag every row: the report stays bounded
MAX_LOGGED_VIOLATIONS = 100  # the hourly timer's ERROR lines, at most


def consistency_report(violations: Sequence[Violation], *, checked_at: datetime) -> ConsistencyReport:
    return ConsistencyReport(
        checked_at=checked_at, ok=not violations, violation_count=len(violations), violations=list(violations)
    )


def violations_by_kind(violations: Sequence[Violation]) -> dict[str, int]:
    """How many violations of each check (every check listed, 0 when it found none)."""
    return {kind: sum(1 for v in violations if v.kind == kind) for kind in CHECKS}


def violations_to_log(violations: Sequence[Violation]) -> Sequence[Violation]:
    return violations[:MAX_LOGGED_VIOLATIONS]


# -- readiness

CHECK_TIMEOUT_SECONDS = 2.0  # each dependency's check, so a hung one cannot hang readiness
ERROR_TEXT_MAX_LENGTH = 300
UNAVAILABLE_RETRY_AFTER_SECONDS = 10


def failure_text(error: BaseException) -> str:
    """A failed check's error as the report shows it: its type and message, bounded."""
    return f"{type(error).__name__}: {error}"[:ERROR_TEXT_MAX_LENGTH]


def latency_ms(started: float, finished: float) -> float:
    """perf_counter seconds to milliseconds, two decimals."""
    return round((finished - started) * 1000, 2)


def readiness(checks: Sequence[DependencyCheck]) -> Readiness:
    """Ready only when every dependency answered."""
    status = "ready" if all(c.ok for c in checks) else "unavailable"
    return Readiness(status=status, checks=list(checks))


def unavailable(report: Readiness) -> DependencyUnavailable | None:
    """The 503 for a report with failing dependencies: it names them and carries every check."""
    if not report.failing:
        return None
    error = DependencyUnavailable(", ".join(report.failing), retry_after=UNAVAILABLE_RETRY_AFTER_SECONDS)
    error.extra["checks"] = report.model_dump(mode="json")["checks"]
    return error
