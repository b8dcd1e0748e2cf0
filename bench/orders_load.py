"""The loads bench.orders compares: pgbench running the bare reserve transaction, the placement
service called in-process by concurrent tasks, and HTTP clients posting orders to the dev host."""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import aiohttp
import psycopg

from bench.harness import Stats, client_session, cpu_metered
from scripts.pg_cluster import server_bindir

RESERVE_SCRIPT = Path(__file__).with_name("reserve.pgbench")
Body = Callable[[], dict]  # the next order's JSON body

# The scratch table pgbench inserts into: the shape of reservations (defaults, CHECKs, unique
# order_item_id, indexes) and its foreign key to offers; no order_items to point at (README).
CREATE_SCRATCH = """
CREATE TABLE IF NOT EXISTS bench_reservations (LIKE reservations INCLUDING ALL);
ALTER TABLE bench_reservations DROP CONSTRAINT IF EXISTS bench_reservations_offer_fk;
ALTER TABLE bench_reservations ADD CONSTRAINT bench_reservations_offer_fk FOREIGN KEY (offer_id) REFERENCES offers (id);
TRUNCATE bench_reservations;  -- an interrupted run's rows: the offers were reset since
"""
# What pgbench reserved goes back: reserved = sum of ACTIVE reservations holds again.
UNDO_PGBENCH = """
UPDATE offers SET reserved = reserved - (SELECT coalesce(sum(quantity), 0) FROM bench_reservations)
WHERE id = %(offer)s
"""


def create_scratch_table(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(CREATE_SCRATCH)


def undo_pgbench(database_url: str, offer_id: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("LOCK TABLE bench_reservations")
        conn.execute(UNDO_PGBENCH, {"offer": offer_id})
        conn.execute("TRUNCATE bench_reservations")


# --- pgbench -------------------------------------------------------------------------------


def run_pgbench(
    database_url: str,
    script: Path,
    variables: dict[str, str],
    clients: int,
    seconds: int,
    stats: Stats,
    *,
    transactions: int | None = None,
) -> None:
    """One pgbench round of `seconds` (or `transactions` per client); transactions, elapsed time
    and each transaction's latency go to `stats`."""
    length = ["-t", str(transactions)] if transactions else ["-T", str(seconds)]
    with tempfile.TemporaryDirectory(prefix="souq-pgbench-") as logs:
        command = [
            *(str(server_bindir() / "pgbench"), "-n", "-M", "prepared", "-c", str(clients), "-j", "2", *length),
            *("-f", str(script), "-l", "--log-prefix", f"{logs}/latency"),
            *(f"-D{name}={value}" for name, value in variables.items()),
            database_url,
        ]
        for _attempt in range(3):  # the server is shared: others' connections may leave no room for 64 for a moment
            started = time.perf_counter()
            with cpu_metered(stats):  # this process idles meanwhile; pgbench's own CPU is not counted
                done = subprocess.run(command, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - started
            if "too many clients" not in done.stderr:
                break
            time.sleep(2)
        latencies = logged_latencies(Path(logs))
    count_round(done, elapsed, latencies, stats)


def count_round(done: subprocess.CompletedProcess[str], elapsed: float, latencies: list[float], stats: Stats) -> None:
    """A pgbench round's transactions, time and latencies into `stats`, or its failure."""
    processed = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    if done.returncode != 0 or not processed or (failed and int(failed.group(1))):
        stats.errors += 1
        stats.first_failure = stats.first_failure or f"pgbench exit {done.returncode}: {done.stderr[-500:]}"
        return
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    stats.ok += int(processed.group(1))
    stats.latencies += latencies
    # pgbench's own clock (excludes connecting 64 clients); ours only if it did not print one
    stats.seconds += int(processed.group(1)) / float(tps.group(1)) if tps else elapsed


def logged_latencies(directory: Path) -> list[float]:
    """Seconds per transaction from pgbench's -l logs (one file per thread; the 3rd field is µs)."""
    return [int(line.split()[2]) / 1e6 for log in directory.iterdir() for line in log.read_text().splitlines()]


# --- the service, in-process -----------------------------------------------------------------


async def service_round(place: Callable[[int], Awaitable[object]], clients: int, seconds: float, stats: Stats) -> None:
    """`clients` tasks call `place(client)` (an awaitable order placement) until the deadline."""
    started = time.perf_counter()
    deadline = started + seconds

    async def task(client: int) -> None:
        while time.perf_counter() < deadline:
            begun = time.perf_counter()
            try:
                await place(client)
            except Exception as exc:  # noqa: BLE001 - any failure voids the figure; say which
                stats.errors += 1
                stats.first_failure = stats.first_failure or f"{type(exc).__name__}: {exc}"
                return
            stats.ok += 1
            stats.latencies.append(time.perf_counter() - begun)

    with cpu_metered(stats):
        await asyncio.gather(*(task(client) for client in range(clients)))
    stats.seconds += time.perf_counter() - started


# --- HTTP ------------------------------------------------------------------------------------


async def post_worker(
    session: aiohttp.ClientSession, url: str, auth: dict[str, str], body: Body, deadline: float, stats: Stats
) -> None:
    """One shopper (its own token) posting orders, each with a fresh Idempotency-Key."""
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        headers = auth | {"Idempotency-Key": str(uuid.uuid4())}
        try:
            async with session.post(url, json=body(), headers=headers) as response:
                text = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            stats.errors += 1
            stats.first_failure = stats.first_failure or f"{type(exc).__name__}: {exc}"
            return
        if status == 201:
            stats.ok += 1
            stats.latencies.append(time.perf_counter() - started)
        else:
            stats.failures += 1
            stats.first_failure = stats.first_failure or f"HTTP {status}: {text[:500].decode(errors='replace')}"


async def http_round(
    url: str, auths: list[dict[str, str]], body: Body, seconds: float, stats: Stats, server_pid: int
) -> None:
    """One client per token, all posting until the deadline. Connections are new each round: the
    host closes keep-alive connections idle for 5 s, as they are while the other loads run."""
    with cpu_metered(stats, server_pid):
        started = time.perf_counter()
        deadline = started + seconds
        async with client_session(len(auths)) as session:
            await asyncio.gather(*(post_worker(session, url, auth, body, deadline, stats) for auth in auths))
        stats.seconds += time.perf_counter() - started


# --- statements per order ------------------------------------------------------------------


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every statement sent through psycopg's async cursors (connection.execute included)."""
    counted: list[str] = []
    original = psycopg.AsyncCursor.execute

    async def counting(self, query, *args, **kwargs):
        counted.append(str(query))
        return await original(self, query, *args, **kwargs)

    with mock.patch.object(psycopg.AsyncCursor, "execute", counting):
        yield counted
