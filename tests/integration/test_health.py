"""Readiness against real dependencies: anonymous probes get the status and one word per
dependency, never versions, addresses or exception texts; only PostgreSQL down is a 503. The
details are GET /api/ops/health, behind the function key and an admin role."""

from __future__ import annotations

import os
import re

import httpx
import pytest

from shared.storage import AZURITE_CONNECTION_STRING
from tests.support import bearer, call, free_port

ADMIN = bearer("admin", sub="health-admin")
EVERYTHING_OK = {"status": "ok", "checks": {"postgresql": "ok", "redis": "ok", "storage": "ok"}}


def leaks(raw: str, *secrets: str) -> list[str]:
    """What an anonymous answer must not carry: addresses, ports, URLs, exception names, versions."""
    found = [s for s in secrets if s in raw]
    found += re.findall(r"\d+\.\d+\.\d+\.\d+|localhost|://|Error|Exception|refused|server_version", raw)
    return found


def kill(monkeypatch, name: str, value: str) -> str:
    from shared.platform.config import reset_settings

    monkeypatch.setenv(name, value)
    reset_settings()  # settings are cached: without this the dead URL would never apply
    return value


def postgresql_down(monkeypatch) -> str:
    """DATABASE_URL at a closed port (with a user name that must not leak); returns the port."""
    port = str(free_port())
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", "0.5")  # the pool gives up sooner than the default 5 s
    kill(monkeypatch, "DATABASE_URL", f"postgresql://souq_secret_user@127.0.0.1:{port}/none")
    return port


async def ready() -> tuple[int, dict[str, str], dict]:
    return await call("health_ready", "GET", "health/ready")


async def test_liveness_needs_no_dependency(app_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    kill(monkeypatch, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    status, headers, body = await call("health", "GET", "health")
    assert status == 200 and body == {"status": "ok"} and headers["x-request-id"]


async def test_ready_is_one_word_per_dependency(app_env):
    status, _, body = await ready()
    assert status == 200 and body == EVERYTHING_OK


async def test_redis_down_is_200_degraded_and_leaks_nothing_while_the_catalog_serves(app_env, monkeypatch):
    port = str(free_port())
    kill(monkeypatch, "REDIS_URL", f"redis://127.0.0.1:{port}/0")
    status, _, body = await ready()
    assert status == 200
    assert body == {"status": "degraded", "checks": {"postgresql": "ok", "redis": "down", "storage": "ok"}}
    assert leaks(str(body), port) == []
    status, _, brands = await call("list_brands", "GET", "brands")  # from PostgreSQL, as degraded says
    assert status == 200 and brands["items"] == []


async def test_storage_down_is_200_degraded(app_env, monkeypatch):
    port = str(free_port())
    kill(
        monkeypatch, "AzureWebJobsStorage", re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", AZURITE_CONNECTION_STRING)
    )
    status, _, body = await ready()
    assert status == 200
    assert body == {"status": "degraded", "checks": {"postgresql": "ok", "redis": "ok", "storage": "down"}}


async def test_postgresql_down_is_a_503_naming_postgresql_only(app_env, monkeypatch):
    port = postgresql_down(monkeypatch)
    status, headers, body = await ready()
    assert status == 503 and headers["retry-after"] == "10"
    assert headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "dependency_unavailable" and body["dependency"] == "postgresql"
    assert body["detail"] == "postgresql is unavailable; retry shortly"
    assert body["checks"] == {"postgresql": "down", "redis": "ok", "storage": "ok"}
    assert set(body) == {"type", "title", "status", "detail", "code", "invocation_id", "dependency", "checks"}
    assert leaks(str(body), port, "souq_secret_user") == []


async def test_a_catalog_read_with_postgresql_down_names_postgresql_only(app_env, monkeypatch):
    port = postgresql_down(monkeypatch)
    kill(monkeypatch, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # no cached answer either
    status, _, body = await call("list_brands", "GET", "brands")
    assert status == 503 and body["dependency"] == "postgresql"
    assert leaks(str(body), port, "souq_secret_user") == []


# -- the details, for operators


async def ops_health(**kwargs) -> tuple[int, dict[str, str], dict]:
    return await call("get_health", "GET", "ops/health", **kwargs)


async def test_operators_get_the_details(app_env):
    status, _, body = await ops_health(headers=ADMIN)
    assert status == 200 and body["status"] == "ok" and body["cache_breaker"] == "closed"
    checks = {c["name"]: c for c in body["checks"]}
    assert set(checks) == {"postgresql", "redis", "storage"}
    assert all(c["ok"] and c["error"] is None and c["latency_ms"] >= 0 for c in checks.values())
    assert [name for name, c in checks.items() if c["required"]] == ["postgresql"]
    postgres = checks["postgresql"]["detail"]
    assert postgres["server_version"] and postgres["server_connections"] >= 1 and postgres["uptime_seconds"] > 0
    assert postgres["max_connections"] >= postgres["server_connections"]
    assert postgres["pools"]["primary"]["pool_max"] == app_env.database_pool_max
    assert checks["storage"]["detail"]["queue"] == app_env.domain_events_queue


async def test_operators_see_redis_down_and_the_breaker_open(app_env, monkeypatch):
    monkeypatch.setenv("CACHE_BREAKER_COOLDOWN_SECONDS", "3600")  # stays open while the test reads it
    kill(monkeypatch, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(app_env.cache_breaker_failures):
        status, _, _ = await call("list_brands", "GET", "brands")
        assert status == 200
    status, _, body = await ops_health(headers=ADMIN)
    assert status == 200 and body["status"] == "degraded" and body["cache_breaker"] == "open"
    redis = next(c for c in body["checks"] if c["name"] == "redis")
    assert redis["ok"] is False and redis["required"] is False and redis["error"]
    assert leaks(redis["error"].replace("Error", "")) == []  # the exception's type only; its text is logged


async def test_operators_get_a_200_when_postgresql_is_down(app_env, monkeypatch):
    postgresql_down(monkeypatch)
    status, _, body = await ops_health(headers=ADMIN)
    assert status == 200 and body["status"] == "unavailable"
    postgres = next(c for c in body["checks"] if c["name"] == "postgresql")
    assert (postgres["ok"], postgres["required"], postgres["detail"]) == (False, True, {})
    assert postgres["error"] in ("PoolTimeout", "OperationalError", "TimeoutError")  # the driver's, by type


async def test_only_admins_read_the_details(app_env):
    status, _, body = await ops_health(headers=bearer("customer"))
    assert status == 403 and body["code"] == "forbidden"
    status, _, body = await ops_health()
    assert status == 401 and "checks" not in body


@pytest.fixture
def dev_host_client(app_env, monkeypatch):
    """The real app behind the dev host, which checks function keys as Azure does."""
    from devhost.asgi import DevHostApp
    from devhost.host import DevHost
    from function_app import app
    from shared.platform.hostjson import HOST_JSON, HostConfig

    # Indexing records every name on the app to reject duplicates, so a second dev host in this
    # process would raise: this one's record is set aside and dropped after the test.
    monkeypatch.setattr(app, "functions_bindings", None)
    environ = {**os.environ, "DEVHOST_FUNCTION_KEY": "fk", "DEVHOST_MASTER_KEY": "mk"}
    host = DevHost(app, HostConfig.load(HOST_JSON), environ=environ, enable_timers=False, enable_queues=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=DevHostApp(host)), base_url="http://testserver")


async def test_the_details_need_the_function_key_and_readiness_does_not(dev_host_client):
    async with dev_host_client as client:
        without_key = await client.get("/api/ops/health", headers=ADMIN)
        assert without_key.status_code == 401 and without_key.json()["code"] == "function_key_required"
        customer = await client.get("/api/ops/health", headers={**bearer("customer"), "x-functions-key": "fk"})
        assert customer.status_code == 403
        admin = await client.get("/api/ops/health", headers={**ADMIN, "x-functions-key": "fk"})
        assert admin.status_code == 200 and admin.json()["cache_breaker"] == "closed"
        anonymous = await client.get("/api/health/ready")
        assert anonymous.status_code == 200 and anonymous.json() == EVERYTHING_OK
