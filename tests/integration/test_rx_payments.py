"""Prescriptions and payments together, in-process against PostgreSQL, Azurite and the sandbox
gateway: a paid order whose Rx line waits for the pharmacist, then is confirmed by the approval,
or loses that line to a rejection and gets its share back through the refund path (the
`refund.due` event on the domain events queue, consumed by the payments domain)."""

from __future__ import annotations

import base64
import json

import pytest

from shared.events import relay
from shared.events import service as events
from shared.platform.config import reset_settings
from shared.storage import queue_client
from tests.catalog_support import put_offer, sql
from tests.integration.test_prescriptions import approve, reject, rx_line, submitted
from tests.order_support import line, place, stock, stocked_catalog
from tests.payments_support import post_webhook, process_queue, start_payment
from tests.support import bearer, unique


@pytest.fixture
async def rx_shop(app_env, database_url, sandbox, monkeypatch):
    """The app on the sandbox with its own payment and domain events queues; Augmentin (Rx) stocked."""
    queues = {"PAYMENT_EVENTS_QUEUE": unique("payment-events"), "DOMAIN_EVENTS_QUEUE": unique("domain-events")}
    for name, value in (sandbox.settings() | queues).items():
        monkeypatch.setenv(name, value)
    reset_settings()
    sandbox.capture_webhooks()
    catalog = await stocked_catalog(database_url)
    status, body = await put_offer(catalog, "nahdi", "augmentin", on_hand=10)
    assert status == 200, body
    return catalog, queues


async def paid_through_the_sandbox(sandbox, queues, shopper, order) -> dict:
    status, payment = await start_payment(shopper, order["id"])
    assert status == 201, payment
    sandbox.approve(payment["gateway_payment_id"])
    assert (await post_webhook(sandbox.captured()[-1]["body"].encode()))[0] == 200
    assert await process_queue(queues["PAYMENT_EVENTS_QUEUE"]) == ["paid_confirmed"]
    return payment


async def consume_domain_events(queue_name: str, *, times: int = 1) -> list[tuple[str, str]]:
    """Relays the outbox, then hands each domain event to the consumers `times` times (a
    redelivery must change nothing); returns (event type, outcome) pairs."""
    await relay.wait_for_background_relay()
    await relay.relay_outbox()
    outcomes, client = [], queue_client(queue_name)
    async for message in client.receive_messages(messages_per_page=32, visibility_timeout=30):
        body = base64.b64decode(message.content)
        for _ in range(times):
            event_type = json.loads(body)["event_type"]
            outcomes.append((event_type, await events.consume_domain_event(body, message_id=message.id)))
        await client.delete_message(message)
    return outcomes


def child_status(database_url, child_id) -> str:
    return sql(database_url, "SELECT status FROM seller_orders WHERE id = %s", child_id)[0][0]


async def test_a_paid_rx_line_waits_for_the_pharmacist_and_the_approval_confirms_it(rx_shop, sandbox, database_url):
    catalog, queues = rx_shop
    shopper = bearer(sub="rx-payer-1")
    prescription = await submitted(shopper)
    status, _, order = await place(shopper, [rx_line(catalog, prescription, 2), line(catalog, "brufen", 1, "dawaa")])
    assert status == 201, order
    await paid_through_the_sandbox(sandbox, queues, shopper, order)
    waiting = {c["seller_id"]: c["id"] for c in order["children"]}
    assert child_status(database_url, waiting[catalog.sellers["nahdi"]]) == "AWAITING_PRESCRIPTION"
    assert child_status(database_url, waiting[catalog.sellers["dawaa"]]) == "CONFIRMED"  # no Rx line
    assert stock(database_url, catalog, "nahdi", "augmentin") == (8, 0)  # consumed, held for the review
    await approve(prescription)
    assert child_status(database_url, waiting[catalog.sellers["nahdi"]]) == "CONFIRMED"
    assert "refund.due" not in dict(await consume_domain_events(queues["DOMAIN_EVENTS_QUEUE"]))
    assert sql(database_url, "SELECT count(*) FROM refunds") == [(0,)]


async def test_a_rejection_refunds_the_lines_share_with_its_vat_once_through_the_gateway(
    rx_shop, sandbox, database_url
):
    catalog, queues = rx_shop
    shopper = bearer(sub="rx-payer-2")
    prescription = await submitted(shopper)
    status, _, order = await place(shopper, [rx_line(catalog, prescription, 3), line(catalog, "vitamin", 2, "nahdi")])
    assert status == 201, order
    payment = await paid_through_the_sandbox(sandbox, queues, shopper, order)
    child = order["children"][0]
    assert child_status(database_url, child["id"]) == "AWAITING_PRESCRIPTION"
    await reject(prescription)
    assert child_status(database_url, child["id"]) == "CONFIRMED"  # the rest of the child ships
    assert stock(database_url, catalog, "nahdi", "augmentin") == (10, 0)  # the rejected units are back
    # The same event delivered twice: one refund. 3 × 65.00 = 195.00, plus its 15% VAT share.
    outcomes = await consume_domain_events(queues["DOMAIN_EVENTS_QUEUE"], times=2)
    assert [o for kind, o in outcomes if kind == "refund.due"] == ["processed", "duplicate"]
    assert sql(database_url, "SELECT status, amount::text, reason FROM refunds") == [
        ("SUCCEEDED", "224.25", "prescription.rejected")
    ]
    assert sql(database_url, "SELECT status, refunded_amount::text FROM payments") == [("PARTIALLY_REFUNDED", "224.25")]
    at_the_gateway = await sandbox.gateway().fetch_payment(payment["gateway_payment_id"])
    assert at_the_gateway.refunded_minor == 22425  # halalas
    assert sql(database_url, "SELECT quantity, refunded_quantity FROM order_items ORDER BY line_no") == [(3, 3), (2, 0)]
    # Restocked once: by the rejection, not again by the refund.
    assert stock(database_url, catalog, "nahdi", "augmentin") == (10, 0)
