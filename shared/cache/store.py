"""Redis cache (a cache only: losing it loses nothing, see docs/architecture.md "Data rules").

One `redis.asyncio` client per process, created lazily in the running loop. Keys carry the
`REDIS_KEY_PREFIX` (tests use a unique prefix each). With REDIS_AUTH=entra the client
authenticates with the app's managed identity through redis-entraid's credential provider
(tokens refreshed in the background); otherwise the URL's password, if any, is used.

On top of it, cache-aside for the catalog (docs/cache.md): `get_or_load` (one round trip on a
hit, single-flight on a miss), `invalidate(*tags)` after a write commits, and a circuit
breaker so a dead or slow Redis means "read from PostgreSQL", never an error.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from shared.cache.breaker import CircuitBreaker
from shared.cache.pipeline import ReadPipeline
from shared.cache.scripts import LOCK_FREE, LOCK_HELD, READ_LUA, STORE_LUA, cache_keys, tag_key
from shared.platform.config import get_settings
from shared.platform.logs import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

    from shared.platform.settings_model import Settings

REDIS_ENTRA_RESOURCE = "https://redis.azure.com"

_client: Redis | None = None
_client_loop: asyncio.AbstractEventLoop | None = None
_reads: ReadPipeline | None = None


def key(*parts: str) -> str:
    return get_settings().redis_key_prefix + ":".join(parts)


def _credential_provider(settings: Settings):
    from redis_entraid.cred_provider import create_from_managed_identity
    from redis_entraid.identity_provider import ManagedIdentityIdType, ManagedIdentityType

    if settings.azure_client_id:
        return create_from_managed_identity(
            identity_type=ManagedIdentityType.USER_ASSIGNED,
            resource=REDIS_ENTRA_RESOURCE,
            id_type=ManagedIdentityIdType.CLIENT_ID,
            id_value=settings.azure_client_id,
        )
    return create_from_managed_identity(
        identity_type=ManagedIdentityType.SYSTEM_ASSIGNED, resource=REDIS_ENTRA_RESOURCE
    )


def redis_client() -> Redis:
    global _client, _client_loop
    loop = asyncio.get_running_loop()
    if _client is None or _client_loop is not loop:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        settings = get_settings()
        extra = {}
        if settings.redis_auth == "entra":
            extra["credential_provider"] = _credential_provider(settings)
        _client = Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_timeout_ms / 1000,
            socket_connect_timeout=settings.redis_connect_timeout_ms / 1000,
            health_check_interval=30,
            # One immediate retry heals a pooled connection a Redis restart broke; the
            # default (10 retries with back-off) would turn a dead Redis into seconds per call.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            **extra,
        )
        _client_loop = loop
    return _client


def read_pipeline() -> ReadPipeline:
    """The client's auto-pipeline for hit-path MGETs (shared/cache/pipeline.py)."""
    global _reads
    client = redis_client()
    if _reads is None or _reads.client is not client:
        _reads = ReadPipeline(client)
    return _reads


async def ping() -> bool:
    return bool(await redis_client().ping())


async def close_cache() -> None:
    """Close the client and forget this process's cache state (breaker, flights, scripts)."""
    global _client, _client_loop, _breaker, _scripts, _reads
    client, _client, _client_loop, _reads = _client, None, None, None
    _breaker, _scripts = None, None
    _flights.clear()
    _pending_tags.clear()
    if client is not None:
        await client.aclose()


# ---- cache-aside for the catalog (Redis side: shared/cache/scripts.py) -----------------

SCHEMA_VERSION = "v1"
POLL_FIRST_SECONDS = 0.005
POLL_MAX_SECONDS = 0.05

log = get_logger("cache")
Load = Callable[[], Awaitable["bytes | None"]]

_breaker: CircuitBreaker | None = None
_scripts: tuple[Redis, AsyncScript, AsyncScript] | None = None
_flights: dict[str, asyncio.Future] = {}  # key -> the in-process read in progress
_pending_tags: set[str] = set()  # invalidations Redis did not take; applied before next read
_background: set[asyncio.Task] = set()
# The breaker's clock, read when the breaker is made: a test passes a fake one to end the
# cooldown without waiting it out.
breaker_clock: Callable[[], float] = time.monotonic


def versioned_key(*parts: str) -> str:
    return key(SCHEMA_VERSION, *parts)


def breaker_state() -> str:
    """'closed', 'open' or 'half_open' (for health and readiness reports)."""
    return _get_breaker().state


def _get_breaker() -> CircuitBreaker:
    global _breaker
    if _breaker is None:
        settings = get_settings()
        _breaker = CircuitBreaker(
            failures=settings.cache_breaker_failures,
            cooldown=settings.cache_breaker_cooldown_seconds,
            clock=breaker_clock,
        )
    return _breaker


def _token() -> str:
    return os.urandom(8).hex()


def _script_pair() -> tuple[AsyncScript, AsyncScript]:
    global _scripts
    client = redis_client()
    if _scripts is None or _scripts[0] is not client:
        _scripts = (client, client.register_script(READ_LUA), client.register_script(STORE_LUA))
    return _scripts[1], _scripts[2]


def _cache_keys(value_key: str, tags: Sequence[str]) -> list[str]:
    return cache_keys(get_settings().redis_key_prefix, value_key, tags)


async def _guarded(call: Callable[[], Awaitable[Any]]) -> Any:
    """Run one Redis call through the breaker; None if skipped or failed (bypass, no error)."""
    breaker = _get_breaker()
    if not breaker.allow():
        return None
    try:
        result = await call()
    except asyncio.CancelledError:
        breaker.abandon()
        raise
    except Exception as exc:  # noqa: BLE001 - any Redis trouble means bypass, never an error
        was = breaker.state
        breaker.record_failure()
        if breaker.state != was:
            log.warning("cache breaker open for %ss after %s: %s", breaker.cooldown, type(exc).__name__, exc)
        return None
    if breaker.state != "closed":
        log.info("cache breaker closed: Redis answers again")
    breaker.record_success()
    return result


async def _read(keys: list[str], lock_token: str) -> Any:
    lock_ms, seed = get_settings().cache_lock_ttl_ms, lock_token or _token()  # seed: unique per call
    return await _guarded(lambda: _script_pair()[0](keys=keys, args=[lock_token, lock_ms, seed]))


async def _store(keys: list[str], stamp: bytes, lock_token: str, ttl: float, value: bytes | None) -> None:
    args: list[Any] = [stamp, lock_token, max(1, int(ttl * 1000))]
    if value is not None:
        args.append(value)
    await _guarded(lambda: _script_pair()[1](keys=keys, args=args))


async def get_or_load(key: str, *, ttl: float, load: Load, tags: Sequence[str] = ()) -> bytes | None:
    """The cached bytes for `key`, else `load()`'s (stored for `ttl` seconds unless None).

    Concurrent callers in this process share one read; across processes a Redis lock lets one
    caller load while the others wait for its value. Redis trouble: `load()` is called directly.
    `tags` name what the value depends on; `invalidate(tag)` after a write makes it reload.
    """
    loop = asyncio.get_running_loop()
    flight = _flights.get(key)
    if flight is not None and flight.get_loop() is loop:
        return await _join(flight, load)
    flight = _flights[key] = loop.create_future()
    try:
        value = await _fetch(key, ttl=ttl, load=load, tags=tags)
    except BaseException as exc:
        _settle_failed(flight, exc)
        raise
    else:
        flight.set_result(value)
    finally:
        if _flights.get(key) is flight:
            del _flights[key]
    return value


def _settle_failed(flight: asyncio.Future, exc: BaseException) -> None:
    if isinstance(exc, asyncio.CancelledError):
        flight.cancel()
    else:
        flight.set_exception(exc)
        flight.exception()  # marks it retrieved: no "never retrieved" warning without waiters


async def _join(flight: asyncio.Future, load: Load) -> bytes | None:
    try:
        return await asyncio.shield(flight)
    except asyncio.CancelledError:
        # The leader's request was cancelled, not ours: load for ourselves.
        ours = asyncio.current_task()  # never None inside a coroutine
        if flight.cancelled() and ours is not None and not ours.cancelling():
            return await load()
        raise


async def _fetch(key: str, *, ttl: float, load: Load, tags: Sequence[str]) -> bytes | None:
    """One caller's read: a hit, or another process's load waited for, or a load under the lock."""
    if _pending_tags and not await _apply_pending_invalidations():
        return await load()  # a write of this process is not in Redis yet: serve nothing cached
    keys = _cache_keys(key, tags)
    values = await _guarded(lambda: read_pipeline().mget([keys[0], *keys[2:]]))
    if values is None:  # Redis trouble (or the breaker is open): bypass
        return await load()
    hit = _valid_hit(values)
    if hit is not None:
        return hit
    lock_token = _token()
    found = await _read(keys, lock_token)
    if found is None:
        return await load()
    if found[0] == 1:
        return found[1]
    if found[2] == LOCK_HELD:  # another process is loading this key: wait for its value
        lock_token, found = "", await _wait_for_other(keys)
        if found is None:
            return await load()
        if found[0] == 1:
            return found[1]
    return await _load_and_store(keys, found[1], lock_token, ttl=ttl, load=load)


def _valid_hit(values: list[bytes | None]) -> bytes | None:
    """The hit path is one plain MGET of the value and its tag generations (read atomically;
    cheaper for Redis than the read script, measured on the cached product page): the value
    counts only when its stamp equals the current generations. Anything else goes on to the
    read script, which takes the lock and creates missing generations."""
    if values[0] is None or any(g is None for g in values[1:]):
        return None
    stamp = b",".join(values[1:]) + b"|"  # type: ignore[arg-type]  # no None: checked just above
    return values[0][len(stamp) :] if values[0].startswith(stamp) else None


async def _wait_for_other(keys: list[str]) -> Any:
    """Poll until the value appears or the lock is gone or has had its whole TTL."""
    deadline = time.monotonic() + get_settings().cache_lock_ttl_ms / 1000
    delay = POLL_FIRST_SECONDS
    while True:
        await asyncio.sleep(delay)
        found = await _read(keys, "")
        if found is None or found[0] == 1 or found[2] == LOCK_FREE or time.monotonic() >= deadline:
            return found
        delay = min(delay * 2, POLL_MAX_SECONDS)


async def _load_and_store(keys: list[str], stamp: bytes, lock_token: str, *, ttl: float, load: Load) -> bytes | None:
    try:
        value = await load()
    except BaseException:
        if lock_token:  # free the lock now rather than make other processes wait out its TTL
            _in_background(_store(keys, stamp, lock_token, ttl, None))
        raise
    if value is not None or lock_token:
        await _store(keys, stamp, lock_token, ttl, value)
    return value


def _in_background(coro: Awaitable[None]) -> None:
    task = asyncio.ensure_future(coro)
    _background.add(task)  # keep a reference until it is done
    task.add_done_callback(_background.discard)


async def invalidate(*tags: str) -> None:
    """Call after the write's transaction commits: every value carrying one of `tags` reloads.

    Never raises. If Redis does not take it, a warning is logged, this process serves nothing
    from the cache until Redis takes it, and other processes may serve the old value until its
    TTL ends (docs/cache.md, "When Redis is down").
    """
    if not tags:
        return
    _flights.clear()  # readers from now on must not join a read that began before this write
    _pending_tags.update(tags)
    if not await _apply_pending_invalidations(force=True):
        log.warning(
            "cache invalidation of %s did not reach Redis; cached values may be stale until they expire",
            ", ".join(sorted(tags)),
        )


async def _apply_pending_invalidations(*, force: bool = False) -> bool:
    """New generations for every pending tag, in one MSET. False if Redis did not take them."""
    tags = tuple(_pending_tags)
    prefix = get_settings().redis_key_prefix
    generations = {tag_key(prefix, tag): _token() for tag in tags}
    try:
        if force:  # a writer always tries, even with the breaker open: staleness is worse
            await redis_client().mset(generations)
        elif await _guarded(lambda: redis_client().mset(generations)) is None:
            return False
    except Exception:  # noqa: BLE001 - logged by the caller; the tags stay pending
        return False
    _pending_tags.difference_update(tags)
    return True
