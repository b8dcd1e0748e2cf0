"""Paying an order end to end in-process: the real app functions, PostgreSQL, Azurite and the
sandbox gateway (a local Moyasar-compatible server). Webhooks are captured by the sandbox's
sink and posted to the app's webhook route; the payment queue is drained by the test and each
message handed to what `on_payment_event` runs."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.orders import service as orders
from shared.platform.config import reset_settings
from tests.catalog_support import sql
from tests.order_support import line, place, stock, stocked_catalog
from tests.payments_support import post_webhook, process_queue, start_payment
from tests.support import bearer, unique

SHOPPER = "payer-1"


@pytest.fixture
async def paying(app_env, database_url, sandbox, monkeypatch):
    """The app on the sandbox, its own payment queue, webhooks captured; a stocked catalog."""
    queue = unique("payment-events")
    for name, value in (sandbox.settings() | {"PAYMENT_EVENTS_QUEUE": queue}).items():
        monkeypatch.setenv(name, value)
    reset_settings()
    sandbox.capture_webhooks()
    catalog = await stocked_catalog(database_url)
    return catalog, queue


async def placed_and_started(catalog, headers=None) -> tuple[dict, dict, dict]:
    headers = headers or bearer(sub=SHOPPER)
    status, _, order = await place(headers, [line(catalog, "panadol", 2, "nahdi"), line(catalog, "brufen", 1)])
    assert status == 201, order
    status, payment = await start_payment(headers, order["id"])
    assert status == 201, payment
    return headers, order, payment


def last_webhook(sandbox) -> bytes:
    return sandbox.captured()[-1]["body"].encode()


async def test_pay_an_order_through_the_sandbox(paying, sandbox, database_url):
    catalog, queue = paying
    headers, order, payment = await placed_and_started(catalog)
    assert payment["status"] == "PENDING" and payment["checkout_url"] and payment["amount"] == order["total"]
    # A retry while the payment is live returns that payment, not another one.
    status, again = await start_payment(headers, order["id"])
    assert status == 200 and again["id"] == payment["id"]
    sandbox.approve(payment["gateway_payment_id"])
    assert await post_webhook(last_webhook(sandbox)) == (200, {"received": True, "duplicate": False})
    assert await process_queue(queue) == ["paid_confirmed"]
    paid = await orders.my_order(_principal(headers), order["id"])
    assert paid.payment_status == "PAID" and {c.status for c in paid.children} == {"CONFIRMED"}
    assert stock(database_url, catalog, "nahdi", "panadol") == (8, 0)  # consumed: off the shelf
    assert sql(database_url, "SELECT status, method FROM payments") == [("PAID", "mada")]
    assert sql(database_url, "SELECT count(*) FROM outbox_events WHERE event_type = 'payment.succeeded'") == [(1,)]
    # Paid: paying again is refused.
    status, body = await start_payment(headers, order["id"])
    assert status == 409 and body["code"] == "order_already_paid"


def _principal(headers):
    from shared.platform.auth import Principal

    return Principal(user_id=SHOPPER, roles=frozenset({"customer"}))


async def test_the_same_webhook_five_times_at_once_changes_things_once(paying, sandbox, database_url):
    catalog, queue = paying
    _, _, payment = await placed_and_started(catalog)
    sandbox.approve(payment["gateway_payment_id"])
    body = last_webhook(sandbox)
    answers = await asyncio.gather(*(post_webhook(body) for _ in range(5)))
    assert {status for status, _ in answers} == {200}
    assert [ack["duplicate"] for _, ack in answers].count(False) == 1
    outcomes = await process_queue(queue, concurrently=True)
    assert outcomes.count("paid_confirmed") == 1 and set(outcomes) <= {"paid_confirmed", "duplicate"}
    assert sql(database_url, "SELECT count(*), count(processed_at) FROM payment_events") == [(1, 1)]
    assert sql(database_url, "SELECT count(*) FROM outbox_events WHERE event_type = 'payment.succeeded'") == [(1,)]
    assert sql(
        database_url, "SELECT count(*) FROM order_status_history WHERE field = 'payment_status' AND to_status = 'PAID'"
    ) == [(1,)]
    # A later delivery of the same event: acknowledged, nothing queued.
    assert (await post_webhook(body))[1]["duplicate"] is True and await process_queue(queue) == []


async def test_a_declined_payment_leaves_the_order_pending_and_payable(paying, sandbox, database_url):
    catalog, queue = paying
    headers, order, payment = await placed_and_started(catalog)
    sandbox.decline(payment["gateway_payment_id"])
    await post_webhook(last_webhook(sandbox))
    assert await process_queue(queue) == ["payment_failed"]
    assert sql(database_url, "SELECT status FROM orders") == [("PENDING",)]
    assert sql(database_url, "SELECT status FROM payments") == [("FAILED",)]
    status, retry = await start_payment(headers, order["id"])  # the shopper tries again
    assert status == 201 and retry["id"] != payment["id"]


async def test_an_amount_that_does_not_match_is_flagged_not_confirmed(paying, sandbox, database_url):
    catalog, queue = paying
    _, order, payment = await placed_and_started(catalog)
    sql(database_url, "UPDATE payments SET amount = amount + 1")  # we expected more than the gateway took
    sandbox.approve(payment["gateway_payment_id"])
    await post_webhook(last_webhook(sandbox))
    assert await process_queue(queue) == ["amount_mismatch"]
    assert sql(database_url, "SELECT status, needs_review FROM payments") == [("PENDING", True)]
    assert sql(database_url, "SELECT payment_status, status FROM orders") == [("PENDING", "PENDING")]
    from tests.support import call

    status, _, page = await call(
        "list_payments_for_review", "GET", "ops/payments/review", headers=bearer("admin", sub="ops-1")
    )
    assert status == 200 and [p["order_id"] for p in page["items"]] == [order["id"]]
    assert "expected" in page["items"][0]["review_reason"]


async def test_a_forged_or_missing_secret_token_is_401_and_nothing_is_stored(paying, sandbox, database_url):
    catalog, queue = paying
    _, _, payment = await placed_and_started(catalog)
    sandbox.approve(payment["gateway_payment_id"])
    event = json.loads(last_webhook(sandbox))
    forged = json.dumps(event | {"secret_token": "guess"}).encode()
    missing = json.dumps({k: v for k, v in event.items() if k != "secret_token"}).encode()
    for body in (forged, missing, b"not json", b""):
        status, problem = await post_webhook(body)
        assert status == 401 and problem["code"] == "webhook_unauthenticated"
    status, problem = await post_webhook(last_webhook(sandbox), gateway="paypal")
    assert status == 404 and problem["code"] == "unknown_gateway"
    assert sql(database_url, "SELECT count(*) FROM payment_events") == [(0,)]
    assert await process_queue(queue) == []


async def test_queue_down_at_intake_is_503_and_the_event_is_processed_once_when_back(
    paying, sandbox, database_url, monkeypatch
):
    catalog, queue = paying
    _, _, payment = await placed_and_started(catalog)
    sandbox.approve(payment["gateway_payment_id"])
    body = last_webhook(sandbox)
    from shared import storage

    await storage.close_storage_clients()
    with monkeypatch.context() as down:
        down.setenv("AzureWebJobsStorage", _unreachable_storage())  # Azurite "stopped"
        status, problem = await post_webhook(body)
        await storage.close_storage_clients()
    assert status == 503 and problem["dependency"] == "storage"
    assert sql(database_url, "SELECT count(*), count(enqueued_at) FROM payment_events") == [(1, 0)]  # kept
    # Azurite is back: the gateway's retry queues it.
    assert await post_webhook(body) == (200, {"received": True, "duplicate": True})
    assert await process_queue(queue) == ["paid_confirmed"]
    assert await process_queue(queue) == []


def _unreachable_storage() -> str:
    from tests.support import free_port

    port = free_port()  # nothing listens there
    return (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=ZGV2;"
        f"QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )


async def test_the_sweep_queues_an_event_stored_but_never_queued(paying, sandbox, database_url, monkeypatch):
    catalog, queue = paying
    _, _, payment = await placed_and_started(catalog)
    sandbox.approve(payment["gateway_payment_id"])
    from shared import storage
    from shared.payments import service

    await storage.close_storage_clients()
    with monkeypatch.context() as down:
        down.setenv("AzureWebJobsStorage", _unreachable_storage())
        assert (await post_webhook(last_webhook(sandbox)))[0] == 503
        await storage.close_storage_clients()
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await service.sweep_payment_events(lambda: later) == 1
    assert await service.sweep_payment_events(lambda: later) == 0  # claimed: not queued twice
    assert await process_queue(queue) == ["paid_confirmed"]


async def test_a_late_payment_takes_the_stock_again_when_it_is_still_there(paying, sandbox, database_url):
    catalog, queue = paying
    _, _, payment = await placed_and_started(catalog)
    await orders.expire_unpaid_orders(clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    assert sql(database_url, "SELECT status FROM orders") == [("CANCELLED",)]
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 0)
    sandbox.approve(payment["gateway_payment_id"])
    await post_webhook(last_webhook(sandbox))
    assert await process_queue(queue) == ["paid_reserved_again"]
    assert sql(database_url, "SELECT payment_status, status FROM orders") == [("PAID", "IN_PROGRESS")]
    assert sql(database_url, "SELECT DISTINCT status FROM seller_orders") == [("CONFIRMED",)]
    assert stock(database_url, catalog, "nahdi", "panadol") == (8, 0)


async def test_a_late_payment_is_refunded_when_its_stock_is_gone(paying, sandbox, database_url):
    catalog, queue = paying
    _, order, payment = await placed_and_started(catalog)
    await orders.expire_unpaid_orders(clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    status, _, other = await place(bearer(sub="payer-2"), [line(catalog, "brufen", 5)])  # takes every Brufen
    assert status == 201, other
    sandbox.approve(payment["gateway_payment_id"])
    await post_webhook(last_webhook(sandbox))
    assert await process_queue(queue) == ["paid_late_refunding"]
    assert sql(database_url, "SELECT status, refunded_amount = amount FROM payments") == [("REFUNDED", True)]
    assert sql(database_url, "SELECT status, amount::text FROM refunds") == [("SUCCEEDED", order["total"])]
    assert sql(database_url, "SELECT status, payment_status FROM orders WHERE id = %s", order["id"]) == [
        ("CANCELLED", "REFUNDED")
    ]
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 0)  # untouched by the refund
    assert [r["path"] for r in sandbox.requests(method="POST") if r["path"].endswith("/refund")]


async def test_payment_of_a_cancelled_order_or_someone_elses_is_refused(paying, database_url):
    catalog, _ = paying
    headers = bearer(sub=SHOPPER)
    status, _, order = await place(headers, [line(catalog, "panadol", 1, "nahdi")])
    status, body = await start_payment(bearer(sub="someone-else"), order["id"])
    assert status == 404 and body["code"] == "order_not_found"
    sql(database_url, "UPDATE orders SET expires_at = now() - interval '1 second'")
    status, body = await start_payment(headers, order["id"])
    assert status == 409 and body["code"] == "order_expired"
    await orders.expire_unpaid_orders()
    status, body = await start_payment(headers, order["id"])
    assert status == 409 and body["code"] == "order_not_payable"
