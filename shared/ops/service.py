"""Operations: readiness and the operators' health report (every dependency checked
concurrently, each bounded by a timeout), the consistency report of orders and stock
(maintenance endpoint and hourly timer), and the database reports (shared/ops/reports.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from shared.cache import store as cache
from shared.data import db, key_retention, partitions
from shared.ops import repo, reports, rules
from shared.ops.models import (
    BreakerState,
    ConsistencyReport,
    DependencyCheck,
    DependencyName,
    HealthReport,
    Readiness,
    Violation,
)
from shared.platform import logs
from shared.platform.config import get_settings

# The database reports live in reports.py; the triggers reach them here.
slow_queries_report = reports.slow_queries
index_usage_report = reports.index_usage
tables_report = reports.tables
connections_report = reports.connections
log_database_health = reports.log_database_health

log = logs.get_logger("consistency")  # souq.consistency: the hourly check's lines
health_log = logs.get_logger("health")  # souq.health: why a dependency check failed


# -- readiness and the operators' health report


async def check_postgresql() -> dict[str, Any]:
    async with db.connection() as conn:
        facts = await repo.server_facts(conn)
    return facts.model_dump(exclude={"alive"}) | {"pools": db.pool_stats()}


async def check_redis() -> dict[str, Any]:
    await cache.ping()  # the breaker's state is in the report itself: it matters most when this fails
    return {}


async def check_storage() -> dict[str, Any]:
    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import queue_client

    queue_name = get_settings().domain_events_queue
    try:
        properties = await queue_client(queue_name).get_queue_properties()
    except ResourceNotFoundError:  # reachable; the queue is created on first use
        return {"queue": queue_name, "exists": False}
    return {"queue": queue_name, "approximate_messages": properties.approximate_message_count}


DEPENDENCY_CHECKS: dict[DependencyName, Callable[[], Awaitable[dict[str, Any]]]] = {
    "postgresql": check_postgresql,
    "redis": check_redis,
    "storage": check_storage,
}


async def run_check(name: DependencyName, check: Callable[[], Awaitable[dict[str, Any]]]) -> DependencyCheck:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), rules.CHECK_TIMEOUT_SECONDS)
        ok, error = True, None
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; its text is logged, not sent
        health_log.warning("%s check failed: %s", name, rules.failure_text(exc), extra={"dependency": name})
        detail, ok, error = {}, False, rules.failure_kind(exc)
    latency = rules.latency_ms(started, time.perf_counter())
    required = rules.is_required(name)
    return DependencyCheck(name=name, ok=ok, required=required, latency_ms=latency, detail=detail, error=error)


async def health_report() -> HealthReport:
    """Every dependency's check, whether or not it answered, and this instance's cache breaker."""
    checks = await asyncio.gather(*(run_check(name, check) for name, check in DEPENDENCY_CHECKS.items()))
    breaker = cast(BreakerState, cache.breaker_state())
    return rules.health_report(checks, cache_breaker=breaker)


async def check_readiness() -> Readiness:
    """The status and one word per dependency; DependencyUnavailable (503) naming the required
    dependencies that are down (PostgreSQL), and only their names."""
    report = await health_report()
    unavailable = rules.unavailable(report)
    if unavailable is not None:
        raise unavailable
    return rules.readiness(report)


# -- consistency


async def find_violations(*, limit: int = rules.MAX_ROWS_PER_CHECK) -> list[Violation]:
    """Every violation of every check (at most `limit` per check); empty when consistent."""
    async with db.connection() as conn:  # the primary: a replica's lag is not an inconsistency
        return await repo.find_violations(conn, limit=limit)


async def consistency_report() -> ConsistencyReport:
    violations = await find_violations()
    return rules.consistency_report(violations, checked_at=datetime.now(UTC))


async def log_consistency() -> dict[str, int]:
    """The hourly check: one ERROR line per violation (bounded) and a summary by kind."""
    violations = await find_violations()
    for v in rules.violations_to_log(violations):
        log.error(
            "consistency violation %s on %s: %s expected %s, actual %s",
            v.kind,
            v.entity_id,
            v.field,
            v.expected,
            v.actual,
        )
    summary = rules.violations_by_kind(violations)
    if violations:
        log.warning("consistency check: %d violation(s) %s", len(violations), summary)
    else:
        log.info("consistency check: no violations")
    return summary


# -- monthly partitions of every registered table (shared/data/partitions.py)


async def maintain_partitions() -> dict[str, Any]:
    """The daily run: months ahead created, months past their retention dropped."""
    run = await partitions.maintain()
    return {"partitions_created": run.created, "partitions_existing": run.existing,
            "partitions_dropped": run.dropped, "partitions_kept": run.kept}  # fmt: skip


# -- dedupe keys past their retention (shared/data/key_retention.py)


async def prune_dedupe_keys() -> dict[str, Any]:
    """The daily run: processed events and thread posts' client ids past their retention deleted."""
    run = await key_retention.prune()
    return {"keys_deleted": run.deleted, "keys_left_for_next_run": run.unfinished}
