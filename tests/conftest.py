"""Fixtures for integration and e2e tests, against the real PostgreSQL, Redis and Azurite
that `make test` (scripts/dev.py) provisions and exports.

Isolation: a migrated template database is built once per session and cloned per test;
each test gets its own Redis key prefix and its own queue names.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, dev_jwks
from tests.support import ThrowawayRedis, create_database, drop_database, unique

# A fixed key ring for the inbox's sealed channel secrets (shared.inbox.secrets): test only.
TEST_CHANNEL_SECRETS_KEY = "test1:" + "dGVzdC1vbmx5LWNoYW5uZWwtc2VjcmV0cy1rZXktMzI="


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests with `make test`", pytrace=False)
    return value


@pytest.fixture(scope="session")
def server_url() -> str:
    return _required_env("DATABASE_URL")


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    from scripts.migrate import migrate_up

    name = f"souq_tmpl_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name)
    migrate_up(url)
    yield name
    drop_database(server_url, name)


@pytest.fixture
def database_url(server_url: str, template_database: str) -> Iterator[str]:
    name = f"souq_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name, template=template_database)
    yield url
    drop_database(server_url, name)


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(dev_jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def jwks_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


@pytest.fixture
def app_settings(database_url: str, jwks_url: str) -> dict[str, str]:
    """The settings one test's app runs with: its own database, key prefix and queues."""
    return {
        "SOUQ_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": _required_env("REDIS_URL"),
        "REDIS_KEY_PREFIX": f"test:{uuid.uuid4().hex[:10]}:",
        # Generous: tests share 2 cores with benchmarks; a 300 ms connect timeout flakes there.
        "REDIS_TIMEOUT_MS": "1000",
        "REDIS_CONNECT_TIMEOUT_MS": "2000",
        "AzureWebJobsStorage": _required_env("AzureWebJobsStorage"),
        "AUTH_ISSUER": DEV_ISSUER,
        "AUTH_AUDIENCE": DEV_AUDIENCE,
        "AUTH_JWKS_URL": jwks_url,
        "DOMAIN_EVENTS_QUEUE": unique("events"),
        "ORDER_EVENTS_QUEUE": unique("order-events"),
        "PAYMENT_EVENTS_QUEUE": unique("payment-events"),
        "CHANNEL_INBOUND_QUEUE": unique("channel-inbound"),
        "CHANNEL_OUTBOUND_QUEUE": unique("channel-outbound"),
        "CHANNEL_SECRETS_KEY": TEST_CHANNEL_SECRETS_KEY,
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
async def app_env(app_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """Runs the app in-process against this test's settings; closes every client after."""
    from shared import storage
    from shared.cache import store as cache
    from shared.data import db
    from shared.events import relay
    from shared.platform import auth
    from shared.platform.config import get_settings, reset_settings

    for name, value in app_settings.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    auth.reset_caches()
    yield get_settings()
    await relay.wait_for_background_relay()
    await db.close_pools()
    await cache.close_cache()
    await storage.close_storage_clients()
    reset_settings()


@pytest.fixture
async def cache_store(monkeypatch: pytest.MonkeyPatch):
    """shared.cache.store on the running Redis (REDIS_URL, else 127.0.0.1:6379) with its own
    prefix. Needs no database: only the settings the model requires are filled in."""
    from shared.cache import store
    from shared.platform.config import reset_settings

    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    env = {
        "SOUQ_ENV": "test",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "REDIS_KEY_PREFIX": prefix,
        # Generous, as in app_settings: a busy machine must not look like a slow Redis. The
        # frozen-Redis test waits this long three times.
        "REDIS_TIMEOUT_MS": "1000",
        "REDIS_CONNECT_TIMEOUT_MS": "2000",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgresql://unused@127.0.0.1/x",
        "AUTH_ISSUER": "test",
        "AUTH_AUDIENCE": "test",
        "AUTH_JWKS_URL": "http://localhost/jwks.json",
        "CACHE_LOCK_TTL_MS": "10000",  # longer than any load a test holds: no lock expires by surprise
        "CACHE_BREAKER_FAILURES": "3",
        "CACHE_BREAKER_COOLDOWN_SECONDS": "0.3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    await store.close_cache()
    reset_settings()
    yield store
    await _delete_prefix(store, prefix)  # tag generations have no TTL: leave nothing behind
    await store.close_cache()
    reset_settings()


async def _delete_prefix(store, prefix: str) -> None:
    with contextlib.suppress(Exception):  # the throwaway server may be gone by now
        client = store.redis_client()
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)


@pytest.fixture
async def throwaway_redis(cache_store, monkeypatch: pytest.MonkeyPatch):
    """`cache_store` on a redis-server of its own, which the test may kill or freeze."""
    from shared.platform.config import reset_settings

    server = ThrowawayRedis()
    server.start()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{server.port}/0")
    reset_settings()
    await cache_store.close_cache()
    yield server
    server.freeze(False)
    await cache_store.close_cache()
    server.kill()
