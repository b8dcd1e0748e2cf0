"""Readiness: every dependency checked concurrently, each bounded by a timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shared.cache import store as cache
from shared.data import db
from shared.ops import repo
from shared.ops.models import DependencyCheck, Readiness
from shared.platform.config import get_settings

CHECK_TIMEOUT_SECONDS = 2.0


async def check_postgresql() -> dict[str, Any]:
    async with db.connection() as conn:
        facts = await repo.server_facts(conn)
    return facts.model_dump(exclude={"alive"}) | {"pools": db.pool_stats()}


async def check_redis() -> dict[str, Any]:
    await cache.ping()
    # "open" means this instance is bypassing Redis after recent failures (see docs/cache.md).
    return {"cache_breaker": cache.breaker_state()}


async def check_storage() -> dict[str, Any]:
    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import queue_client

    queue_name = get_settings().domain_events_queue
    try:
        properties = await queue_client(queue_name).get_queue_properties()
    except ResourceNotFoundError:  # reachable; the queue is created on first use
        return {"queue": queue_name, "exists": False}
    return {"queue": queue_name, "approximate_messages": properties.approximate_message_count}


async def _run_check(name: str, check: Callable[[], Awaitable[dict[str, Any]]]) -> DependencyCheck:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
        ok, error = True, None
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        detail, ok, error = {}, False, f"{type(exc).__name__}: {exc}"[:300]
    latency = round((time.perf_counter() - started) * 1000, 2)
    return DependencyCheck(name=name, ok=ok, latency_ms=latency, detail=detail, error=error)


async def readiness() -> Readiness:
    checks = await asyncio.gather(
        _run_check("postgresql", check_postgresql),
        _run_check("redis", check_redis),
        _run_check("storage", check_storage),
    )
    status = "ready" if all(c.ok for c in checks) else "unavailable"
    return Readiness(status=status, checks=list(checks))
