"""Order requests in threads against a real PostgreSQL: a seller proposes lines of its own offers
priced by the server, the shopper accepts (one order, however often and however concurrently),
declines, or the seller cancels; stock short leaves the request PENDING; the timer expires them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.catalog_support import put_offer, sql
from tests.order_support import offer_id, open_racing_pool, seller_headers, stock, stocked_catalog
from tests.support import LockGate, bearer, call
from tests.thread_order_support import accept, inquiry_thread, messages_of, proposal, propose, shopper_decides

SHOPPER = "thread-buyer"


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


@pytest.fixture
async def thread(catalog):
    return await inquiry_thread(catalog, SHOPPER)


async def test_a_proposal_is_priced_by_the_server_and_posted_as_a_message(catalog, database_url, thread):
    body = proposal(database_url, catalog, ("panadol", 2), ("vitamin", 1), note="Both in stock", client_id="p-1")
    status, request = await propose(catalog, thread, body)
    assert status == 201, request
    assert request["status"] == "PENDING" and request["note"] == "Both in stock"
    assert [(line["unit_price"], line["quantity"], line["line_total"]) for line in request["lines"]] == [
        ("15.00", 2, "30.00"),
        (request["lines"][1]["unit_price"], 1, request["lines"][1]["unit_price"]),
    ]
    assert Decimal(request["subtotal"]) == Decimal("30.00") + Decimal(request["lines"][1]["unit_price"])
    assert messages_of(database_url, thread) == [("ORDER_REQUEST", "PENDING", "SELLER")]
    metadata = sql(database_url, "SELECT metadata FROM messages WHERE thread_id = %s", thread)[0][0]
    assert metadata["order_request_id"] == request["id"]
    # a retry with the same client id finds the same request and posts nothing
    status, again = await propose(catalog, thread, body)
    assert status == 200 and again["id"] == request["id"]
    assert sql(database_url, "SELECT count(*) FROM order_requests") == [(1,)]
    assert len(messages_of(database_url, thread)) == 1


async def test_only_the_threads_seller_proposes_and_only_its_own_offers(catalog, database_url, thread):
    foreign = proposal(database_url, catalog, ("brufen", 1), seller="dawaa")
    status, problem = await propose(catalog, thread, foreign)
    assert status == 422 and problem["errors"][0]["path"] == "lines/0/offer_id"
    status, problem = await propose(
        catalog, thread, proposal(database_url, catalog, ("brufen", 1), seller="dawaa"), "dawaa"
    )
    assert status == 404 and problem["code"] == "thread_not_found"
    status, _, _ = await call(
        "propose_order_request",
        "POST",
        f"seller/threads/{thread}/order-requests",
        body=proposal(database_url, catalog, ("panadol", 1)),
        headers=bearer(sub=SHOPPER),
        route_params={"id": thread},
    )
    assert status == 403
    assert sql(database_url, "SELECT count(*) FROM order_requests") == [(0,)]


async def test_accepting_places_the_order_once_and_a_second_accept_answers_the_same(catalog, database_url, thread):
    _, request = await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 2)))
    status, accepted = await accept(SHOPPER, thread, request["id"])
    assert status == 201, accepted
    order = accepted["order"]
    assert accepted["request"]["status"] == "ACCEPTED" and accepted["request"]["order_id"] == order["id"]
    assert order["subtotal"] == "30.00" and [c["seller_id"] for c in order["children"]] == [catalog.sellers["nahdi"]]
    assert order["children"][0]["thread_url"] == f"/api/orders/{order['children'][0]['id']}/thread"
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 2)
    status, again = await accept(SHOPPER, thread, request["id"], {"delivery_method": "pickup", "customer_notes": "x"})
    assert status == 200 and again["order"]["id"] == order["id"]
    assert sql(database_url, "SELECT count(*) FROM orders") == [(1,)]
    assert messages_of(database_url, thread) == [
        ("ORDER_REQUEST", "PENDING", "SELLER"),
        ("SYSTEM", "ACCEPTED", "SHOPPER"),
    ]
    status, problem = await shopper_decides(SHOPPER, thread, request["id"], "decline")
    assert status == 409 and problem["status"] == "ACCEPTED"


async def test_another_shopper_cannot_see_or_accept_the_request(catalog, database_url, thread):
    _, request = await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 1)))
    status, problem = await accept("someone-else", thread, request["id"])
    assert status == 404 and problem["code"] == "thread_not_found"
    status, _ = await accept(SHOPPER, thread, "00000000-0000-4000-8000-000000000000")
    assert status == 404
    assert sql(database_url, "SELECT status FROM order_requests") == [("PENDING",)]


async def test_stock_short_answers_the_409_lines_and_the_request_stays_pending(catalog, database_url, thread):
    _, request = await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 4)))
    sql(
        database_url, "UPDATE offers SET on_hand = 3 WHERE id = %s", offer_id(database_url, catalog, "nahdi", "panadol")
    )
    status, problem = await accept(SHOPPER, thread, request["id"])
    assert status == 409 and problem["code"] == "insufficient_stock"
    assert problem["lines"] == [
        {"line_no": 1, "variant_id": catalog.ids["variant-panadol"], "requested": 4, "available": 3}
    ]
    assert sql(database_url, "SELECT status, order_id FROM order_requests") == [("PENDING", None)]
    assert sql(database_url, "SELECT count(*) FROM orders") == [(0,)]
    assert len(messages_of(database_url, thread)) == 1
    await put_offer(catalog, "nahdi", "panadol", on_hand=10, price="15.00")
    status, accepted = await accept(SHOPPER, thread, request["id"])
    assert status == 201 and accepted["request"]["status"] == "ACCEPTED"


async def test_a_prescription_only_line_needs_the_shoppers_prescription(catalog, database_url):
    status, body = await put_offer(catalog, "nahdi", "augmentin", on_hand=5, price="60.00")
    assert status == 200, body
    thread = await inquiry_thread(catalog, SHOPPER, product="augmentin")
    _, request = await propose(catalog, thread, proposal(database_url, catalog, ("augmentin", 1)))
    assert request["lines"][0]["requires_prescription"] is True
    status, problem = await accept(SHOPPER, thread, request["id"])
    assert status == 422 and problem["code"] == "invalid_prescriptions"
    assert sql(database_url, "SELECT status FROM order_requests") == [("PENDING",)]
    rx = sql(
        database_url,
        "INSERT INTO prescriptions (user_id, blob_name, file_name, size_bytes, content_type, status, submitted_at) "
        "VALUES (%s, 'rx/thread-test.pdf', 'rx.pdf', 100, 'application/pdf', 'PENDING', now()) RETURNING id",
        SHOPPER,
    )[0][0]
    body = {"delivery_method": "pickup", "prescriptions": [{"line_no": 1, "prescription_id": str(rx)}]}
    status, accepted = await accept(SHOPPER, thread, request["id"], body)
    assert status == 201, accepted
    assert accepted["order"]["children"][0]["items"][0]["prescription_id"] == str(rx)


async def test_decline_and_cancel_only_while_pending(catalog, database_url, thread):
    _, first = await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 1)))
    _, second = await propose(catalog, thread, proposal(database_url, catalog, ("vitamin", 1)))
    status, declined = await shopper_decides(SHOPPER, thread, first["id"], "decline")
    assert status == 200 and declined["status"] == "DECLINED" and declined["decided_at"] is not None
    status, problem = await accept(SHOPPER, thread, first["id"])
    assert status == 409 and problem["code"] == "order_request_not_pending" and problem["status"] == "DECLINED"
    path = f"seller/threads/{thread}/order-requests/{second['id']}/cancel"
    ids = {"id": thread, "rid": second["id"]}
    status, _, problem = await call(
        "cancel_order_request", "POST", path, headers=seller_headers(catalog, "dawaa"), route_params=ids
    )
    assert status == 404
    status, _, cancelled = await call(
        "cancel_order_request", "POST", path, headers=seller_headers(catalog, "nahdi"), route_params=ids
    )
    assert status == 200 and cancelled["status"] == "CANCELLED"
    status, _, problem = await call(
        "cancel_order_request", "POST", path, headers=seller_headers(catalog, "nahdi"), route_params=ids
    )
    assert status == 409 and problem["status"] == "CANCELLED"
    assert [m[1] for m in messages_of(database_url, thread)] == ["PENDING", "PENDING", "DECLINED", "CANCELLED"]


async def test_the_timer_expires_old_requests_once_even_when_two_runs_overlap(catalog, database_url, thread):
    from shared.thread_orders import service

    for hours in (1, 1, 1, 48):
        await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 1), valid_for_hours=hours))
    late = datetime.now(UTC) + timedelta(hours=2)
    _, early = await propose(catalog, thread, proposal(database_url, catalog, ("vitamin", 1), valid_for_hours=1))
    status, problem = await accept(SHOPPER, thread, early["id"])  # still valid now
    assert status == 201, problem
    runs = await asyncio.gather(*(service.expire_order_requests(clock=lambda: late) for _ in range(2)))
    assert sum(run.expired for run in runs) == 3
    assert sql(database_url, "SELECT status, count(*) FROM order_requests GROUP BY status ORDER BY status") == [
        ("ACCEPTED", 1),
        ("EXPIRED", 3),
        ("PENDING", 1),
    ]
    assert [m[1] for m in messages_of(database_url, thread)].count("EXPIRED") == 3
    assert (await service.expire_order_requests(clock=lambda: late)).expired == 0


async def test_a_request_past_its_deadline_cannot_be_accepted_before_the_timer_runs(catalog, database_url, thread):
    from shared.platform.auth import Principal
    from shared.platform.errors import Conflict
    from shared.thread_orders import service
    from shared.thread_orders.models import AcceptOrderRequest

    _, request = await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 1), valid_for_hours=1))
    shopper = Principal(user_id=SHOPPER, roles=frozenset({"customer"}))
    with pytest.raises(Conflict) as raised:
        await service.accept(
            shopper,
            uuid.UUID(thread),
            uuid.UUID(request["id"]),
            AcceptOrderRequest(delivery_method="pickup"),
            clock=lambda: datetime.now(UTC) + timedelta(hours=2),
        )
    assert raised.value.code == "order_request_expired"
    assert sql(database_url, "SELECT count(*) FROM orders") == [(0,)]


# --- racing acceptances --------------------------------------------------------------------

RACERS = 20
LOCK_REQUEST = "SELECT 1 FROM order_requests WHERE id = %s FOR NO KEY UPDATE"


@pytest.fixture
async def racing_pool(catalog, monkeypatch):
    await open_racing_pool(monkeypatch, RACERS)


async def test_concurrent_accepts_place_one_order(catalog, database_url, thread, racing_pool):
    _, request = await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 3), ("vitamin", 2)))
    async with LockGate.holding(database_url, LOCK_REQUEST, (request["id"],)) as gate:
        racing = asyncio.gather(*(accept(SHOPPER, thread, request["id"]) for _ in range(RACERS)))
        waiting = await gate.open_when_waiting(RACERS, racing)
        results = await racing
    assert len(set(waiting)) == RACERS  # every racer waited at the request's row inside PostgreSQL
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (RACERS - 1) + [201], [body for status, body in results if status >= 300][:1]
    assert len({body["order"]["id"] for _, body in results}) == 1
    assert sql(database_url, "SELECT count(*) FROM orders") == [(1,)]
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 3)
    assert [m[1] for m in messages_of(database_url, thread)] == ["PENDING", "ACCEPTED"]


async def test_a_price_changed_since_the_proposal_is_409_and_the_request_stays_pending(catalog, database_url, thread):
    _, request = await propose(catalog, thread, proposal(database_url, catalog, ("panadol", 2)))
    await put_offer(catalog, "nahdi", "panadol", on_hand=10, price="16.50")
    status, problem = await accept(SHOPPER, thread, request["id"])
    assert status == 409 and problem["code"] == "order_request_price_changed"
    assert problem["lines"] == [{"line_no": 1, "proposed": "15.00", "now": "16.50"}]
    assert sql(database_url, "SELECT status FROM order_requests") == [("PENDING",)]
    assert sql(database_url, "SELECT count(*) FROM orders") == [(0,)]
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 0)
