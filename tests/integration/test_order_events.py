"""Order events through the outbox: routed to their own queue, relayed right after commit (best
effort) and by the sweep, and published in id order per order even when relays race."""

from __future__ import annotations

import asyncio
import uuid

from shared.data import db
from shared.events import relay
from shared.events.repo import record_event
from shared.platform.config import reset_settings
from shared.storage import queue_client
from tests.catalog_support import sql
from tests.integration.test_events import drain


async def record(aggregate_type: str, aggregate_id: str, event_type: str = "order.status_changed", **payload) -> None:
    async with db.transaction() as conn:
        await record_event(conn, event_type, aggregate_type=aggregate_type, aggregate_id=aggregate_id, payload=payload)


async def test_order_events_go_to_the_order_queue_and_the_rest_to_the_domain_queue(app_env, order_queue):
    await record("user", "someone", "user.registered")
    await record("order", "o-1", "order.placed", n=1)
    await queue_client(app_env.domain_events_queue).create_queue()
    assert await relay.relay_outbox() == 2
    assert [(e["event_type"], e["aggregate_id"]) for e in await drain(order_queue)] == [("order.placed", "o-1")]
    assert [e["event_type"] for e in await drain(app_env.domain_events_queue)] == ["user.registered"]


async def test_relay_after_commit_sends_at_once(app_env, order_queue, database_url):
    await record("order", "o-1", seq=0)
    assert await relay.relay_after_commit() == 1
    assert [e["payload"] for e in await drain(order_queue)] == [{"seq": 0}]
    assert sql(database_url, "SELECT count(*) FROM outbox_events WHERE published_at IS NULL") == [(0,)]


async def test_relay_after_commit_never_raises_and_the_sweep_sends_what_it_left(
    app_env, order_queue, database_url, monkeypatch
):
    for seq in range(3):
        await record("order", "o-1", seq=seq)
    real_send, calls = relay.send_event, []

    async def second_send_fails(row):
        calls.append(row.payload["seq"])
        if len(calls) == 2:
            raise ConnectionError("storage unreachable")
        await real_send(row)

    monkeypatch.setattr(relay, "send_event", second_send_fails)
    assert await relay.relay_after_commit() == 0  # logged, not raised: the caller's commit stands
    # What went out is marked; the rest is released at once rather than after the lease.
    assert sql(
        database_url,
        "SELECT payload->>'seq', published_at IS NOT NULL, claimed_until IS NULL FROM outbox_events ORDER BY id",
    ) == [("0", True, True), ("1", False, True), ("2", False, True)]
    monkeypatch.setattr(relay, "send_event", real_send)
    assert await relay.relay_outbox() == 2
    assert [e["payload"]["seq"] for e in await drain(order_queue)] == [0, 1, 2]


async def yield_turns(turns: int) -> None:
    """Lets the other tasks run `turns` times over: interleaving without waiting for time."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def test_racing_relays_publish_each_orders_events_once_and_in_id_order(
    app_env, order_queue, database_url, monkeypatch
):
    """Producers keep adding events to 8 orders (one transaction each, like transitions do)
    while 4 relays with tiny batches run; sends and producers yield a varying number of turns
    to vary the interleaving. A relay that finds nothing to send waits for the next change
    (an event recorded or published, or the producers done), not for a while."""
    monkeypatch.setenv("OUTBOX_RELAY_BATCH_SIZE", "2")
    reset_settings()
    orders, per_order = [str(uuid.uuid4()) for _ in range(8)], 12
    published: list[tuple[str, int]] = []
    changes, changed, produced = 0, asyncio.Condition(), False
    real_send = relay.send_event

    async def note_change() -> None:
        nonlocal changes
        async with changed:
            changes += 1
            changed.notify_all()

    async def recorded_send(row):
        await yield_turns(row.payload["seq"] % 4)
        await real_send(row)
        published.append((row.aggregate_id, row.payload["seq"]))
        await note_change()

    monkeypatch.setattr(relay, "send_event", recorded_send)

    async def produce(n: int, order_id: str) -> None:
        for seq in range(per_order):
            await record("order", order_id, seq=seq)
            await note_change()
            await yield_turns((n + seq) % 3)

    async def produce_all() -> None:
        nonlocal produced
        await asyncio.gather(*(produce(n, o) for n, o in enumerate(orders)))
        produced = True
        await note_change()

    def done() -> bool:
        return produced and len(published) >= len(orders) * per_order

    async def relay_until_done() -> None:
        while not done():
            seen = changes
            if await relay.relay_outbox() == 0:
                async with changed:  # nothing to send now: wait for a change since we looked
                    await changed.wait_for(lambda: changes != seen or done())  # noqa: B023 - read at once

    async with asyncio.timeout(60):  # only turns a hang into a failure
        await asyncio.gather(produce_all(), *(relay_until_done() for _ in range(4)))
    for order_id in orders:
        assert [seq for o, seq in published if o == order_id] == list(range(per_order)), order_id
    assert len(await drain(order_queue)) == len(orders) * per_order
    assert sql(database_url, "SELECT count(*) FROM outbox_events WHERE published_at IS NULL") == [(0,)]


class SteppedClock:
    """The relay's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_relay_whose_lease_runs_short_gives_back_the_rest_and_the_next_sends_it_in_order(
    app_env, order_queue, database_url, monkeypatch
):
    for seq in range(4):
        await record("order", "o-slow", seq=seq)
    clock = SteppedClock()
    monkeypatch.setattr(relay, "clock", clock)
    real_send = relay.send_event
    window = relay.repo.LEASE_SECONDS - relay.LEASE_MARGIN_SECONDS  # when no send may start any more

    async def slow_send(row):  # each send takes a bit over half the window: two fit
        await real_send(row)
        clock.now += window / 2 + 1

    monkeypatch.setattr(relay, "send_event", slow_send)
    assert await relay.relay_outbox() == 2
    state = "SELECT payload->>'seq', published_at IS NOT NULL, claimed_until IS NOT NULL FROM outbox_events ORDER BY id"
    assert sql(database_url, state) == [
        ("0", True, False),
        ("1", True, False),
        ("2", False, False),
        ("3", False, False),
    ]
    monkeypatch.setattr(relay, "send_event", real_send)
    assert await relay.relay_outbox() == 2  # the next relay at once, not after the lease
    assert [e["payload"]["seq"] for e in await drain(order_queue)] == [0, 1, 2, 3]


async def test_a_release_after_another_relay_re_claimed_leaves_that_claim_alone(app_env, database_url):
    await record("order", "o-taken-over", seq=0)
    first = await relay.repo.claim_unpublished_events(10)
    sql(database_url, "UPDATE outbox_events SET claimed_until = now() - interval '1 second'")  # first's lease lapsed
    second = await relay.repo.claim_unpublished_events(10)
    assert [e.id for e in first] == [e.id for e in second] and first[0].claimed_until != second[0].claimed_until
    await relay.repo.release_claims([first[0].id], first[0].claimed_until)  # the stalled relay gives up late
    assert await relay.repo.claim_unpublished_events(10) == []  # still the second relay's
    await relay.repo.release_claims([second[0].id], second[0].claimed_until)
    assert [e.id for e in await relay.repo.claim_unpublished_events(10)] == [first[0].id]
