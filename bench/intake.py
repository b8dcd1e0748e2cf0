"""Webhook intake against bare queue sends: the harness bench.payments and bench.inbox share.

Intake throughput is measured in rounds interleaved with its baseline (same machine
conditions): the dev host's webhook route (verify → store or not → queue → 200) against bare
`azure-storage-queue` `send_message` calls of comparable bodies to Azurite from this process, at
the same concurrency. The figure is intake ÷ bare sends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.harness import Stats
from scripts.dev import say

TARGET_RATIO = 0.5
INTAKE, BARE = "webhook intake", "bare queue sends"
Send = Callable[[], Awaitable[None]]


async def _loop(send: Send, deadline: float, stats: Stats) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            await send()
        except Exception as error:  # noqa: BLE001 - counted and reported, the run is void
            stats.failures += 1
            stats.first_failure = stats.first_failure or f"{type(error).__name__}: {error}"
            return
        stats.ok += 1
        stats.latencies.append(time.perf_counter() - started)


async def timed_round(send: Send, concurrency: int, seconds: float, stats: Stats) -> None:
    started = time.perf_counter()
    await asyncio.gather(*(_loop(send, started + seconds, stats) for _ in range(concurrency)))
    stats.seconds += time.perf_counter() - started


async def intake_ratio(
    client: httpx.AsyncClient, queue_name: str, args: argparse.Namespace, webhook: Send, bare_body: Callable[[], str]
) -> dict[str, Stats]:
    """`webhook` (through `client`) and bare sends of `bare_body()`, round after round."""
    from azure.storage.queue.aio import QueueClient

    from shared.storage import AZURITE_CONNECTION_STRING, encode_queue_message

    results = {INTAKE: Stats(), BARE: Stats()}
    async with QueueClient.from_connection_string(AZURITE_CONNECTION_STRING, f"{queue_name}-bare") as queue:
        await queue.create_queue()

        async def bare() -> None:
            await queue.send_message(encode_queue_message(bare_body()))

        for send in (webhook, bare):  # warm-up, not counted
            await timed_round(send, args.concurrency, 1.0, Stats())
        for number in range(args.rounds):
            await timed_round(webhook, args.concurrency, args.seconds, results[INTAKE])
            await timed_round(bare, args.concurrency, args.seconds, results[BARE])
            say(f"intake round {number + 1}/{args.rounds} done")
        await queue.delete_queue()
    return results


def intake_client(base_url: str, args: argparse.Namespace) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30)


def report(intake: dict[str, Stats], e2e: Stats, args: argparse.Namespace, e2e_name: str, e2e_line: str) -> int:
    """The table, then intake ÷ bare against the target and the end-to-end percentiles
    (`e2e_line` names them, with `{rate}`); 1 when anything failed (the numbers then mean nothing)."""
    print(f"\nintake: concurrency {args.concurrency} · {args.seconds:g} s per round · {args.rounds} rounds · "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    width = max(22, len(e2e_name) + 2)
    print(f"{'what':<{width}}{'per s':>9}{'p50 ms':>10}{'p95 ms':>9}{'count':>8}{'failed':>8}")
    for name, s in [*intake.items(), (e2e_name, e2e)]:
        print(
            f"{name:<{width}}{s.rate:>9.1f}{s.percentile_ms(0.50):>10.1f}{s.percentile_ms(0.95):>9.1f}"
            f"{s.ok:>8}{s.failures:>8}"
        )
    failed = [(name, s) for name, s in [*intake.items(), ("end to end", e2e)] if s.failures]
    for name, s in failed:
        print(f"FAILED {name}: {s.first_failure}")
    if failed:
        return 1
    ratio = intake[INTAKE].rate / intake[BARE].rate
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"ratio intake/bare sends: {ratio:.2f}  (target >= {TARGET_RATIO}: {verdict})")
    p50, p95 = e2e.percentile_ms(0.5), e2e.percentile_ms(0.95)
    print(f"{e2e_line.format(rate=f'{args.rate:g}')}: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    return 0


def intake_arguments(prog: str, description: str, timed: str) -> argparse.ArgumentParser:
    """The options both benches take; `timed` names what the end-to-end part counts."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent intake clients (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one intake round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="intake rounds of each kind (default 3)")
    parser.add_argument(f"--{timed}", type=int, default=40, help=f"{timed} timed end to end (default 40)")
    parser.add_argument("--rate", type=float, default=4.0, help=f"{timed} sent per second (default 4)")
    return parser
