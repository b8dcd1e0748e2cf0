"""Refunds against PostgreSQL and the sandbox gateway: amounts computed by the server, sellers
limited to their own child orders, restock, two refunds racing for the last unit (one wins, the
database refuses the other), a gateway that refuses or does not answer, and reconciliation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from shared.payments import service as payments
from tests.catalog_support import sql
from tests.integration import test_payments
from tests.integration.test_payments import last_webhook, placed_and_started
from tests.order_support import seller_headers, stock
from tests.payments_support import post_webhook, process_queue
from tests.support import LockGate, bearer, call

ADMIN = bearer("admin", sub="refund-admin")
paying = test_payments.paying  # the fixture


@pytest.fixture
async def paid(paying, sandbox):
    """A paid order: 2 × Panadol at Nahdi (15.00), 1 × Brufen at Dawaa (21.00), pickup."""
    catalog, queue = paying
    _, order, payment = await placed_and_started(catalog)
    sandbox.approve(payment["gateway_payment_id"])
    await post_webhook(last_webhook(sandbox))
    assert await process_queue(queue) == ["paid_confirmed"]
    return catalog, order


def items_of(order: dict) -> dict[str, dict]:
    return {item["sku"]: item | {"child": child} for child in order["children"] for item in child["items"]}


async def refund(headers, target_id: str, lines: list[tuple[str, int]], restock: bool = True):
    body = {"lines": [{"item_id": i, "quantity": q} for i, q in lines], "restock": restock}
    path, route = f"orders/{target_id}/refunds", {"id": target_id}
    status, _, response = await call("refund_order", "POST", path, body=body, headers=headers, route_params=route)
    return status, response


async def test_a_line_refund_takes_its_vat_share_and_restocks(paid, database_url):
    catalog, order = paid
    panadol = items_of(order)["PAN-EXT-24"]
    status, body = await refund(ADMIN, order["id"], [(panadol["id"], 1)])
    # 15.00 + 15 % VAT (pickup: no delivery) = 17.25
    assert status == 201 and body["status"] == "SUCCEEDED" and body["amount"] == "17.25", body
    assert stock(database_url, catalog, "nahdi", "panadol") == (9, 0)
    assert sql(database_url, "SELECT status, refunded_amount::text FROM payments") == [("PARTIALLY_REFUNDED", "17.25")]
    assert sql(database_url, "SELECT payment_status FROM orders") == [("PARTIALLY_REFUNDED",)]
    assert sql(database_url, "SELECT count(*) FROM outbox_events WHERE event_type = 'payment.refunded'") == [(1,)]
    # The shopper's order shows what was refunded, per line and per child order.
    path, route = f"orders/{order['id']}", {"id": order["id"]}
    status, _, shown = await call("get_my_order", "GET", path, headers=bearer(sub="payer-1"), route_params=route)
    refunded = {item["sku"]: item["refunded_quantity"] for child in shown["children"] for item in child["items"]}
    assert status == 200 and refunded == {"PAN-EXT-24": 1, "BRU-SYR-100": 0}
    assert [child["refunded_amount"] for child in shown["children"]] == ["17.25", "0.00"]


async def test_a_whole_child_order_and_then_everything_refunds_the_total(paid, database_url):
    _, order = paid
    items = items_of(order)
    panadol, brufen = items["PAN-EXT-24"], items["BRU-SYR-100"]
    status, first = await refund(ADMIN, panadol["child"]["id"], [(panadol["id"], 2)], restock=False)
    assert status == 201 and first["amount"] == panadol["child"]["total"]
    status, second = await refund(ADMIN, order["id"], [(brufen["id"], 1)], restock=False)
    assert status == 201 and second["amount"] == brufen["child"]["total"]
    assert sql(database_url, "SELECT status, refunded_amount::text FROM payments") == [("REFUNDED", order["total"])]
    status, body = await refund(ADMIN, order["id"], [(brufen["id"], 1)])
    assert status == 409 and body["code"] == "not_refundable"  # nothing left on the payment


async def test_sellers_refund_only_their_own_child_orders(paid, database_url):
    catalog, order = paid
    items = items_of(order)
    nahdi_child, brufen = items["PAN-EXT-24"]["child"], items["BRU-SYR-100"]
    nahdi = seller_headers(catalog, "nahdi")
    status, body = await refund(nahdi, nahdi_child["id"], [(brufen["id"], 1)])  # Dawaa's line
    assert status == 422 and body["errors"][0]["code"] == "unknown_item"
    status, body = await refund(nahdi, brufen["child"]["id"], [(brufen["id"], 1)])  # Dawaa's child order
    assert status == 404
    status, body = await refund(bearer(sub="payer-1"), order["id"], [(brufen["id"], 1)])  # the shopper
    assert status == 403
    status, body = await refund(nahdi, order["id"], [(items["PAN-EXT-24"]["id"], 1)])  # the parent: its part
    assert status == 201, body


async def test_the_database_refuses_more_refunded_units_than_bought(paid, database_url):
    _, order = paid
    brufen = items_of(order)["BRU-SYR-100"]
    with pytest.raises(psycopg.errors.CheckViolation):
        sql(database_url, "UPDATE order_items SET refunded_quantity = quantity + 1 WHERE id = %s", brufen["id"])


async def test_two_refunds_of_the_last_unit_race_one_wins(paid, database_url, monkeypatch):
    _, order = paid
    brufen = items_of(order)["BRU-SYR-100"]
    payment_id = sql(database_url, "SELECT id FROM payments")[0][0]
    async with LockGate.holding(database_url, "SELECT FROM payments WHERE id = %s FOR UPDATE", (payment_id,)) as gate:
        racing = asyncio.ensure_future(  # noqa: RUF006 - awaited below
            asyncio.gather(*(refund(ADMIN, order["id"], [(brufen["id"], 1)]) for _ in range(2)))
        )
        await gate.open_when_waiting(2, racing)
        results = await racing
    assert sorted(status for status, _ in results) == [201, 409], results
    assert sql(database_url, "SELECT refunded_quantity FROM order_items WHERE id = %s", brufen["id"]) == [(1,)]
    assert sql(database_url, "SELECT count(*) FROM refunds") == [(1,)]


async def test_a_refused_refund_gives_its_units_back_and_an_unanswered_one_is_reconciled(paid, sandbox, database_url):
    _, order = paid
    brufen = items_of(order)["BRU-SYR-100"]
    sandbox.fault(status=400, times=1, method="POST", path="/refund")
    status, body = await refund(ADMIN, order["id"], [(brufen["id"], 1)])
    assert status == 409 and body["code"] == "refund_rejected"
    assert sql(database_url, "SELECT status FROM refunds") == [("FAILED",)]
    assert sql(database_url, "SELECT refunded_quantity FROM order_items WHERE id = %s", brufen["id"]) == [(0,)]
    # The gateway does not answer: the refund stays REQUESTED (202), and the reconciler settles it.
    sandbox.fault(status=503, times=10, method="POST", path="/refund")
    status, body = await refund(ADMIN, order["id"], [(brufen["id"], 1)])
    assert status == 202 and body["status"] == "REQUESTED", body
    sandbox.clear_faults()
    assert await payments.reconcile_refunds(lambda: datetime.now(UTC)) == {"claimed": 0, "succeeded": 0, "retried": 0}
    later = datetime.now(UTC) + timedelta(minutes=11)
    assert await payments.reconcile_refunds(lambda: later) == {"claimed": 1, "succeeded": 0, "retried": 1}
    assert sql(database_url, "SELECT status FROM refunds ORDER BY created_at") == [("FAILED",), ("SUCCEEDED",)]
    assert sql(database_url, "SELECT refunded_amount FROM payments") == [(Decimal(body["amount"]),)]


async def test_a_refund_the_gateway_made_but_we_did_not_record_is_reconciled_as_done(paid, sandbox, database_url):
    _, order = paid
    brufen = items_of(order)["BRU-SYR-100"]
    # The refund went through at the gateway, then the answer was lost (a 504 after the fact).
    gateway_id = sql(database_url, "SELECT gateway_payment_id FROM payments")[0][0]
    sandbox.fault(status=503, times=10, method="POST", path="/refund")
    status, _ = await refund(ADMIN, order["id"], [(brufen["id"], 1)])
    assert status == 202
    sandbox.clear_faults()
    await sandbox.gateway().refund(gateway_id, 2415)  # what our call would have done
    later = datetime.now(UTC) + timedelta(minutes=11)
    assert await payments.reconcile_refunds(lambda: later) == {"claimed": 1, "succeeded": 1, "retried": 0}
    assert sql(database_url, "SELECT status FROM refunds") == [("SUCCEEDED",)]
    # The reconciler read the payment and did not ask for the money again (ours failed, the test's went through).
    assert len([r for r in sandbox.requests(method="POST") if r["path"].endswith("/refund")]) == 2


async def refund_webhook(sandbox) -> bytes:
    await sandbox.adeliveries()  # waits for the payment_refunded delivery the refund caused
    return last_webhook(sandbox)


async def test_a_refund_made_at_the_gateway_outside_souq_is_flagged_for_review(paid, paying, sandbox, database_url):
    _, queue = paying
    gateway_id = sql(database_url, "SELECT gateway_payment_id FROM payments")[0][0]
    await sandbox.gateway().refund(gateway_id, 1000)  # someone refunds 10.00 in the gateway's dashboard
    assert (await post_webhook(await refund_webhook(sandbox)))[0] == 200
    assert await process_queue(queue) == ["refunded_outside"]
    # Booked against no line (nobody named one): the payment is left as it was, for a person.
    assert sql(database_url, "SELECT status, refunded_amount::text, needs_review FROM payments") == [
        ("PAID", "0.00", True)
    ]
    [(reason,)] = sql(database_url, "SELECT review_reason FROM payments")
    assert "refunded 10.00 SAR that Souq did not ask for" in reason


async def test_the_webhook_of_souqs_own_refund_flags_nothing(paid, paying, sandbox, database_url):
    _, queue = paying
    _, order = paid
    panadol = items_of(order)["PAN-EXT-24"]
    status, _ = await refund(ADMIN, order["id"], [(panadol["id"], 1)])
    assert status == 201
    assert (await post_webhook(await refund_webhook(sandbox)))[0] == 200
    assert await process_queue(queue) == ["ignored"]
    assert sql(database_url, "SELECT status, needs_review FROM payments") == [("PARTIALLY_REFUNDED", False)]
