"""Status transitions, cancellation and expiry against a real PostgreSQL: versions, the
transition table, stock given back exactly once, and overlapping expiry runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.catalog_support import sql
from tests.order_support import line, place, seller_headers, stock, stocked_catalog
from tests.support import bearer, call


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


async def move(headers: dict, child_id: str, to: str, version: int, field: str = "status") -> tuple[int, dict]:
    status, _, body = await call(
        "transition_seller_order",
        "POST",
        f"seller/orders/{child_id}/transitions",
        body={"field": field, "to": to, "version": version},
        headers=headers,
        route_params={"id": child_id},
    )
    return status, body


async def cancel(headers: dict, order_id: str, version: int) -> tuple[int, dict]:
    status, _, body = await call(
        "cancel_my_order",
        "POST",
        f"orders/{order_id}/cancel",
        body={"version": version},
        headers=headers,
        route_params={"id": order_id},
    )
    return status, body


async def two_seller_order(catalog, sub: str = "shopper") -> tuple[dict, dict]:
    headers = bearer(sub=sub)
    status, _, order = await place(headers, [line(catalog, "panadol", 2, "nahdi"), line(catalog, "brufen", 1)])
    assert status == 201, order
    return headers, order


async def test_seller_moves_own_child_through_its_states(catalog, database_url):
    _, order = await two_seller_order(catalog)
    nahdi_child = order["children"][0]
    headers = seller_headers(catalog, "nahdi")
    status, body = await move(headers, nahdi_child["id"], "CONFIRMED", 1)
    assert status == 200 and body["status"] == "CONFIRMED" and body["version"] == 2
    status, body = await move(headers, nahdi_child["id"], "PROCESSING", 1)
    assert status == 409 and body["code"] == "version_conflict" and body["current_version"] == 2
    status, body = await move(headers, nahdi_child["id"], "DELIVERED", 2)
    assert status == 409 and body["code"] == "illegal_transition" and body["allowed"] == ["CANCELLED", "PROCESSING"]
    status, body = await move(headers, nahdi_child["id"], "PROCESSING", 2)
    status, body = await move(headers, nahdi_child["id"], "OUT_FOR_DELIVERY", 3)  # a pickup order
    assert status == 409 and "READY_FOR_PICKUP" in body["allowed"]
    history = sql(
        database_url,
        "SELECT field, from_status, to_status, actor_role FROM order_status_history "
        "WHERE seller_order_id = %s ORDER BY id",
        nahdi_child["id"],
    )
    assert history == [("status", "PENDING", "CONFIRMED", "seller"), ("status", "CONFIRMED", "PROCESSING", "seller")]
    assert sql(database_url, "SELECT status, version FROM orders WHERE id = %s", order["id"]) == [("IN_PROGRESS", 2)]
    events = sql(database_url, "SELECT event_type FROM outbox_events WHERE aggregate_id = %s ORDER BY id", order["id"])
    assert [e for (e,) in events] == ["order.placed", "order.status_changed", "order.status_changed"]


async def test_other_sellers_and_shoppers_cannot_move_a_child(catalog):
    _, order = await two_seller_order(catalog)
    nahdi_child = order["children"][0]["id"]
    status, body = await move(seller_headers(catalog, "dawaa"), nahdi_child, "CONFIRMED", 1)
    assert status == 404 and body["code"] == "order_not_found"
    status, _ = await move(bearer(sub="shopper"), nahdi_child, "CONFIRMED", 1)
    assert status == 403
    status, body = await move(bearer("admin", sub="ops"), nahdi_child, "CONFIRMED", 1)
    assert status == 200


async def test_unknown_status_is_422(catalog):
    _, order = await two_seller_order(catalog)
    status, body = await move(seller_headers(catalog, "nahdi"), order["children"][0]["id"], "TELEPORTED", 1)
    assert status == 422 and body["code"] == "unknown_status"


async def test_concurrent_transitions_on_one_version_let_one_win(catalog):
    _, order = await two_seller_order(catalog)
    child = order["children"][0]["id"]
    headers = seller_headers(catalog, "nahdi")
    results = await asyncio.gather(*(move(headers, child, "CONFIRMED", 1) for _ in range(10)))
    assert sorted(status for status, _ in results) == [200] + [409] * 9


async def test_shopper_cancels_and_stock_comes_back(catalog, database_url):
    headers, order = await two_seller_order(catalog)
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 2)
    status, body = await cancel(headers, order["id"], 1)
    assert status == 200, body
    assert body["status"] == "CANCELLED" and {c["status"] for c in body["children"]} == {"CANCELLED"}
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 0)
    assert stock(database_url, catalog, "dawaa", "brufen") == (5, 0)
    assert sql(database_url, "SELECT DISTINCT status FROM reservations") == [("RELEASED",)]
    status, body = await cancel(headers, order["id"], body["version"])
    assert status == 409 and body["code"] == "not_cancellable"


async def test_shopper_cannot_cancel_once_a_seller_is_processing(catalog, database_url):
    headers, order = await two_seller_order(catalog)
    child = order["children"][0]
    await move(seller_headers(catalog, "nahdi"), child["id"], "CONFIRMED", 1)
    await move(seller_headers(catalog, "nahdi"), child["id"], "PROCESSING", 2)
    status, body = await cancel(headers, order["id"], 2)
    assert status == 409 and body["in_progress"] == [child["number"]]
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 2)  # nothing given back
    status, body = await cancel(bearer(sub="someone-else"), order["id"], 2)
    assert status == 404


async def test_cancelling_a_paid_order_restocks_consumed_units(catalog, database_url):
    from shared.data import db
    from shared.orders.service import consume_reservations

    headers, order = await two_seller_order(catalog)
    async with db.transaction() as conn:
        assert await consume_reservations(conn, order["id"]) == 3
    assert stock(database_url, catalog, "nahdi", "panadol") == (8, 0)
    status, _ = await cancel(headers, order["id"], 1)
    assert status == 200
    assert stock(database_url, catalog, "nahdi", "panadol") == (10, 0)
    assert stock(database_url, catalog, "dawaa", "brufen") == (5, 0)


async def test_parent_status_follows_the_children(catalog, database_url):
    _, order = await two_seller_order(catalog)
    nahdi, dawaa = order["children"]
    admin = bearer("admin", sub="ops")
    for to, version in [("CONFIRMED", 1), ("PROCESSING", 2), ("READY_FOR_PICKUP", 3), ("DELIVERED", 4)]:
        assert (await move(admin, nahdi["id"], to, version))[0] == 200
    assert sql(database_url, "SELECT status FROM orders") == [("IN_PROGRESS",)]
    assert (await move(admin, dawaa["id"], "CANCELLED", 1))[0] == 200
    assert sql(database_url, "SELECT status FROM orders") == [("COMPLETED",)]
    assert stock(database_url, catalog, "dawaa", "brufen") == (5, 0)


def later(minutes: int):
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


async def test_expiry_cancels_unpaid_orders_and_releases_stock(catalog, database_url):
    from shared.orders.service import expire_unpaid_orders

    _, _order = await two_seller_order(catalog)
    assert (await expire_unpaid_orders(clock=later(14))).orders == 0  # not yet
    run = await expire_unpaid_orders(clock=later(16))
    assert run.orders == 1
    assert sql(database_url, "SELECT status FROM orders") == [("CANCELLED",)]
    assert sql(database_url, "SELECT DISTINCT status FROM reservations") == [("EXPIRED",)]
    assert sql(database_url, "SELECT sum(reserved) FROM offers") == [(0,)]
    assert sql(
        database_url,
        "SELECT reason FROM order_status_history WHERE field = 'status' AND to_status = "
        "'CANCELLED' AND seller_order_id IS NOT NULL",
    ) == [("expired",), ("expired",)]
    assert (await expire_unpaid_orders(clock=later(16))).orders == 0  # idempotent


async def test_two_overlapping_expiry_runs_handle_each_order_once(catalog, database_url):
    from shared.orders.service import expire_unpaid_orders

    sql(database_url, "UPDATE offers SET on_hand = 1000")
    placed = await asyncio.gather(
        *(
            place(bearer(sub=f"late-{n}"), [line(catalog, "panadol", 1, "nahdi"), line(catalog, "brufen", 2)])
            for n in range(60)
        )
    )
    assert {status for status, _, _ in placed} == {201}
    runs = await asyncio.gather(expire_unpaid_orders(clock=later(20)), expire_unpaid_orders(clock=later(20)))
    assert sum(run.orders for run in runs) == 60
    assert sql(
        database_url,
        "SELECT count(*) FROM order_status_history WHERE reason = 'expired' AND seller_order_id IS NOT NULL",
    ) == [(120,)]
    assert sql(database_url, "SELECT sum(reserved) FROM offers") == [(0,)]
    assert sql(database_url, "SELECT count(*) FROM outbox_events WHERE event_type = 'order.expired'") == [(60,)]


async def test_orphan_reservations_expire(catalog, database_url):
    from shared.orders.service import expire_unpaid_orders

    _, _order = await two_seller_order(catalog)
    sql(database_url, "UPDATE orders SET payment_status = 'PROCESSING'")  # not an unpaid PENDING order any more
    run = await expire_unpaid_orders(clock=later(16))
    assert run.orders == 0 and run.orphan_units == 3
    assert sql(database_url, "SELECT sum(reserved) FROM offers") == [(0,)]
