"""ORDER threads against a real PostgreSQL: one thread per child order between its shopper and its
seller, created by the first message (concurrent first messages make one thread), readable by
both, 404 for everyone else; the order page links to it."""

from __future__ import annotations

import asyncio

import pytest

from tests.catalog_support import sql
from tests.order_support import line, place, seller_headers, stocked_catalog
from tests.support import bearer, call

SHOPPER = "order-thread-buyer"


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


@pytest.fixture
async def child(catalog):
    """The shopper's order's child at Nahdi."""
    status, _, order = await place(
        bearer(sub=SHOPPER), [line(catalog, "panadol", 1, "nahdi"), line(catalog, "brufen", 1)]
    )
    assert status == 201, order
    return next(c for c in order["children"] if c["seller_id"] == catalog.sellers["nahdi"])


async def post(child_id: str, headers: dict, body: dict, *, seller: bool = False) -> tuple[int, dict]:
    name, prefix = ("post_seller_order_message", "seller/") if seller else ("post_order_message", "")
    status, _, response = await call(
        name,
        "POST",
        f"{prefix}orders/{child_id}/thread/messages",
        body=body,
        headers=headers,
        route_params={"id": child_id},
    )
    return status, response


async def read(child_id: str, headers: dict, *, seller: bool = False) -> tuple[int, dict]:
    name, prefix = ("get_seller_order_thread", "seller/") if seller else ("get_order_thread", "")
    status, _, response = await call(
        name, "GET", f"{prefix}orders/{child_id}/thread", headers=headers, route_params={"id": child_id}
    )
    return status, response


async def test_the_first_message_creates_the_thread_both_sides_read_it(catalog, database_url, child):
    status, empty = await read(child["id"], bearer(sub=SHOPPER))
    assert status == 200 and empty == {
        "thread_id": None,
        "thread_url": None,
        "messages": {"items": [], "has_more": False},
    }
    status, message = await post(
        child["id"], bearer(sub=SHOPPER), {"body": "When will it arrive?", "client_message_id": "m1"}
    )
    assert status == 201 and message["sender_side"] == "SHOPPER"
    status, again = await post(
        child["id"], bearer(sub=SHOPPER), {"body": "When will it arrive?", "client_message_id": "m1"}
    )
    assert status == 200 and again["id"] == message["id"]
    status, reply = await post(child["id"], seller_headers(catalog, "nahdi"), {"body": "Tomorrow"}, seller=True)
    assert status == 201 and reply["sender_side"] == "SELLER"
    status, seen = await read(child["id"], seller_headers(catalog, "nahdi"), seller=True)
    assert status == 200 and [m["body"] for m in seen["messages"]["items"]] == ["When will it arrive?", "Tomorrow"]
    assert seen["thread_url"] == f"/api/seller/threads/{seen['thread_id']}/messages"
    assert sql(database_url, "SELECT kind, order_id::text, subject FROM threads") == [
        ("ORDER", child["id"], f"Order {child['number']}")
    ]


async def test_concurrent_first_messages_make_one_thread(catalog, database_url, child):
    results = await asyncio.gather(
        *(post(child["id"], bearer(sub=SHOPPER), {"body": f"hello {n}"}) for n in range(10)),
        *(post(child["id"], seller_headers(catalog, "nahdi"), {"body": f"hi {n}"}, seller=True) for n in range(10)),
    )
    assert {status for status, _ in results} == {201}
    assert sql(database_url, "SELECT count(*), max(message_seq) FROM threads") == [(1, 20)]
    assert sql(database_url, "SELECT count(DISTINCT seq) FROM messages") == [(20,)]


async def test_nobody_else_reaches_the_order_thread(catalog, child):
    await post(child["id"], bearer(sub=SHOPPER), {"body": "hello"})
    dawaa_child = child["order_id"]  # not a child order id at all
    for status, _ in [
        await read(child["id"], bearer(sub="someone-else")),
        await post(child["id"], bearer(sub="someone-else"), {"body": "hi"}),
        await read(child["id"], seller_headers(catalog, "dawaa"), seller=True),
        await post(child["id"], seller_headers(catalog, "dawaa"), {"body": "hi"}, seller=True),
        await read(dawaa_child, bearer(sub=SHOPPER)),
    ]:
        assert status == 404
    status, _ = await read(child["id"], bearer(sub=SHOPPER), seller=True)
    assert status == 403


async def test_the_seller_order_view_links_to_the_thread(catalog, child):
    status, _, view = await call(
        "get_seller_order",
        "GET",
        f"seller/orders/{child['id']}",
        headers=seller_headers(catalog, "nahdi"),
        route_params={"id": child["id"]},
    )
    assert status == 200 and view["thread_url"] == f"/api/seller/orders/{child['id']}/thread"
    assert child["thread_url"] == f"/api/orders/{child['id']}/thread"
