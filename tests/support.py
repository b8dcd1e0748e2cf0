"""Helpers shared by integration and e2e tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import azure.functions as func
import psycopg
from psycopg import sql

from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, mint_token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def token(role: str = "customer", *, sub: str | None = None, **claims: Any) -> str:
    return mint_token(role=role, sub=sub or unique("user"), issuer=DEV_ISSUER, audience=DEV_AUDIENCE, **claims)


def bearer(role: str = "customer", *, sub: str | None = None, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub=sub, **claims)}"}


def create_database(admin_url: str, name: str, *, template: str | None = None) -> str:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)
    return database_url_for(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_url_for(url: str, name: str) -> str:
    """The same server URL with another database name (URL form: yoyo needs one)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class FakeContext:
    """What the Functions worker passes as `context` (only what the app reads)."""

    def __init__(self, function_name: str = "test") -> None:
        self.invocation_id = str(uuid.uuid4())
        self.function_name = function_name


def http_request(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    route_params: dict[str, str] | None = None,
) -> func.HttpRequest:
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    return func.HttpRequest(
        method=method,
        url=f"http://localhost/api/{path}",
        headers=headers or {},
        params=params or {},
        route_params=route_params or {},
        body=payload,
    )


def app_function(name: str) -> Any:
    """The callable the worker would invoke for the registered function `name`."""
    from function_app import app
    from shared.platform.openapi import registered_functions

    return {f.get_function_name(): f.get_user_function() for f in registered_functions(app)}[name]


async def call(function: Any, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """Invoke an HTTP function in-process like the worker does; returns (status, headers, json).
    `function` is a registered function's name or the blueprint object its decorator returned."""
    name = function if isinstance(function, str) else function._function.get_function_name()
    response = await app_function(name)(http_request(method, path, **kwargs), FakeContext(name))
    body = response.get_body()
    headers = {k.lower(): v for k, v in response.headers.items()}
    if response.mimetype and body:  # the worker turns mimetype into Content-Type
        headers.setdefault("content-type", f"{response.mimetype}; charset={response.charset}")
    return response.status_code, headers, json.loads(body) if body else None


@contextlib.contextmanager
def counting_statements(monkeypatch: Any) -> Iterator[list[str]]:
    """Every statement psycopg sends while the block runs (cleared by the caller as needed),
    but two that come and go with the timing on a loaded machine: the pool's liveness check
    (an empty query on a connection idle over `db.CHECK_IF_IDLE_SECONDS`), and the background
    relay's (a commit's `relay_soon` task, which the loop may run during the caller's awaits)."""
    import psycopg

    from shared.events import relay

    sent: list[str] = []
    original = psycopg.AsyncCursor.execute

    async def counting(self, query, *args, **kwargs):
        if str(query) and not relay.in_background_relay():
            sent.append(str(query))
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counting)
    yield sent
    monkeypatch.setattr(psycopg.AsyncCursor, "execute", original)


def batch_sizes(monkeypatch: Any, owner: type, method: str) -> list[int]:
    """Sizes of the batches `owner.method(self, batch)` is called with, in order (it still runs)."""
    sizes: list[int] = []
    real = getattr(owner, method)

    async def spy(self, batch):
        sizes.append(len(batch))
        return await real(self, batch)

    monkeypatch.setattr(owner, method, spy)
    return sizes


def set_after_calls(monkeypatch: Any, owner: Any, name: str, calls: int, event: asyncio.Event) -> None:
    """Sets `event` once `owner.name` has been called `calls` times; each call still runs. A test
    learns this way that callers have reached a point, instead of sleeping until they likely have."""
    real = getattr(owner, name)
    count = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        if count == calls:
            event.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


class FakeClock:
    """A clock that moves only when a test moves it (`clock.now += seconds`)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---- the cache against a real Redis (fixtures `cache_store`, `throwaway_redis` in conftest.py)


class FakeDatabase:
    """Stands in for PostgreSQL behind the cache: a value per key and how often each was read.
    With `held=True` a load stops after reading its value until the test sets `release`, and
    `load_started` tells the test a load has read (so its Redis lock is taken)."""

    def __init__(self, *, held: bool = False) -> None:
        self.values: dict[str, bytes | None] = {}
        self.reads: dict[str, int] = {}
        self.load_started = asyncio.Event()
        self.release = asyncio.Event()
        if not held:
            self.release.set()

    def loader(self, name: str) -> Callable[[], Awaitable[bytes | None]]:
        async def load() -> bytes | None:
            self.reads[name] = self.reads.get(name, 0) + 1
            value = self.values.get(name)  # read before waiting, like a snapshot
            self.load_started.set()
            await self.release.wait()
            return value

        return load


def product_reader(cache: Any, db: FakeDatabase, name: str = "p1") -> tuple[str, Callable[[], Awaitable[Any]]]:
    """(key, read): `read()` is the catalog's cached read of product `name`."""
    key = cache.versioned_key("product", name)

    async def read() -> bytes | None:
        return await cache.get_or_load(key, ttl=60.0, load=db.loader(name), tags=[f"product:{name}"])

    return key, read


class ThrowawayRedis:
    """A redis-server of the test's own on a free port, to kill or freeze mid-test."""

    START_SECONDS = 30.0  # only turns a server that never starts into a failure

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self.START_SECONDS
        # redis-server says nothing when it is ready but answers PING: ask until it does.
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            assert time.monotonic() < deadline, "throwaway redis-server did not start"
            time.sleep(0.02)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def freeze(self, frozen: bool) -> None:  # SIGSTOP: connections open, nothing answers (slow Redis)
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)


# ---- races that happen inside PostgreSQL


class LockGate:
    """Holds a row lock in a session of its own, so that racing transactions queue on it inside
    PostgreSQL; `open_when_waiting` lets them all go at once."""

    SAFETY_SECONDS = 60.0  # only turns racers that never arrive into a failure

    def __init__(self, holder: psycopg.AsyncConnection, watcher: psycopg.AsyncConnection) -> None:
        self._holder, self._watcher = holder, watcher

    @classmethod
    @contextlib.asynccontextmanager
    async def holding(cls, database_url: str, lock_sql: str, params: Any) -> AsyncIterator[LockGate]:
        """The gate, closed: `lock_sql` ran in a transaction that stays open until the gate opens
        (or the block ends: closing the connection ends its transaction)."""
        async with (
            await psycopg.AsyncConnection.connect(database_url, autocommit=True) as holder,
            await psycopg.AsyncConnection.connect(database_url, autocommit=True) as watcher,
        ):
            await holder.execute("BEGIN")
            await holder.execute(lock_sql, params)
            yield cls(holder, watcher)

    async def open_when_waiting(self, sessions: int, racing: asyncio.Future) -> list[int]:
        """Once `sessions` sessions of this database wait on a lock, commit the holder's
        transaction; returns their backend pids. Fails if `racing` ends first."""
        async with asyncio.timeout(self.SAFETY_SECONDS):
            while len(waiting := await self._waiting_pids()) < sessions:
                if racing.done():
                    raise AssertionError(f"only {len(waiting)} sessions waited: {racing.result()!r:.300}")
                # PostgreSQL tells nobody when a session starts to wait on a lock: look again.
                await asyncio.sleep(0.01)
        await self._holder.execute("COMMIT")
        return waiting

    async def _waiting_pids(self) -> list[int]:
        cursor = await self._watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [row[0] for row in await cursor.fetchall()]
