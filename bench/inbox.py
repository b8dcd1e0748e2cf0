"""Inbox: Meta webhook intake against bare queue sends, and inbound webhook → visible to agents.

    python -m bench.inbox [--concurrency 16] [--seconds 5] [--rounds 3] [--messages 40] [--rate 4]

1. Intake throughput, in rounds interleaved with its baseline (same machine conditions):
   `POST /api/webhooks/meta` on the dev host, each request a new signed delivery of 10 message
   events (HTTP → X-Hub-Signature-256 checked against the page's app secret → the raw body
   sent to Azurite's channel-inbound queue → 200), against bare `azure-storage-queue`
   `send_message` calls of the same bodies to Azurite from this process at the same
   concurrency. The figure is intake ÷ bare sends. Target: ≥ 0.5.
2. End to end: `--messages` signed one-message deliveries at `--rate` per second into one
   conversation; the time from the webhook's 200 to the first poll of one agent
   (`GET /api/inbox/conversations/{id}/messages?after=`, every 20 ms) that shows it
   (`on_channel_delivery` polls the queue every ≤ 100 ms here). p50 and p95.

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
from shared.inbox.rules import meta_signature

APP_SECRET = "bench-meta-app-secret"
PAGE = "bench-page"
PSID = "bench-psid"
EVENTS_PER_DELIVERY = 10
POLL_SECONDS = 0.02
# A key for this run's connection secrets only (the dev host seals and opens them with it).
BENCH_KEY = "bench1:YmVuY2gtb25seS1jaGFubmVsLXNlY3JldHMta2V5ISE="


def delivery(events: int = EVENTS_PER_DELIVERY, psid: str = PSID) -> tuple[bytes, list[str]]:
    """A signed-to-be Messenger delivery of `events` new messages, and their mids."""
    mids = [f"m_{uuid.uuid4().hex}" for _ in range(events)]
    now = int(time.time() * 1000)
    messaging = [
        {"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": now, "message": {"mid": mid, "text": "Hi"}}
        for mid in mids
    ]
    body = {"object": "page", "entry": [{"id": PAGE, "time": now, "messaging": messaging}]}
    return json.dumps(body).encode(), mids


def signed(body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", "x-hub-signature-256": meta_signature(APP_SECRET, body)}


def admin_headers() -> dict[str, str]:
    token = mint_token(role="admin", sub="bench-agent", issuer=DEV_ISSUER, audience=DEV_AUDIENCE)
    return {"Authorization": f"Bearer {token}"}


async def connect_page(client: httpx.AsyncClient) -> None:
    body = {
        "kind": "MESSENGER",
        "external_id": PAGE,
        "display_name": "Bench page",
        "secrets": {"app_secret": APP_SECRET, "page_access_token": "bench", "verify_token": "bench"},
    }
    response = await client.post("/api/inbox/connections", json=body, headers=admin_headers())
    if response.status_code not in (201, 409):
        raise RuntimeError(f"connection: HTTP {response.status_code}: {response.text[:300]}")


async def inbox_intake(base_url: str, queue_name: str, args: argparse.Namespace) -> dict[str, Stats]:
    async with intake_client(base_url, args) as client:
        await connect_page(client)

        async def webhook() -> None:
            body, _ = delivery()
            response = await client.post("/api/webhooks/meta", content=body, headers=signed(body))
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")

        return await intake_ratio(client, queue_name, args, webhook, lambda: delivery()[0].decode())


async def end_to_end(base_url: str, args: argparse.Namespace) -> Stats:
    """`--messages` deliveries at `--rate` per second, one agent polling the conversation (as
    an agent's screen does); time from each webhook's 200 to the poll that first shows it."""
    stats = Stats()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await connect_page(client)
        conversation = await _first_conversation(client)
        accepted: dict[str, float] = {}
        started = time.perf_counter()
        poller = asyncio.create_task(_poll(client, conversation, accepted, args.messages, stats))
        senders: list[asyncio.Task[None]] = []
        for _ in range(args.messages):
            await asyncio.sleep(max(0.0, started + len(senders) / args.rate - time.perf_counter()))
            senders.append(asyncio.create_task(_send_one(client, accepted, stats)))
        await asyncio.gather(*senders)
        await poller
        stats.seconds = time.perf_counter() - started
    return stats


async def _first_conversation(client: httpx.AsyncClient) -> str:
    """The conversation the timed messages land in (opened by a first, untimed message)."""
    body, _ = delivery(1)
    await client.post("/api/webhooks/meta", content=body, headers=signed(body))
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        page = (await client.get("/api/inbox/conversations", headers=admin_headers())).json()
        if page["items"]:
            return str(page["items"][0]["id"])
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError("the first message never opened a conversation")


async def _send_one(client: httpx.AsyncClient, accepted: dict[str, float], stats: Stats) -> None:
    body, (mid,) = delivery(1)
    response = await client.post("/api/webhooks/meta", content=body, headers=signed(body))
    if response.status_code != 200:
        stats.failures += 1
        stats.first_failure = stats.first_failure or f"webhook: {response.status_code} {response.text[:200]}"
        return
    accepted[mid] = time.perf_counter()


async def _poll(
    client: httpx.AsyncClient, conversation: str, accepted: dict[str, float], expected: int, stats: Stats
) -> None:
    path, headers = f"/api/inbox/conversations/{conversation}/messages", admin_headers()
    after = (await client.get(path, params={"limit": "1"}, headers=headers)).json()["next_after"] or 0
    seen: set[str] = set()
    deadline = time.perf_counter() + 60 + expected
    while len(seen) + stats.failures < expected and time.perf_counter() < deadline:
        page = (await client.get(path, params={"after": str(after), "limit": "100"}, headers=headers)).json()
        now = time.perf_counter()
        for item in page["items"]:
            mid = item["external_id"]
            if mid in accepted and mid not in seen:
                seen.add(mid)
                stats.ok += 1
                stats.latencies.append(now - accepted[mid])
        after = page["next_after"] or after
        await asyncio.sleep(POLL_SECONDS)
    if len(seen) + stats.failures < expected:
        stats.failures += expected - len(seen) - stats.failures
        stats.first_failure = stats.first_failure or f"{expected - len(seen)} message(s) never visible"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return intake_arguments("python -m bench.inbox", __doc__.splitlines()[0], "messages").parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    run_id = uuid.uuid4().hex[:8]
    queue = f"bench-channel-inbound-{run_id}"
    with bench_database(os.environ["DATABASE_URL"], f"souq_bench_{run_id}") as database_url:
        migrate_up(database_url)
        settings = {"CHANNEL_SECRETS_KEY": BENCH_KEY, "CHANNEL_INBOUND_QUEUE": queue}
        with dev_host(database_url, run_id, settings) as host:
            say(f"dev host at {host.base_url} (no queues): intake")
            intake = asyncio.run(inbox_intake(host.base_url, queue, args))
        settings |= {
            "CHANNEL_INBOUND_QUEUE": f"{queue}-e2e",
            "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.1",
        }
        with dev_host(database_url, run_id, settings, queues=True) as host:
            say(f"dev host at {host.base_url} (queues on): end to end")
            e2e = asyncio.run(end_to_end(host.base_url, args))
    return report(
        intake,
        e2e,
        args,
        "webhook → visible to agent",
        "inbound webhook → visible in the agent API at {rate} messages/s",
    )


if __name__ == "__main__":
    run_cli(main, "dev host stopped, bench database dropped")
