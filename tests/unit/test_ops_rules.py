"""shared.ops.rules without a database: the consistency checks and their report, and how
readiness and the operators' health report sum up the dependency checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import get_args

import pytest

from shared.ops import repo, rules
from shared.ops.models import DependencyCheck, DependencyName, HealthReport, Violation, ViolationKind
from shared.platform.errors import DependencyUnavailable

CHECKED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def violation(kind: ViolationKind, field: str = "total") -> Violation:
    return Violation(kind=kind, entity_id=uuid.uuid4(), field=field, expected=Decimal("10.00"), actual=Decimal("11"))


def check(name: DependencyName, *, ok: bool) -> DependencyCheck:
    error = None if ok else "ConnectionError"
    return DependencyCheck(name=name, ok=ok, required=rules.is_required(name), latency_ms=1.5, error=error)


def report(*, postgresql: bool = True, redis: bool = True, storage: bool = True) -> HealthReport:
    checks = [check("postgresql", ok=postgresql), check("redis", ok=redis), check("storage", ok=storage)]
    return rules.health_report(checks, cache_breaker="closed" if redis else "open")


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
        "thread_messages": 0,
        "inbox_messages": 0,
    }
    assert rules.violations_by_kind([]) == dict.fromkeys(rules.CHECKS, 0)


def test_the_hourly_log_is_bounded():
    found = [violation("offer_reserved") for _ in range(rules.MAX_LOGGED_VIOLATIONS + 5)]
    assert list(rules.violations_to_log(found)) == found[: rules.MAX_LOGGED_VIOLATIONS]
    assert list(rules.violations_to_log(found[:3])) == found[:3]
    assert rules.MAX_LOGGED_VIOLATIONS <= rules.MAX_ROWS_PER_CHECK


def test_only_postgresql_is_required():
    assert sorted(rules.REQUIRED_DEPENDENCIES) == ["postgresql"]
    assert [rules.is_required(n) for n in ("postgresql", "redis", "storage")] == [True, False, False]


def test_ok_when_every_dependency_answered():
    healthy = report()
    assert (healthy.status, healthy.failing, healthy.cache_breaker) == ("ok", [], "closed")
    assert rules.unavailable(healthy) is None
    ready = rules.readiness(healthy)
    assert ready.model_dump() == {"status": "ok", "checks": {"postgresql": "ok", "redis": "ok", "storage": "ok"}}


def test_redis_or_storage_down_is_degraded_not_unavailable():
    for down in (report(redis=False), report(storage=False), report(redis=False, storage=False)):
        assert down.status == "degraded" and rules.unavailable(down) is None
    ready = rules.readiness(report(redis=False))
    assert ready.model_dump() == {
        "status": "degraded",
        "checks": {"postgresql": "ok", "redis": "down", "storage": "ok"},
    }


def test_postgresql_down_is_a_503_naming_postgresql_only():
    down = report(postgresql=False, redis=False)
    assert down.status == "unavailable"
    error = rules.unavailable(down)
    assert error is not None
    assert (error.status, error.code, error.dependency) == (503, "dependency_unavailable", "postgresql")
    assert error.retry_after == rules.UNAVAILABLE_RETRY_AFTER_SECONDS == 10
    assert error.detail == "postgresql is unavailable; retry shortly"
    assert error.extra == {
        "dependency": "postgresql",
        "checks": {"postgresql": "down", "redis": "down", "storage": "ok"},
    }
    with pytest.raises(ValueError, match="503"):
        rules.readiness(down)  # a 200 never says unavailable


def test_the_anonymous_view_carries_no_detail():
    detailed = report(redis=False)
    detailed.checks[0].detail = {"server_version": "16.4", "server_connections": 3}
    assert set(rules.readiness(detailed).model_dump()) == {"status", "checks"}
    assert "16.4" not in rules.readiness(detailed).model_dump_json()


def test_a_failed_check_shows_its_type_and_logs_its_bounded_text():
    refused = ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6390")
    assert rules.failure_kind(refused) == "ConnectionRefusedError"
    assert rules.failure_text(refused) == "ConnectionRefusedError: Error 111 connecting to 127.0.0.1:6390"
    assert rules.failure_text(TimeoutError()) == "TimeoutError: "
    assert len(rules.failure_text(RuntimeError("x" * 1000))) == rules.ERROR_TEXT_MAX_LENGTH
    try:
        raise DependencyUnavailable("postgresql") from refused
    except DependencyUnavailable as wrapped:  # what db.connection() raises: the driver's error is the cause
        assert rules.failure_kind(wrapped) == "ConnectionRefusedError"
        assert rules.failure_text(wrapped) == rules.failure_text(refused)


def test_a_dependency_problem_names_the_dependency_and_nothing_else():
    for name in ("postgresql", "redis", "storage", "identity provider (JWKS)", "postgresql, storage"):
        error = DependencyUnavailable(name)
        assert (error.dependency, error.extra) == (name, {"dependency": name})
        assert error.detail == f"{name} is unavailable; retry shortly"
    for leaky in ("Error 111 connecting to 127.0.0.1:6390", "redis://10.0.0.4:6380/0", "host=db.internal", ""):
        error = DependencyUnavailable(leaky)
        assert error.dependency == "a dependency" and error.extra == {"dependency": "a dependency"}
        assert error.detail == "a dependency is unavailable; retry shortly"


def test_latency_in_milliseconds_with_two_decimals():
    assert rules.latency_ms(10.0, 10.0123456) == 12.35
    assert rules.latency_ms(1.0, 1.0) == 0.0
