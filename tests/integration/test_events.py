"""Outbox relay to a real Azurite queue and the idempotent consumer."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from shared.events import consumer, relay
from shared.events.models import AggregateNotVisible
from shared.events.repo import CLAIM_UNPUBLISHED_AGGREGATES
from shared.storage import queue_client
from shared.users.service import EVENT_CONSUMERS
from tests.support import bearer, call


def scalar(database_url: str, query: str, *params: object):
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchone()[0]


async def drain(queue_name: str) -> list[dict]:

    await relay.wait_for_background_relay()  # requests relay in the background after commit
    client = queue_client(queue_name)
    bodies = []
    async for message in client.receive_messages(messages_per_page=32, visibility_timeout=60):
        bodies.append(json.loads(base64.b64decode(message.content)))
        await client.delete_message(message)
    return bodies


def envelope(**overrides) -> bytes:
    body = {
        "event_id": str(uuid.uuid4()),
        "event_type": "user.registered",
        "aggregate_type": "user",
        "aggregate_id": "someone",
        "payload": {},
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    return json.dumps(body | overrides).encode()


async def register_users(count: int) -> None:
    for i in range(count):
        assert (await call("get_me", "GET", "me", headers=bearer(sub=f"user-{i}")))[0] == 200


async def test_relay_sends_each_event_once_base64_encoded_and_marks_it_published(app_env, database_url):
    await register_users(3)
    await queue_client(app_env.domain_events_queue).create_queue()
    assert await relay.relay_outbox() == 3
    assert await relay.relay_outbox() == 0
    sent = await drain(app_env.domain_events_queue)
    assert [e["aggregate_id"] for e in sent] == ["user-0", "user-1", "user-2"]
    assert {e["event_type"] for e in sent} == {"user.registered"}
    assert scalar(database_url, "SELECT count(*) FROM outbox_events WHERE published_at IS NULL") == 0


async def test_concurrent_relays_never_send_an_event_twice(app_env, database_url, monkeypatch):
    monkeypatch.setenv("OUTBOX_RELAY_BATCH_SIZE", "3")
    from shared.platform.config import reset_settings

    reset_settings()
    await register_users(25)
    await queue_client(app_env.domain_events_queue).create_queue()
    everything = float("inf")  # the race is under test, not the sweep's time budget
    counts = await asyncio.gather(*(relay.relay_outbox(time_budget_seconds=everything) for _ in range(4)))
    assert sum(counts) == 25
    sent = await drain(app_env.domain_events_queue)
    assert sorted(e["aggregate_id"] for e in sent) == sorted(f"user-{i}" for i in range(25))


async def test_consumer_applies_an_event_once(app_env, database_url):
    await register_users(1)
    body = envelope(aggregate_id="user-0")
    outcomes = await asyncio.gather(
        *(consumer.consume_event(body, queue_name="q", message_id="m", consumers=EVENT_CONSUMERS) for _ in range(5))
    )
    assert sorted(outcomes) == ["duplicate"] * 4 + ["processed"]
    assert scalar(database_url, "SELECT welcomed_at IS NOT NULL FROM users WHERE id = 'user-0'") is True
    assert scalar(database_url, "SELECT count(*) FROM processed_events") == 1


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"not json", "invalid envelope"),
        (envelope(event_id="nope"), "invalid envelope"),
        (envelope(event_type="order.teleported"), "no handler for order.teleported"),
    ],
)
async def test_bad_payloads_are_recorded_and_dropped(app_env, database_url, body, reason):
    outcome = await consumer.consume_event(body, queue_name="q", message_id="m1", consumers=EVENT_CONSUMERS)
    assert outcome == "rejected"
    assert scalar(database_url, "SELECT reason FROM rejected_messages").startswith(reason)


async def test_event_for_an_unseen_aggregate_is_retryable_and_leaves_no_trace(app_env, database_url):
    with pytest.raises(AggregateNotVisible):
        await consumer.consume_event(
            envelope(aggregate_id="ghost"), queue_name="q", message_id="m", consumers=EVENT_CONSUMERS
        )
    assert scalar(database_url, "SELECT count(*) FROM processed_events") == 0


def outbox_rows_read(plan: dict) -> int:
    """Rows the plan's scans of outbox_events produced, over all their loops."""
    own = (
        plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1) if plan.get("Relation Name") == "outbox_events" else 0
    )
    return own + sum(outbox_rows_read(child) for child in plan.get("Plans", []))


def test_a_claim_reads_about_its_batch_however_large_the_backlog(database_url):
    """20,000 unpublished events (a long Storage outage): claiming 10 aggregates reads about 10
    events, not the whole backlog (migration 0005); the claim itself is rolled back."""
    backlog = 20_000
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id) "
            "SELECT 'order.placed', 'order', (n %% 5000)::text FROM generate_series(1, %s) n",
            (backlog,),
        )
        conn.execute("ANALYZE outbox_events")
        explained = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + CLAIM_UNPUBLISHED_AGGREGATES, {"limit": 10, "lease_seconds": 30}
        ).fetchone()[0]
        claimed = conn.execute(
            "SELECT count(DISTINCT aggregate_id) FROM outbox_events WHERE claimed_until > now()"
        ).fetchone()[0]
        conn.rollback()
    assert claimed == 10  # ten aggregates, each with all 4 of its events
    assert outbox_rows_read(explained[0]["Plan"]) < 200
