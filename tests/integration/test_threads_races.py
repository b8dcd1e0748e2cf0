"""Races at the database through the HTTP functions, with a pool as large as the racing clients:
each race queues its callers on a row lock another session holds (LockGate), then lets them
all go at once. 50 find-or-create → one thread, one welcome; 20 posts → 20 messages in strict
order with consistent pages; concurrent read marks never move back."""

from __future__ import annotations

import asyncio

import pytest

from tests.catalog_support import sql
from tests.order_support import seller_headers, stocked_catalog
from tests.support import LockGate, bearer, call

SHOPPER = "race-shopper"


@pytest.fixture
async def catalog(app_env, database_url, monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("DATABASE_POOL_MAX", "52")
    reset_settings()
    return await stocked_catalog(database_url)


async def start_inquiry(catalog, headers: dict) -> tuple[int, dict]:
    product = catalog.ids["panadol"]
    status, _, body = await call(
        "start_inquiry", "POST", f"products/{product}/inquiries", body={"seller_id": catalog.sellers["nahdi"]},
        headers=headers, route_params={"id": product},
    )  # fmt: skip
    return status, body


async def race(gate: LockGate, sessions: int, calls: list) -> list:
    racing = asyncio.ensure_future(asyncio.gather(*calls))
    await gate.open_when_waiting(sessions, racing)
    return await racing


async def test_fifty_concurrent_inquiries_make_one_thread_and_one_welcome(catalog, database_url):
    headers = bearer(sub=SHOPPER)
    # Every caller's first statement (registering the shopper) waits on this uncommitted row.
    async with LockGate.holding(database_url, "INSERT INTO users (id) VALUES (%s)", (SHOPPER,)) as gate:
        results = await race(gate, 50, [start_inquiry(catalog, headers) for _ in range(50)])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 49 + [201], statuses
    assert len({body["id"] for _, body in results}) == 1
    assert sql(database_url, "SELECT count(*) FROM threads")[0][0] == 1
    assert sql(database_url, "SELECT kind, count(*) FROM messages GROUP BY kind") == [("SYSTEM", 1)]


async def thread_with_welcome(catalog) -> str:
    status, thread = await start_inquiry(catalog, bearer(sub=SHOPPER))
    assert status == 201, thread
    return thread["id"]


async def post(thread_id: str, text: str, headers: dict, **body) -> tuple[int, dict]:
    path = f"threads/{thread_id}/messages"
    route = {"id": thread_id}
    status, _, message = await call(
        "post_thread_message", "POST", path, body={"body": text, **body}, headers=headers, route_params=route
    )
    return status, message


async def page(thread_id: str, **params) -> dict:
    query = {k: str(v) for k, v in params.items()}
    status, _, body = await call(
        "list_thread_messages", "GET", f"threads/{thread_id}/messages", headers=bearer(sub=SHOPPER),
        route_params={"id": thread_id}, params=query,
    )  # fmt: skip
    assert status == 200, body
    return body


async def test_twenty_concurrent_posts_are_twenty_messages_in_strict_order(catalog, database_url):
    thread_id = await thread_with_welcome(catalog)
    headers = bearer(sub=SHOPPER)
    lock = "SELECT FROM threads WHERE id = %s FOR UPDATE"
    async with LockGate.holding(database_url, lock, (thread_id,)) as gate:
        posts = [post(thread_id, f"m{n}", headers, client_message_id=f"c-{n}") for n in range(20)]
        results = await race(gate, 20, posts)
    assert [status for status, _ in results] == [201] * 20
    rows = sql(database_url, "SELECT id, seq FROM messages WHERE thread_id = %s ORDER BY id", thread_id)
    assert [seq for _, seq in rows] == list(range(1, 22))  # the welcome, then the 20 in id order
    thread = sql(database_url, "SELECT last_message_id, message_seq FROM threads WHERE id = %s", thread_id)[0]
    assert thread == (rows[-1][0], 21)
    # every page, back from the latest and forward from the start, is a consistent slice
    back, before = [], None
    while True:
        got = await page(thread_id, limit=4, **({"before": before} if before else {}))
        back = got["items"] + back
        if not got["has_more"]:
            break
        before = got["items"][0]["id"]
    ids = [message_id for message_id, _ in rows]
    forward, after = [], ids[0]  # polling from the welcome on
    while True:
        got = await page(thread_id, limit=6, after=after)
        forward += got["items"]
        if not got["has_more"]:
            break
        after = got["items"][-1]["id"]
    assert [m["id"] for m in back] == ids
    assert [m["id"] for m in forward] == ids[1:]
    # a retry of one of them posts nothing new and answers the first post
    status, again = await post(thread_id, "m3", headers, client_message_id="c-3")
    assert status == 200 and again["id"] == next(m for _, m in results if m["body"] == "m3")["id"]


async def test_concurrent_read_marks_never_move_back(catalog, database_url):
    thread_id = await thread_with_welcome(catalog)
    seller = seller_headers(catalog, "nahdi")
    ids = []
    for n in range(10):
        status, _, message = await call(
            "post_seller_thread_message", "POST", f"seller/threads/{thread_id}/messages", body={"body": f"s{n}"},
            headers=seller, route_params={"id": thread_id},
        )  # fmt: skip
        assert status == 201, message
        ids.append(message["id"])

    async def mark(up_to: int) -> tuple[int, dict]:
        status, _, body = await call(
            "mark_thread_read", "POST", f"threads/{thread_id}/read", body={"up_to": up_to},
            headers=bearer(sub=SHOPPER), route_params={"id": thread_id},
        )  # fmt: skip
        return status, body

    lock = "SELECT FROM thread_participants WHERE thread_id = %s AND side = 'SHOPPER' FOR UPDATE"
    async with LockGate.holding(database_url, lock, (thread_id,)) as gate:
        results = await race(gate, 10, [mark(i) for i in reversed(ids)])
    assert all(status == 200 for status, _ in results)
    stored = sql(
        database_url, "SELECT last_read_message_id FROM thread_participants WHERE thread_id = %s AND side = 'SHOPPER'",
        thread_id,
    )  # fmt: skip
    assert stored[0][0] == ids[-1]
    # and a later, lower mark changes nothing
    status, body = await mark(ids[0])
    assert status == 200 and body == {"thread_id": thread_id, "last_read_message_id": ids[-1], "unread_count": 0}
