"""Placing orders against a real PostgreSQL: pricing, split by seller, validation, stock that is
never oversold under real concurrency, idempotency races, and a constant statement count."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest

from tests.catalog_support import sql
from tests.order_support import line, offer_id, open_racing_pool, place, shopper_with_address, stock, stocked_catalog
from tests.support import bearer, counting_statements


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


async def test_one_order_split_per_seller_priced_by_the_server(catalog, database_url):
    headers, address_id = await shopper_with_address("buyer-1")
    status, response_headers, order = await place(
        headers,
        [line(catalog, "panadol", 2, "dawaa"), line(catalog, "vitamin", 1), line(catalog, "brufen", 1)],
        method="delivery",
        address_id=address_id,
        customer_notes="ring twice",
    )
    assert status == 201, order
    assert response_headers["location"] == f"/api/orders/{order['id']}"
    assert order["number"].startswith("SQ-") and order["status"] == "PENDING" and order["payment_status"] == "PENDING"
    dawaa, nahdi = order["children"]  # numbered in order of the sellers' first lines
    assert dawaa["number"] == order["number"] + "-1" and nahdi["number"] == order["number"] + "-2"
    # Dawaa: 2 × 18.50 + 1 × 21.00 (sale price) = 58.00, + 15.00 delivery, VAT 15 % of 73.00 = 10.95
    assert (dawaa["subtotal"], dawaa["delivery_fee"], dawaa["tax"], dawaa["total"]) == (
        "58.00",
        "15.00",
        "10.95",
        "83.95",
    )
    # Nahdi: vitamin D3 39.90 + 15.00 delivery, VAT of 54.90 = 8.235 → 8.24
    assert (nahdi["subtotal"], nahdi["tax"], nahdi["total"]) == ("39.90", "8.24", "63.14")
    assert order["total"] == str(Decimal(dawaa["total"]) + Decimal(nahdi["total"]))
    assert order["delivery_address"]["city"] == "Riyadh" and order["customer_notes"] == "ring twice"
    assert [item["sku"] for item in dawaa["items"]] == ["PAN-EXT-24", "BRU-SYR-100"]
    assert stock(database_url, catalog, "dawaa", "panadol") == (20, 2)
    assert sql(database_url, "SELECT count(*) FROM reservations WHERE status = 'ACTIVE'") == [(3,)]
    assert sql(database_url, "SELECT event_type FROM outbox_events WHERE aggregate_type = 'order'") == [
        ("order.placed",)
    ]


async def test_no_seller_takes_the_cheapest_offer_with_enough_stock(catalog, database_url):
    headers = bearer(sub="buyer-2")
    status, _, order = await place(headers, [line(catalog, "panadol", 3)])
    assert status == 201 and order["children"][0]["seller_id"] == catalog.sellers["nahdi"]  # 15.00 beats 18.50
    assert order["children"][0]["items"][0]["unit_price"] == "15.00" and order["delivery_fee"] == "0.00"
    status, _, order = await place(headers, [line(catalog, "panadol", 12)])  # Nahdi has 7 left: Dawaa has 20
    assert status == 201 and order["children"][0]["seller_id"] == catalog.sellers["dawaa"]


async def test_free_delivery_above_the_threshold(catalog, monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("ORDER_FREE_DELIVERY_THRESHOLD", "50.00")
    reset_settings()
    headers, address_id = await shopper_with_address("buyer-3")
    status, _, order = await place(
        headers, [line(catalog, "panadol", 4, "nahdi")], method="delivery", address_id=address_id
    )
    assert status == 201 and order["delivery_fee"] == "0.00" and order["subtotal"] == "60.00"


async def test_insufficient_stock_lists_every_short_line_and_writes_nothing(catalog, database_url):
    status, _, body = await place(
        bearer(sub="buyer-4"),
        [line(catalog, "panadol", 11, "nahdi"), line(catalog, "vitamin", 1), line(catalog, "brufen", 6)],
    )
    assert status == 409 and body["code"] == "insufficient_stock"
    assert [(short["line_no"], short["requested"], short["available"]) for short in body["lines"]] == [
        (1, 11, 10),
        (3, 6, 5),
    ]
    assert sql(database_url, "SELECT count(*) FROM orders") == [(0,)]
    assert sql(database_url, "SELECT sum(reserved) FROM offers") == [(0,)]


@pytest.mark.parametrize(
    "mutate,path",
    [
        (lambda lines: lines.__setitem__(0, {"variant_id": str(uuid.uuid4()), "quantity": 1}), "lines/0/variant_id"),
        (lambda lines: lines[1].__setitem__("quantity", 101), "lines/1/quantity"),
        (lambda lines: lines[1].__setitem__("quantity", 0), "lines/1/quantity"),
        (lambda lines: lines[1].__setitem__("unit_price", "0.01"), "lines/1/unit_price"),
    ],
)
async def test_bad_lines_are_422_naming_the_line(catalog, database_url, mutate, path):
    lines = [line(catalog, "panadol", 1), line(catalog, "vitamin", 1)]
    mutate(lines)
    status, _, body = await place(bearer(sub="buyer-5"), lines)
    assert status == 422, body
    assert path in [error["path"] for error in body["errors"]]
    assert sql(database_url, "SELECT count(*) FROM orders") == [(0,)]


async def test_inactive_variant_and_foreign_address_are_422(catalog, database_url):
    sql(database_url, "UPDATE variants SET is_active = false WHERE id = %s", catalog.ids["variant-brufen"])
    status, _, body = await place(bearer(sub="buyer-6"), [line(catalog, "brufen", 1)])
    assert status == 422 and body["errors"][0]["path"] == "lines/0/variant_id"
    _, someone_elses = await shopper_with_address("other-shopper")
    status, _, body = await place(
        bearer(sub="buyer-6"), [line(catalog, "panadol", 1)], method="delivery", address_id=someone_elses
    )
    assert status == 422 and body["errors"][0]["path"] == "address_id"


async def test_idempotency_key_replays_and_refuses_a_different_body(catalog, database_url):
    headers, key = bearer(sub="buyer-7"), str(uuid.uuid4())
    first = await place(headers, [line(catalog, "panadol", 1)], key=key)
    again = await place(headers, [line(catalog, "panadol", 1)], key=key)
    assert first[0] == again[0] == 201 and first[2]["id"] == again[2]["id"]
    assert again[1]["idempotent-replayed"] == "true"
    status, _, body = await place(headers, [line(catalog, "panadol", 2)], key=key)
    assert status == 422 and body["code"] == "idempotency_key_reused"
    status, _, _ = await place(bearer(sub="buyer-8"), [line(catalog, "panadol", 1)], key=key)  # keys are per user
    assert status == 201
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 2)


async def test_missing_idempotency_key_is_400(catalog):
    from tests.support import call

    status, _, body = await call(
        "place_order",
        "POST",
        "orders",
        headers=bearer(sub="buyer-9"),
        body={"lines": [line(catalog, "panadol", 1)], "delivery_method": "pickup"},
    )
    assert status == 400 and body["code"] == "idempotency_key_required"


# The race tests race inside PostgreSQL: every racer has a session of its own (the server allows
# 100 connections), and a gate holds the contended offer row until all of them wait there.
RACERS = 50
LOCK_OFFER = "SELECT 1 FROM offers WHERE id = %s FOR NO KEY UPDATE"


@pytest.fixture
async def racing_pool(catalog, monkeypatch):
    await open_racing_pool(monkeypatch, RACERS)


async def race_at_the_gate(database_url: str, offer: str, requests) -> list[tuple[int, dict, dict]]:
    """Runs `requests` (RACERS of them) while the offer row is locked, lets them go once all
    RACERS sessions wait on a lock inside PostgreSQL, and returns their responses."""
    from tests.support import LockGate

    async with LockGate.holding(database_url, LOCK_OFFER, (offer,)) as gate:
        racing = asyncio.gather(*requests)
        waiting = await gate.open_when_waiting(RACERS, racing)
        results = await racing
    assert len(set(waiting)) == RACERS  # that many backends were waiting at once: the race was real
    return results


async def test_concurrent_requests_with_one_key_create_one_order(catalog, database_url, racing_pool):
    headers, key = bearer(sub="buyer-10"), str(uuid.uuid4())
    # The first request to claim the key waits at the offer row; the others wait behind its key.
    results = await race_at_the_gate(
        database_url,
        offer_id(database_url, catalog, "nahdi", "panadol"),
        (place(headers, [line(catalog, "panadol", 1)], key=key) for _ in range(RACERS)),
    )
    assert {status for status, _, _ in results} == {201}
    assert len({order["id"] for _, _, order in results}) == 1
    assert sql(database_url, "SELECT count(*) FROM orders") == [(1,)]
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 1)


async def test_flash_sale_never_oversells(catalog, database_url, racing_pool):
    units = 20  # fewer than the shoppers, who all saw them available before any reserved
    offer = offer_id(database_url, catalog, "nahdi", "panadol")
    sql(database_url, "UPDATE offers SET on_hand = %s WHERE id = %s", units, offer)
    results = await race_at_the_gate(
        database_url,
        offer,
        (place(bearer(sub=f"flash-{n}"), [line(catalog, "panadol", 1, "nahdi")]) for n in range(RACERS)),
    )
    statuses = [status for status, _, _ in results]
    assert statuses.count(201) == units and statuses.count(409) == RACERS - units
    assert stock(database_url, catalog, "nahdi", "panadol") == (units, units)
    assert sql(database_url, "SELECT count(*), sum(quantity) FROM reservations WHERE status = 'ACTIVE'") == [
        (units, units)
    ]


async def test_opposite_order_multi_line_orders_do_not_deadlock(catalog, database_url):
    sql(database_url, "UPDATE offers SET on_hand = 1000")
    forward = [line(catalog, "panadol", 1, "nahdi"), line(catalog, "vitamin", 1, "nahdi"), line(catalog, "brufen", 1)]
    results = await asyncio.gather(
        *(place(bearer(sub=f"racer-{n}"), forward if n % 2 else forward[::-1]) for n in range(60))
    )
    assert {status for status, _, _ in results} == {201}, [body for status, _, body in results if status != 201][:1]
    assert sql(database_url, "SELECT sum(reserved) FROM offers") == [(180,)]


async def test_statements_per_order_do_not_grow_with_lines(catalog, database_url, monkeypatch):
    from shared.orders.models import PlaceOrder
    from shared.orders.service import place_order
    from shared.platform.auth import Principal

    sql(database_url, "UPDATE offers SET on_hand = 1000")
    shopper = Principal(user_id="counter", roles=frozenset({"customer"}))
    statements = []
    twenty = ([line(catalog, product, 1) for product in ("panadol", "vitamin", "brufen")] * 7)[:20]
    # not counted: a shopper's first order also records user.registered
    await place_order(shopper, PlaceOrder(lines=twenty[:1], delivery_method="pickup"), str(uuid.uuid4()))
    for lines in ([line(catalog, "panadol", 1)], twenty):
        with counting_statements(monkeypatch) as sent:
            await place_order(shopper, PlaceOrder(lines=lines, delivery_method="pickup"), str(uuid.uuid4()))
        statements.append(len(sent))
    # claim key, profile (insert if absent), resolve lines, write order, reserve
    assert statements == [5, 5]
