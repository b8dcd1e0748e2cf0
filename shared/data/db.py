"""Pooled PostgreSQL access: one AsyncConnectionPool per worker process (plus an optional
read-replica pool), opened lazily inside the running event loop.

Connections idle for more than a moment are checked on checkout, so a pool whose server
restarted discards its dead connections and the first request after the server is back
succeeds; while the server is down, callers get `DependencyUnavailable` (HTTP 503 with
Retry-After) at once, not after the pool timeout (`shared.data.pool_gate`).
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from shared.data import pool_gate
from shared.platform.config import get_settings
from shared.platform.errors import Conflict, DependencyUnavailable, PlatformError

if TYPE_CHECKING:  # psycopg is imported on first use: it is the largest part of cold start
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    from shared.platform.settings_model import Settings

Row = TypeVar("Row")
DEPENDENCY = "postgresql"
# SQLSTATEs that mean "the server is not usable right now" rather than "your query is wrong".
UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53")
STATEMENT_TIMEOUT_SQLSTATE = "57014"
# A connection handed back this recently is alive: checking it would cost a round trip per
# request under load. One idle longer is checked first (a restart takes longer than this).
CHECK_IF_IDLE_SECONDS = 0.2
# Serialization failure and deadlock: the transaction lost a race and may simply be retried.
TRANSACTION_CONFLICT_SQLSTATES = ("40001", "40P01")

_pools: dict[str, AsyncConnectionPool] = {}
_pool_loop: asyncio.AbstractEventLoop | None = None
# When each pooled connection was last handed back (or opened): ours, not an attribute set on
# psycopg's object; weak, so a connection the pool closes leaves no entry behind.
_idle_since: weakref.WeakKeyDictionary[psycopg.AsyncConnection, float] = weakref.WeakKeyDictionary()


def connection_kwargs(settings: Settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "application_name": settings.database_application_name,
        "connect_timeout": max(1, round(settings.database_connect_timeout_seconds)),
        "autocommit": True,  # transactions are explicit: `async with conn.transaction()`
    }
    if settings.database_pgbouncer:
        # Transaction-mode PgBouncer: no server-side prepared statements and no startup
        # `options`; statement_timeout is set on the database role instead (docs/database.md).
        kwargs["prepare_threshold"] = None
    else:
        # TimeZone=UTC: psycopg then loads timestamptz with datetime.timezone.utc, which costs
        # half of what a zoneinfo zone (e.g. a server default of 'Etc/UTC') does per value.
        # jit=off: the app's statements are short; JIT only ever compiled the few whose estimates
        # run high, for 0.5 s a run (the admin dashboard's, docs/database.md).
        kwargs["options"] = f"-c statement_timeout={settings.database_statement_timeout_ms} -c TimeZone=UTC -c jit=off"
    if settings.database_auth == "entra":
        kwargs["credential"] = _entra_credential(settings)
        if settings.database_entra_user:
            kwargs["user"] = settings.database_entra_user
    return kwargs


def _entra_credential(settings: Settings):
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)


def _connection_class(settings: Settings) -> type[psycopg.AsyncConnection]:
    if settings.database_auth == "entra":
        # Fetches a fresh Entra token (scope ossrdbms-aad) for every new connection.
        from azure_postgresql_auth.psycopg3 import AsyncEntraConnection

        return AsyncEntraConnection
    import psycopg

    return psycopg.AsyncConnection


def _new_pool(conninfo: str, settings: Settings, name: str) -> AsyncConnectionPool:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    async def check_or_drain(conn: psycopg.AsyncConnection) -> None:
        if time.monotonic() - _idle_since.get(conn, 0.0) < CHECK_IF_IDLE_SECONDS:
            return
        try:
            await AsyncConnectionPool.check_connection(conn)
        except psycopg.Error:
            # The server went away or restarted: its other idle connections are dead too. Not
            # marked down: it may be back already, and the pool's next connect tells.
            _drain_in_background(pool)
            raise

    async def opened(conn: psycopg.AsyncConnection) -> None:
        pool_gate.mark_up(pool.name)  # a connection opened: the server answers again
        await stamp_idle_since(conn)

    pool = AsyncConnectionPool(
        conninfo,
        kwargs=connection_kwargs(settings),
        connection_class=_connection_class(settings),
        min_size=settings.database_pool_min,
        max_size=settings.database_pool_max,
        timeout=settings.database_pool_timeout_seconds,
        max_idle=settings.database_idle_seconds,
        max_lifetime=settings.database_max_lifetime_seconds,
        # 0: a failed connect gives up at once (no long back-off holding the pool's growth);
        # the next request simply tries again, so recovery is immediate once the server is back.
        reconnect_timeout=0,
        reconnect_failed=lambda failed: pool_gate.mark_down(failed.name),
        check=check_or_drain,
        configure=opened,
        name=f"souq-{name}",
        open=False,
    )
    return pool


async def stamp_idle_since(conn: psycopg.AsyncConnection) -> None:
    """On new connections (pool `configure`) and, in `connection()`, on every return."""
    _idle_since[conn] = time.monotonic()


_draining: set[asyncio.Task] = set()


def server_lost(pool: AsyncConnectionPool) -> None:
    """A pooled connection died: the server went away (or restarted), so its idle connections
    are dead too. Drop them all now, instead of one failed request or check (and the pool's
    back-off after it) per connection, and fail fast until a connection opens again."""
    pool_gate.mark_down(pool.name)
    _drain_in_background(pool)


def _drain_in_background(pool: AsyncConnectionPool) -> None:
    if any(not task.done() for task in _draining):
        return
    task = asyncio.get_running_loop().create_task(pool.check())
    _draining.add(task)
    task.add_done_callback(_draining.discard)


async def get_pool(*, read_only: bool = False) -> AsyncConnectionPool:
    """The process-wide pool for this loop; read-only callers get the replica when configured."""
    global _pool_loop
    loop = asyncio.get_running_loop()
    if _pool_loop is not loop:  # a new loop (tests, restarts): pools of the old one are unusable
        _pools.clear()
        pool_gate.reset()
        _pool_loop = loop
    settings = get_settings()
    replica = settings.database_read_url if read_only else None
    name = "read" if replica else "primary"
    if name not in _pools:
        url = replica or settings.database_url
        pool = _new_pool(url, settings, name)
        _pools[name] = pool
        pool_gate.add_gate(pool.name, settings.database_pool_max)
        await pool.open(wait=False)
    return _pools[name]


def lost_the_server(error: BaseException) -> bool:
    """A connection-level failure (not a pool wait, not a statement timeout)."""
    import psycopg

    state = getattr(error, "sqlstate", None) or ""
    return isinstance(error, psycopg.OperationalError) and (not state or state.startswith(("08", "57P")))


def is_unavailable(error: BaseException) -> bool:
    import psycopg
    from psycopg_pool import PoolTimeout

    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate or ""
        return not state or state.startswith(UNAVAILABLE_SQLSTATE_PREFIXES) or (state == STATEMENT_TIMEOUT_SQLSTATE)
    return False


@asynccontextmanager
async def connection(*, read_only: bool = False) -> AsyncIterator[psycopg.AsyncConnection]:
    """A pooled connection in autocommit mode; unreachable server → DependencyUnavailable."""
    pool = None
    try:
        pool = await get_pool(read_only=read_only)
        async with pool_gate.checkout(pool) as conn:
            try:
                yield conn
            finally:
                _idle_since[conn] = time.monotonic()  # see stamp_idle_since
        if pool_gate.is_down(pool.name):
            pool_gate.mark_up(pool.name)  # a connection served a request: the server is back
    except Exception as error:
        if is_unavailable(error):
            if pool is not None and lost_the_server(error):
                server_lost(pool)
            raise DependencyUnavailable(DEPENDENCY) from error
        if getattr(error, "sqlstate", None) in TRANSACTION_CONFLICT_SQLSTATES:
            raise Conflict(
                "a concurrent change got there first; retry", code=PlatformError.TRANSACTION_CONFLICT
            ) from error
        raise


@asynccontextmanager
async def transaction(*, read_only: bool = False) -> AsyncIterator[psycopg.AsyncConnection]:
    """A pooled connection inside one transaction, committed when the block exits cleanly."""
    async with connection(read_only=read_only) as conn, conn.transaction():
        yield conn


def conflict_retrying(attempts: int = 3) -> Any:
    """tenacity's AsyncRetrying for a transaction that lost a race (deadlock or serialization
    failure, surfaced as Conflict `transaction_conflict`): run it again at once, a few times."""
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random

    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_random(0, 0.05),
        reraise=True,
        retry=retry_if_exception(lost_a_race),
    )


def lost_a_race(error: BaseException) -> bool:
    return isinstance(error, Conflict) and error.code is PlatformError.TRANSACTION_CONFLICT


async def fetch_one(
    conn: psycopg.AsyncConnection, sql: str, params: dict | Sequence | None, model: type[Row]
) -> Row | None:
    from psycopg.rows import class_row

    async with conn.cursor(row_factory=class_row(model)) as cur:
        await cur.execute(sql, params)
        return await cur.fetchone()


async def fetch_all(
    conn: psycopg.AsyncConnection, sql: str, params: dict | Sequence | None, model: type[Row]
) -> list[Row]:
    from psycopg.rows import class_row

    async with conn.cursor(row_factory=class_row(model)) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


async def fetch_all_together(
    conn: psycopg.AsyncConnection, *queries: tuple[str, dict | Sequence | None, type]
) -> list[list[Any]]:
    """Each query's typed rows, all sent in one round trip (pipeline mode). Outside a
    transaction they also read one snapshot: a pipeline runs up to its sync as one.

    If one fails, the connection is closed (the pool replaces it): psycopg then still counts
    as prepared the statements the aborted pipeline never prepared, and the connection's next
    use of them would fail with "prepared statement does not exist" (found by a test)."""
    from psycopg.rows import class_row

    try:
        cursors = []
        async with conn.pipeline():
            for sql, params, model in queries:
                cursor: psycopg.AsyncCursor[Any] = conn.cursor(row_factory=class_row(model))
                await cursor.execute(sql, params)
                cursors.append(cursor)
        return [await cursor.fetchall() for cursor in cursors]
    except BaseException:
        await conn.close()
        raise


def json_param(value: Any) -> Any:
    """`value` as a jsonb parameter, UUIDs and Decimals written as strings. Rows passed this way
    to `jsonb_to_recordset` cost psycopg a tenth of the same data as typed arrays, whose element
    types it works out again for every array (35 vs 290 µs for an order's 19 arrays)."""
    from psycopg.types.json import Jsonb

    return Jsonb(value, dumps=_dumps_with_strings)


def _dumps_with_strings(value: Any) -> str:
    return json.dumps(value, default=str)


async def fetch_value(conn: psycopg.AsyncConnection, sql: Any, params: dict | Sequence | None) -> Any:
    """The first column of the first row, or None when there is no row."""
    async with conn.cursor() as cur:
        await cur.execute(sql, params)
        row = await cur.fetchone()
    return None if row is None else row[0]


async def execute(conn: psycopg.AsyncConnection, sql: str, params: dict | Sequence | None) -> int:
    """Run a statement; returns the affected row count."""
    async with conn.cursor() as cur:
        await cur.execute(sql, params)
        return cur.rowcount


def pool_stats() -> dict[str, dict[str, int]]:
    wanted = ("pool_min", "pool_max", "pool_size", "pool_available", "requests_waiting")
    return {name: {k: v for k, v in pool.get_stats().items() if k in wanted} for name, pool in _pools.items()}


async def close_pools() -> None:
    global _pool_loop
    pools = list(_pools.values())
    _pools.clear()
    pool_gate.reset()
    _pool_loop = None
    for pool in pools:
        await pool.close()


# -- dedicated connections, outside the pool, for long jobs (backups, restores)


def dedicated_kwargs(settings: Settings, *, application_name: str) -> dict[str, Any]:
    """The pool's connection settings without its statement timeout: a COPY of a big table runs
    for minutes. TimeZone=UTC keeps timestamps' text the same whichever server default applies."""
    kwargs = connection_kwargs(settings) | {"application_name": application_name}
    if "options" in kwargs:
        kwargs["options"] = "-c statement_timeout=0 -c TimeZone=UTC"
    return kwargs


async def open_dedicated(url: str, *, application_name: str) -> psycopg.AsyncConnection:
    """One async connection of its own (autocommit), closed by the caller."""
    settings = get_settings()
    kwargs = dedicated_kwargs(settings, application_name=application_name)
    return await _connection_class(settings).connect(url, **kwargs)


def open_dedicated_sync(url: str, *, application_name: str) -> psycopg.Connection:
    """One blocking connection of its own, for work that runs in a thread (a COPY's rows arrive
    one Python object each: a plain loop reads them twice as fast as `async for`)."""
    import psycopg

    settings = get_settings()
    kwargs = dedicated_kwargs(settings, application_name=application_name)
    if settings.database_auth != "entra":
        return psycopg.Connection.connect(url, **kwargs)
    from azure.identity import DefaultAzureCredential
    from azure_postgresql_auth.psycopg3 import EntraConnection

    kwargs["credential"] = DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)
    return EntraConnection.connect(url, **kwargs)


def url_for_migrations(url: str) -> str:
    """The URL the migration tool (yoyo, which takes only a URL) connects with: as is with
    password auth; in Entra mode with the app identity's role and a fresh token as password."""
    from urllib.parse import quote, urlsplit, urlunsplit

    settings = get_settings()
    if settings.database_auth != "entra":
        return url
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)
    token = credential.get_token("https://ossrdbms-aad.database.windows.net/.default").token
    parts = urlsplit(url)
    user = quote(settings.database_entra_user or "", safe="")
    netloc = f"{user}:{quote(token, safe='')}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
