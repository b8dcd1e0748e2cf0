"""Operations without I/O: the consistency checks (which invariants, how many rows, how the
report and the hourly summary read), and how readiness and the operators' health report sum up
the dependency checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.ops.models import (
    BreakerState,
    CheckWord,
    ConsistencyReport,
    DependencyCheck,
    DependencyName,
    HealthReport,
    HealthStatus,
    Readiness,
    Violation,
    ViolationKind,
)
from shared.platform.errors import DependencyUnavailable

# -- consistency: invariants of orders, stock and threads that no CHECK constraint can hold, because
# they span rows. Each has one set-based query in repo.CHECK_QUERIES.

CHECKS: dict[ViolationKind, str] = {
    "order_totals": "a parent's subtotal / tax / delivery_fee / total is the sum over its children",
    "seller_order_subtotal": "a child's subtotal is the sum of its items' line_total",
    "offer_reserved": "offers.reserved is the sum of the offer's ACTIVE reservations",
    "negative_stock": "on_hand, reserved and available (on_hand - reserved) are not below zero",
    "thread_messages": "a thread's message_seq counts its messages (live and archived), last_message_id is the newest",
    "inbox_messages": "every channel message is the one its (connection, external id) key names; a conversation's"
    " last_message_at is not older than its newest message",
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


# -- readiness and the operators' health report

CHECK_TIMEOUT_SECONDS = 2.0  # each dependency's check, so a hung one cannot hang readiness
ERROR_TEXT_MAX_LENGTH = 300  # a failed check's log line
UNAVAILABLE_RETRY_AFTER_SECONDS = 10
# Without PostgreSQL nothing serves: every read and write ends there. Redis is only a cache (the
# catalog reads PostgreSQL through the circuit breaker while it is down), and Storage carries
# the outbox's queues (events wait in outbox_events and are relayed once it is back). Taking
# every instance out of rotation would not bring either back, so they degrade readiness, not fail it.
REQUIRED_DEPENDENCIES: frozenset[str] = frozenset({"postgresql"})


def is_required(name: str) -> bool:
    return name in REQUIRED_DEPENDENCIES


def root_cause(error: BaseException) -> BaseException:
    """What actually failed: the driver's error under our DependencyUnavailable, if any."""
    return error.__cause__ or error


def failure_text(error: BaseException) -> str:
    """A failed check's error as the log shows it: its type and message, bounded. Never sent."""
    cause = root_cause(error)
    return f"{type(cause).__name__}: {cause}"[:ERROR_TEXT_MAX_LENGTH]


def failure_kind(error: BaseException) -> str:
    """A failed check's error as operators' report shows it: its type only (the message may
    carry addresses; it is in the log line)."""
    return type(root_cause(error)).__name__


def latency_ms(started: float, finished: float) -> float:
    """perf_counter seconds to milliseconds, two decimals."""
    return round((finished - started) * 1000, 2)


def health_status(checks: Sequence[DependencyCheck]) -> HealthStatus:
    """unavailable when a required dependency is down, degraded when another one is, else ok."""
    if any(c.required and not c.ok for c in checks):
        return "unavailable"
    return "degraded" if any(not c.ok for c in checks) else "ok"


def health_report(checks: Sequence[DependencyCheck], *, cache_breaker: BreakerState) -> HealthReport:
    return HealthReport(status=health_status(checks), cache_breaker=cache_breaker, checks=list(checks))


def one_word_checks(report: HealthReport) -> dict[DependencyName, CheckWord]:
    return {c.name: "ok" if c.ok else "down" for c in report.checks}


def readiness(report: HealthReport) -> Readiness:
    """What an anonymous probe sees when the app can serve: the status and one word per
    dependency. (A report with a required dependency down is `unavailable(report)` instead.)"""
    if report.status == "unavailable":
        raise ValueError("an unavailable report is a 503: raise unavailable(report)")
    return Readiness(status=report.status, checks=one_word_checks(report))


def unavailable(report: HealthReport) -> DependencyUnavailable | None:
    """The 503 when a required dependency is down: it names those, and carries the one-word checks."""
    down = [c.name for c in report.checks if c.required and not c.ok]
    if not down:
        return None
    error = DependencyUnavailable(", ".join(down), retry_after=UNAVAILABLE_RETRY_AFTER_SECONDS)
    error.extra["checks"] = one_word_checks(report)
    return error
