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
from bench.intake import intake_arguments, intake_client, intake_ratio, report
from scripts.dev import provision, say
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, mint_token
from scripts.migrate import migrate_up
from scripts.seed_catalog import seed_catalog

SECRET = "bench-sandbox-secret"
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


async def payments_intake(base_url: str, queue_name: str, args: argparse.Namespace) -> dict[str, Stats]:
    async with intake_client(base_url, args) as client:

        async def webhook() -> None:
            response = await client.post("/api/webhooks/payments/sandbox", content=webhook_body())
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")

        return await intake_ratio(client, queue_name, args, webhook, lambda: webhook_body().decode())


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return intake_arguments("python -m bench.payments", __doc__.splitlines()[0], "payments").parse_args(argv)


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
            intake = asyncio.run(payments_intake(host.base_url, queue, args))
        settings |= {
            "PAYMENT_EVENTS_QUEUE": f"{queue}-e2e",
            "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.1",
        }
        with dev_host(database_url, run_id, settings, queues=True) as host:
            say(f"dev host at {host.base_url} (queues on): end to end")
            e2e = asyncio.run(end_to_end(host.base_url, orderable_line(database_url), args))
    return report(intake, e2e, args, "webhook → CONFIRMED", "webhook → CONFIRMED at {rate} payments/s")


if __name__ == "__main__":
    run_cli(main, "dev host stopped, bench database dropped")
