"""Payments: webhook intake against bare queue sends, and webhook → CONFIRMED latency.

    python -m bench.payments [--concurrency 16] [--seconds 5] [--rounds 3] [--payments 40] [--rate 4]

1. Intake throughput, in rounds interleaved with its baseline (same machine conditions):
   `POST /api/webhooks/payments/sandbox` on the dev host (HTTP → secret_token verified → event
   stored in PostgreSQL → message sent to Azurite → 200), each request a new event, against bare
   `azure-storage-queue` `send_message` calls to Azurite from this process at the same
   concurrency. The figure is intake ÷ bare sends. Target: ≥ 0.5.
2. End to end: orders placed and paid in the dev host's sandbox at `--rate` payments per second;
   the time from the sandbox's approval (its webhook goes to the dev host, which stores and
   queues it; `on_payment_event` polls the queue every ≤ 100 ms here, re-fetches the payment and
   confirms the order) to the first `GET /api/orders/{id}` that shows the child CONFIRMED
   (polled every 20 ms). p50 and p95.

Exit status 1 if any request failed (the numbers then mean nothing), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import httpx

from bench.harness import Stats, bench_database, dev_host, run_cli
from scripts.dev import provision, say
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, mint_token
from scripts.migrate import migrate_up
from scripts.seed_catalog import seed_catalog

TARGET_RATIO = 0.5
SECRET = "bench-sandbox-secret"
INTAKE, BARE = "webhook intake", "bare queue sends"
POLL_SECONDS = 0.02


def webhook_body() -> bytes:
    payment = {"id": str(uuid.uuid4()), "status": "paid", "amount": 100, "currency": "SAR", "metadata": {}}
    event = {
        "id": str(uuid.uuid4()),
        "type": "payment_paid",
        "created_at": "2025-01-01T00:00:00Z",
        "secret_token": SECRET,
        "account_name": "bench",
        "live": False,
        "data": payment,
    }
    return json.dumps(event).encode()


async def _loop(send, deadline: float, stats: Stats) -> None:
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


async def _round(send, concurrency: int, seconds: float, stats: Stats) -> None:
    started = time.perf_counter()
    await asyncio.gather(*(_loop(send, started + seconds, stats) for _ in range(concurrency)))
    stats.seconds += time.perf_counter() - started


async def intake_ratio(base_url: str, queue_name: str, args: argparse.Namespace) -> dict[str, Stats]:
    from azure.storage.queue.aio import QueueClient

    from shared.storage import AZURITE_CONNECTION_STRING, encode_queue_message

    results = {INTAKE: Stats(), BARE: Stats()}
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with (
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client,
        QueueClient.from_connection_string(AZURITE_CONNECTION_STRING, f"{queue_name}-bare") as queue,
    ):
        await queue.create_queue()

        async def webhook() -> None:
            response = await client.post("/api/webhooks/payments/sandbox", content=webhook_body())
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")

        async def bare() -> None:
            await queue.send_message(encode_queue_message(webhook_body().decode()))

        for send in (webhook, bare):  # warm-up, not counted
            await _round(send, args.concurrency, 1.0, Stats())
        for number in range(args.rounds):
            await _round(webhook, args.concurrency, args.seconds, results[INTAKE])
            await _round(bare, args.concurrency, args.seconds, results[BARE])
            say(f"intake round {number + 1}/{args.rounds} done")
        await queue.delete_queue()
    return results


async def end_to_end(base_url: str, order_line: dict[str, object], args: argparse.Namespace) -> Stats:
    """Place, pay and approve `--payments` orders at `--rate` per second; time approve → CONFIRMED."""
    stats = Stats()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        started = time.perf_counter()
        tasks = []
        for n in range(args.payments):
            await asyncio.sleep(max(0.0, started + n / args.rate - time.perf_counter()))
            tasks.append(asyncio.create_task(_one_payment(client, order_line, n, stats)))
        await asyncio.gather(*tasks)
        stats.seconds = time.perf_counter() - started
    return stats


# One offer of a non-prescription product, stocked so that no payment of the run runs short.
STOCK_ONE_OFFER = """
UPDATE offers SET on_hand = 1000000
WHERE id = (SELECT o.id FROM offers o JOIN variants v ON v.id = o.variant_id AND v.is_active
            JOIN products p ON p.id = v.product_id AND p.is_active AND NOT p.requires_prescription
            JOIN sellers s ON s.id = o.seller_id AND s.status = 'ACTIVE'
            WHERE o.is_active ORDER BY o.id LIMIT 1)
RETURNING variant_id, seller_id
"""


def orderable_line(database_url: str) -> dict[str, object]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(STOCK_ONE_OFFER).fetchone()
    assert row is not None, "the seeded catalog has no orderable offer"
    return {"variant_id": str(row[0]), "seller_id": str(row[1]), "quantity": 1}


async def _one_payment(client: httpx.AsyncClient, order_line: dict[str, object], n: int, stats: Stats) -> None:
    token = mint_token(role="customer", sub=f"bench-payer-{n}", issuer=DEV_ISSUER, audience=DEV_AUDIENCE)
    auth = {"Authorization": f"Bearer {token}"}
    body = {"lines": [order_line], "delivery_method": "pickup"}
    placed = await client.post("/api/orders", json=body, headers=auth | {"Idempotency-Key": str(uuid.uuid4())})
    if placed.status_code != 201:
        stats.failures += 1
        stats.first_failure = stats.first_failure or f"place: {placed.status_code} {placed.text[:200]}"
        return
    order_id = placed.json()["id"]
    payment = (await client.post(f"/api/orders/{order_id}/payments", headers=auth)).json()
    approved_at = time.perf_counter()
    await client.post(f"/.sandbox/moyasar/control/invoices/{payment['gateway_payment_id']}/approve", json={})
    deadline = approved_at + 30
    while time.perf_counter() < deadline:
        order = (await client.get(f"/api/orders/{order_id}", headers=auth)).json()
        if order["children"][0]["status"] == "CONFIRMED":
            stats.ok += 1
            stats.latencies.append(time.perf_counter() - approved_at)
            return
        await asyncio.sleep(POLL_SECONDS)
    stats.failures += 1
    stats.first_failure = stats.first_failure or f"order {order_id} not CONFIRMED after 30 s"


def report(intake: dict[str, Stats], e2e: Stats, args: argparse.Namespace) -> int:
    rounds = f"{args.seconds:g} s per round · {args.rounds} rounds"
    print(f"\nintake: concurrency {args.concurrency} · {rounds} · {os.cpu_count()} CPUs")
    print(f"{'what':<22}{'per s':>9}{'p50 ms':>10}{'p95 ms':>9}{'count':>8}{'failed':>8}")
    for name, s in [*intake.items(), ("webhook → CONFIRMED", e2e)]:
        print(
            f"{name:<22}{s.rate:>9.1f}{s.percentile_ms(0.50):>10.1f}{s.percentile_ms(0.95):>9.1f}{s.ok:>8}{s.failures:>8}"
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
    print(f"webhook → CONFIRMED at {args.rate:g} payments/s: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.payments", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent intake clients (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one intake round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="intake rounds of each kind (default 3)")
    parser.add_argument("--payments", type=int, default=40, help="payments timed end to end (default 40)")
    parser.add_argument("--rate", type=float, default=4.0, help="payments started per second (default 4)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    run_id = uuid.uuid4().hex[:8]
    queue = f"bench-payments-{run_id}"
    with bench_database(os.environ["DATABASE_URL"], f"souq_bench_{run_id}") as database_url:
        migrate_up(database_url)
        seed_catalog(database_url, products=50)
        settings = {
            "PAYMENT_GATEWAY": "sandbox",
            "SANDBOX_WEBHOOK_SECRET": SECRET,
            "PAYMENT_EVENTS_QUEUE": queue,
            "ORDER_EVENTS_QUEUE": f"bench-order-events-{run_id}",
            "SANDBOX_GATEWAY_BASE_URL": "http://127.0.0.1:{port}/.sandbox/moyasar/v1",
        }
        with dev_host(database_url, run_id, settings) as host:
            say(f"dev host at {host.base_url} (no queues): intake")
            intake = asyncio.run(intake_ratio(host.base_url, queue, args))
        settings |= {
            "PAYMENT_EVENTS_QUEUE": f"{queue}-e2e",
            "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.1",
        }
        with dev_host(database_url, run_id, settings, queues=True) as host:
            say(f"dev host at {host.base_url} (queues on): end to end")
            e2e = asyncio.run(end_to_end(host.base_url, orderable_line(database_url), args))
    return report(intake, e2e, args)


if __name__ == "__main__":
    run_cli(main, "dev host stopped, bench database dropped")
