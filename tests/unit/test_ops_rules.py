"""shared.ops.rules without a database: the consistency checks and their report, and how
readiness sums up its dependency checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import get_args

from shared.ops import repo, rules
from shared.ops.models import DependencyCheck, Violation, ViolationKind

CHECKED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def violation(kind: ViolationKind, field: str = "total") -> Violation:
    return Violation(kind=kind, entity_id=uuid.uuid4(), field=field, expected=Decimal("10.00"), actual=Decimal("11"))


def check(name: str, *, ok: bool) -> DependencyCheck:
    return DependencyCheck(name=name, ok=ok, latency_ms=1.5, error=None if ok else "ConnectionError: refused")


def test_every_kind_of_violation_has_a_check_and_a_query():
    kinds = set(get_args(ViolationKind))
    assert set(rules.CHECKS) == kinds == set(repo.CHECK_QUERIES)
    assert all(rules.CHECKS.values())
    assert all("%(limit)s" in query for query in repo.CHECK_QUERIES.values())  # bounded by MAX_ROWS_PER_CHECK


def test_a_report_without_violations_is_ok():
    report = rules.consistency_report([], checked_at=CHECKED_AT)
    assert (report.ok, report.violation_count, report.violations, report.checked_at) == (True, 0, [], CHECKED_AT)


def test_a_report_counts_its_violations():
    found = [violation("order_totals"), violation("negative_stock", "on_hand")]
    report = rules.consistency_report(found, checked_at=CHECKED_AT)
    assert (report.ok, report.violation_count, report.violations) == (False, 2, found)


def test_the_summary_lists_every_check_even_those_that_found_nothing():
    found = [violation("offer_reserved"), violation("offer_reserved"), violation("order_totals")]
    assert rules.violations_by_kind(found) == {
        "order_totals": 1,
        "seller_order_subtotal": 0,
        "offer_reserved": 2,
        "negative_stock": 0,
    }
    assert rules.violations_by_kind([]) == dict.fromkeys(rules.CHECKS, 0)


def test_the_hourly_log_is_bounded():
    found = [violation("offer_reserved") for _ in range(rules.MAX_LOGGED_VIOLATIONS + 5)]
    assert list(rules.violations_to_log(found)) == found[: rules.MAX_LOGGED_VIOLATIONS]
    assert list(rules.violations_to_log(found[:3])) == found[:3]
    assert rules.MAX_LOGGED_VIOLATIONS <= rules.MAX_ROWS_PER_CHECK


def test_ready_only_when_every_dependency_answered():
    ready = rules.readiness([check("postgresql", ok=True), check("redis", ok=True)])
    assert (ready.status, ready.failing) == ("ready", [])
    assert rules.unavailable(ready) is None
    down = rules.readiness([check("postgresql", ok=True), check("redis", ok=False), check("storage", ok=False)])
    assert (down.status, down.failing) == ("unavailable", ["redis", "storage"])


def test_the_503_names_the_failing_dependencies_and_carries_every_check():
    report = rules.readiness([check("postgresql", ok=True), check("redis", ok=False)])
    error = rules.unavailable(report)
    assert error is not None
    assert (error.status, error.code, error.dependency) == (503, "dependency_unavailable", "redis")
    assert error.retry_after == rules.UNAVAILABLE_RETRY_AFTER_SECONDS == 10
    assert [c["name"] for c in error.extra["checks"]] == ["postgresql", "redis"]
    assert error.extra["checks"][1]["ok"] is False


def test_a_failed_checks_error_names_its_type_and_is_bounded():
    assert rules.failure_text(ConnectionRefusedError("refused")) == "ConnectionRefusedError: refused"
    assert rules.failure_text(TimeoutError()) == "TimeoutError: "
    assert len(rules.failure_text(RuntimeError("x" * 1000))) == rules.ERROR_TEXT_MAX_LENGTH


def test_latency_in_milliseconds_with_two_decimals():
    assert rules.latency_ms(10.0, 10.0123456) == 12.35
    assert rules.latency_ms(1.0, 1.0) == 0.0
