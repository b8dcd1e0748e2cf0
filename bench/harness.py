"""What the benchmarks share: a database on the same server, the dev host as a child process,
keep-alive HTTP clients hammering one endpoint for a round, and what they saw (Stats)."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg
from psycopg import sql

from devhost.process import RunningHost, start_devhost
from scripts.dev import say
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER


@dataclass
class Stats:
    """What the clients saw for one endpoint, summed over its rounds."""

    ok: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, 2xx only
    failures: int = 0  # non-2xx responses
    errors: int = 0  # exceptions: refused, reset, timed out
    first_failure: str = ""
    client_cpu: float = 0.0  # CPU seconds this process spent during the rounds
    server_cpu: float = 0.0  # CPU seconds the dev host spent during the rounds
    database_cpu: float = 0.0  # CPU seconds the local PostgreSQL server spent during the rounds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else float("nan")

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.errors)


@dataclass(frozen=True)
class Target:
    """One endpoint; `url` is fixed, or a callable giving the next request's URL (varying ids)."""

    name: str
    url: str | Callable[[], str]
    headers: dict[str, str] = field(default_factory=dict)

    def next_url(self) -> str:
        return self.url if isinstance(self.url, str) else self.url()


# --- database and host -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    """Same server, another database (kept in URL form: yoyo needs one)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, dbname="postgres", autocommit=True) as conn:
        # FORCE: the host may still hold pooled connections if it had to be killed
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def bench_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh database for this run, dropped afterwards even on error or Ctrl-C."""
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


@contextmanager
def dev_host(
    database_url: str, run_id: str, extra_env: dict[str, str] | None = None, *, queues: bool = False
) -> Iterator[RunningHost]:
    """The dev host on a free port (`{port}` in an `extra_env` value is that port); timers off,
    queue triggers off unless `queues`."""
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "SOUQ_ENV": "local",
        "AUTH_ISSUER": DEV_ISSUER,
        "AUTH_AUDIENCE": DEV_AUDIENCE,
        "AUTH_JWKS_URL": f"http://127.0.0.1:{port}/.dev/jwks.json",
        "LOG_LEVEL": "WARNING",  # per-request logging would be part of what we measure
        # queues of its own: nothing left behind on the ones `make run` consumes
        "DOMAIN_EVENTS_QUEUE": f"bench-events-{run_id}",
        "ORDER_EVENTS_QUEUE": f"bench-order-events-{run_id}",
        "PAYMENT_EVENTS_QUEUE": f"bench-payment-events-{run_id}",
        "CHANNEL_INBOUND_QUEUE": f"bench-channel-inbound-{run_id}",
        "CHANNEL_OUTBOUND_QUEUE": f"bench-channel-outbound-{run_id}",
        "REDIS_KEY_PREFIX": f"bench:{run_id}:",  # a cache of its own: nothing cached before the run
    } | {name: value.replace("{port}", str(port)) for name, value in (extra_env or {}).items()}
    log_path = Path(tempfile.gettempdir()) / f"souq-bench-{run_id}.log"
    flags = ("--no-timers",) if queues else ("--no-timers", "--no-queues")
    host = start_devhost(env, port=port, log_path=log_path, extra_args=flags)
    try:
        yield host
    finally:
        host.stop()


def proc_stat(pid: int | str) -> tuple[str, list[str]]:
    """(command name, fields after it) of /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """user+system CPU of a process (Linux /proc); NaN elsewhere, the figure does not need it."""
    try:
        fields = proc_stat(pid)[1]
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def database_cpu_seconds() -> float:
    """CPU of every `postgres` process, with the children they have reaped (cutime/cstime): a
    backend that exits during a round (pgbench's connections) still counts. NaN without /proc."""
    ticks = 0
    try:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    except OSError:
        return float("nan")
    for pid in pids:
        try:
            name, fields = proc_stat(pid)
        except (OSError, ValueError):
            continue  # exited meanwhile
        if name == "postgres":
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def cpu_metered(stats: Stats, server_pid: int | None = None) -> Iterator[None]:
    """Adds this process's, the dev host's (if any) and PostgreSQL's CPU during the block to `stats`."""
    client, database = time.process_time(), database_cpu_seconds()
    server = cpu_seconds(server_pid) if server_pid else 0.0
    yield
    stats.client_cpu += time.process_time() - client
    if server_pid:
        stats.server_cpu += cpu_seconds(server_pid) - server
    stats.database_cpu += database_cpu_seconds() - database


# --- load ----------------------------------------------------------------------------------


async def worker(session: aiohttp.ClientSession, target: Target, deadline: float, stats: Stats) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            async with session.get(target.next_url(), headers=target.headers) as response:
                body = await response.read()  # read fully: the body is part of the work
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            stats.errors += 1
            stats.first_failure = stats.first_failure or f"{type(exc).__name__}: {exc}"
            return  # the run has failed already; retrying a dead host would only spin
        if 200 <= status < 300:
            stats.ok += 1
            stats.latencies.append(time.perf_counter() - started)
        else:
            stats.failures += 1
            stats.first_failure = stats.first_failure or f"HTTP {status}: {body[:500].decode(errors='replace')}"


async def run_round(
    session: aiohttp.ClientSession, target: Target, concurrency: int, seconds: float, stats: Stats, server_pid: int
) -> None:
    """All clients hammer one endpoint until the deadline; elapsed includes the last in-flight calls."""
    with cpu_metered(stats, server_pid):
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(session, target, deadline, stats) for _ in range(concurrency)))
        stats.seconds += time.perf_counter() - started


def client_session(concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)  # keep-alive
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))


def cpu_columns(stats: Stats) -> tuple[float, float, float]:
    """Percent of one CPU used by the load generator, the dev host and PostgreSQL during the rounds."""
    if not stats.seconds:
        return float("nan"), float("nan"), float("nan")
    client, server, database = (
        cpu / stats.seconds * 100 for cpu in (stats.client_cpu, stats.server_cpu, stats.database_cpu)
    )
    return client, server, database


def print_table(rows: dict[str, Stats], quantiles: tuple[float, ...] = (0.50, 0.99), width: int = 24) -> None:
    """One line per load: rate, latency percentiles, count, errors and the three CPU columns."""
    heads = "".join(f"{f'p{round(q * 100)} ms':>9}" for q in quantiles)
    print(
        f"{'load':<{width}}{'per s':>9}{heads}{'count':>9}{'errors':>8}{'client cpu':>12}{'host cpu':>10}{'db cpu':>9}"
    )
    for name, s in rows.items():
        client, server, database = cpu_columns(s)
        cells = "".join(f"{s.percentile_ms(q):>9.1f}" for q in quantiles)
        print(
            f"{name:<{width}}{s.rate:>9.1f}{cells}{s.ok:>9}{s.failures + s.errors:>8}{client:>11.0f}%{server:>9.0f}%"
            f"{database:>8.0f}%"
        )


def run_cli(main: Callable[[], int], interrupted: str) -> None:
    """A benchmark's entry point: its exit status, or 130 after Ctrl-C (its clean-up has run)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say(f"interrupted: {interrupted}")
        sys.exit(130)
