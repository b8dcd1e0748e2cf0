"""Readiness against real dependencies, and a 503 naming the one that is down."""

from __future__ import annotations

from tests.support import call, free_port


async def test_liveness_needs_no_dependency(app_env, monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    reset_settings()  # settings are cached: without this the dead URLs would never apply
    status, headers, body = await call("health", "GET", "health")
    assert status == 200 and body == {"status": "ok"} and headers["x-request-id"]


async def test_ready_reports_every_dependency(app_env):
    status, _, body = await call("health_ready", "GET", "health/ready")
    assert status == 200 and body["status"] == "ready"
    checks = {c["name"]: c for c in body["checks"]}
    assert set(checks) == {"postgresql", "redis", "storage"} and all(c["ok"] for c in checks.values())
    postgres = checks["postgresql"]["detail"]
    assert postgres["server_connections"] >= 1 and postgres["uptime_seconds"] > 0
    assert postgres["pools"]["primary"]["pool_max"] == app_env.database_pool_max
    assert checks["redis"]["detail"]["cache_breaker"] in ("closed", "half_open")


async def test_ready_is_503_naming_a_dead_redis(app_env, monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    reset_settings()
    status, headers, body = await call("health_ready", "GET", "health/ready")
    assert status == 503 and headers["retry-after"] == "10"
    assert body["code"] == "dependency_unavailable" and body["dependency"] == "redis"
    assert [c["name"] for c in body["checks"] if not c["ok"]] == ["redis"]
