"""Throughput: an authenticated, database-backed list call against an empty function.

    python -m bench.throughput [--concurrency 32] [--seconds 5] [--rounds 3]

Starts the dev host as a child process on a fresh, migrated database, seeds 10 addresses for
one customer, then drives `GET /api/health` (no I/O) and `GET /api/me/addresses` (token check,
PostgreSQL keyset page of 10 rows) from this process with `concurrency` keep-alive clients.
Rounds are interleaved (health, addresses, health, …) so both endpoints see the same machine
conditions, and the figure is the ratio of the two throughputs. Target: ≥ 0.5.

Exit status: 0 whether or not the target is met (this is a measurement); 1 if any request
failed (non-2xx or a client error), since then the numbers mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid

import httpx

from bench.harness import Stats, Target, bench_database, client_session, cpu_columns, dev_host, run_cli, run_round
from scripts.dev import provision, say
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, mint_token
from scripts.migrate import migrate_up

TARGET_RATIO = 0.5
SEED_ADDRESSES = 10
WARMUP_SECONDS = 1.0
BENCH_SUB = "bench-user"
ADDRESS = {
    "label": "Home",
    "first_name": "Sara",
    "last_name": "Al-Harbi",
    "mobile": "0501234567",
    "street": "King Fahd Road",
    "city": "Riyadh",
}
HEALTH, ADDRESSES = "GET /api/health", "GET /api/me/addresses"


# --- seed ----------------------------------------------------------------------------------


def seed(base_url: str, headers: dict[str, str]) -> None:
    """10 addresses, so every list call returns a realistic page, and check the list works."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for _ in range(SEED_ADDRESSES):
            created = client.post("/api/me/addresses", json=ADDRESS)
            if created.status_code != 201:
                raise SystemExit(f"seeding failed: POST /api/me/addresses -> {created.status_code}\n{created.text}")
        listed = client.get("/api/me/addresses")
    items = listed.json().get("items", []) if listed.status_code == 200 else []
    if len(items) != SEED_ADDRESSES:
        raise SystemExit(
            f"GET /api/me/addresses -> {listed.status_code} with {len(items)} items "
            f"(expected {SEED_ADDRESSES})\n{listed.text}"
        )


# --- load ----------------------------------------------------------------------------------


async def measure(targets: list[Target], args: argparse.Namespace, server_pid: int) -> dict[str, Stats]:
    results = {target.name: Stats() for target in targets}
    async with client_session(args.concurrency) as session:
        for target in targets:  # warm-up: connections, JWKS fetch, DB pool, code paths; not counted
            warmup = Stats()
            await run_round(session, target, args.concurrency, WARMUP_SECONDS, warmup, server_pid)
            if warmup.failures or warmup.errors:
                results[target.name] = warmup  # report the warm-up failure, measure nothing
                return results
        for round_number in range(args.rounds):
            for target in targets:  # interleaved: drift on the shared machine hits both alike
                stats = results[target.name]
                await run_round(session, target, args.concurrency, args.seconds, stats, server_pid)
                if stats.failures or stats.errors:
                    return results
            say(f"round {round_number + 1}/{args.rounds} done")
    return results


# --- report --------------------------------------------------------------------------------


def report(results: dict[str, Stats], args: argparse.Namespace) -> int:
    print(
        f"\nconcurrency {args.concurrency} · {args.seconds:g} s per round · {args.rounds} rounds "
        f"per endpoint (interleaved) · {os.cpu_count()} CPUs"
    )
    print(
        f"{'endpoint':<24}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>9}{'requests':>11}{'errors':>8}"
        f"{'client cpu':>12}{'host cpu':>10}{'db cpu':>9}"
    )
    for name, s in results.items():
        client, server, database = cpu_columns(s)
        print(
            f"{name:<24}{s.rate:>9.1f}{s.percentile_ms(0.50):>10.1f}{s.percentile_ms(0.99):>9.1f}"
            f"{s.ok:>11}{s.failures + s.errors:>8}{client:>11.0f}%{server:>9.0f}%{database:>8.0f}%"
        )
    failed = {name: s for name, s in results.items() if s.failures or s.errors}
    for name, s in failed.items():
        print(f"FAILED {name}: {s.failures} non-2xx, {s.errors} client errors; first: {s.first_failure}")
    if failed:
        return 1
    ratio = results[ADDRESSES].rate / results[HEALTH].rate if results[HEALTH].rate else float("nan")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"ratio addresses/health: {ratio:.2f}  (target >= {TARGET_RATIO}: {verdict})")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive clients (default 32)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint (default 3)")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.seconds <= 0 or args.rounds < 1:
        parser.error("--concurrency, --seconds and --rounds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    run_id = uuid.uuid4().hex[:8]
    with bench_database(os.environ["DATABASE_URL"], f"souq_bench_{run_id}") as database_url:
        migrate_up(database_url)
        with dev_host(database_url, run_id) as host:
            say(f"dev host at {host.base_url} (log {host.log_path})")
            token = mint_token(role="customer", sub=BENCH_SUB, issuer=DEV_ISSUER, audience=DEV_AUDIENCE)
            auth = {"Authorization": f"Bearer {token}"}
            seed(host.base_url, auth)
            targets = [
                Target(HEALTH, f"{host.base_url}/api/health", {}),
                Target(ADDRESSES, f"{host.base_url}/api/me/addresses", auth),
            ]
            results = asyncio.run(measure(targets, args, host.process.pid))
    return report(results, args)


if __name__ == "__main__":
    run_cli(main, "dev host stopped, bench database dropped")
