"""In-app notifications from order events: made once per event and recipient, bilingual, read
and marked by their own recipient only; malformed events retried, recorded, then poisoned."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.functions.queue import QueueMessage  # the worker's class: it carries dequeue_count

from shared.events import relay
from shared.events.models import AggregateNotVisible, EventEnvelope, MalformedEvent
from shared.storage import encode_queue_message, queue_client
from tests.catalog_support import sql
from tests.integration.test_events import drain
from tests.order_support import line, place, stocked_catalog
from tests.support import FakeContext, app_function, bearer, call

SHOPPER = "notified-shopper"


@pytest.fixture
async def order(order_queue, database_url):
    """A placed order over Nahdi (-1) and Dawaa (-2), its order.placed relayed to the queue."""
    catalog = await stocked_catalog(database_url)
    status, _, placed = await place(bearer(sub=SHOPPER), [line(catalog, "vitamin", 1), line(catalog, "brufen", 1)])
    assert status == 201, placed
    await relay.relay_outbox()
    return catalog, placed


async def deliver(body: bytes | str, *, dequeue_count: int = 1, message_id: str | None = None) -> None:
    """Invoke `on_order_event` as the worker does for one queue message."""
    raw = body.encode() if isinstance(body, str) else body
    message = QueueMessage(id=message_id or str(uuid.uuid4()), body=raw, dequeue_count=dequeue_count)
    await app_function("on_order_event")(msg=message, context=FakeContext("on_order_event"))


def envelope(event_type: str, payload: dict, **overrides) -> str:
    body = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "aggregate_type": "order",
        "aggregate_id": payload.get("order_id", "x"),
        "payload": payload,
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    return json.dumps(body | overrides)


def notes(database_url: str) -> list[tuple]:
    return sql(
        database_url,
        "SELECT recipient_type, recipient_id, kind, title_en, title_ar FROM notifications"
        " ORDER BY recipient_type DESC, title_en",
    )


async def test_a_placed_order_notifies_the_shopper_and_each_seller_once(order, order_queue, database_url):
    catalog, placed = order
    [message] = await drain(order_queue)
    for _ in range(3):  # at-least-once delivery: the same event again changes nothing
        await deliver(json.dumps(message))
    number, nahdi, dawaa = placed["number"], catalog.sellers["nahdi"], catalog.sellers["dawaa"]
    assert sorted(notes(database_url)) == sorted(
        [
            ("user", SHOPPER, "order.placed", f"Order {number} placed", f"تم تقديم الطلب {number}"),
            ("seller", nahdi, "order.placed", f"New order {number}-1", f"طلب جديد {number}-1"),
            ("seller", dawaa, "order.placed", f"New order {number}-2", f"طلب جديد {number}-2"),
        ]
    )


async def test_status_changes_cancellations_and_expiry_notify_the_right_people(order, database_url):
    catalog, placed = order
    nahdi, dawaa = catalog.sellers["nahdi"], catalog.sellers["dawaa"]
    child = {c["seller_id"]: c for c in placed["children"]}
    base = {"order_id": placed["id"], "user_id": SHOPPER}
    await deliver(
        envelope(
            "order.status_changed",
            base
            | {
                "seller_order_id": child[nahdi]["id"],
                "seller_id": nahdi,
                "field": "status",
                "from": "PENDING",
                "to": "OUT_FOR_DELIVERY",
                "version": 2,
            },
        )
    )
    await deliver(
        envelope(
            "order.cancelled",
            base | {"seller_order_id": child[dawaa]["id"], "seller_id": dawaa, "reason": "out of stock"},
        )
    )
    await deliver(
        envelope(
            "order.expired",
            base
            | {"children": [{"seller_order_id": c["id"], "seller_id": c["seller_id"]} for c in placed["children"]]},
        )
    )
    n = placed["number"]
    rows = sql(
        database_url,
        "SELECT recipient_id, kind, title_en, title_ar FROM notifications"
        " WHERE kind <> 'order.placed' ORDER BY kind, recipient_id",
    )
    assert sorted(rows) == sorted(
        [
            (SHOPPER, "order.status_changed", f"Order {n}-1: out for delivery", f"الطلب {n}-1: خرج للتوصيل"),
            (nahdi, "order.status_changed", f"Order {n}-1: out for delivery", f"الطلب {n}-1: خرج للتوصيل"),
            (SHOPPER, "order.cancelled", f"Order {n}-2 cancelled", f"تم إلغاء الطلب {n}-2"),
            (dawaa, "order.cancelled", f"Order {n}-2 cancelled", f"تم إلغاء الطلب {n}-2"),
            (SHOPPER, "order.expired", f"Order {n} expired unpaid", f"انتهت مهلة الدفع للطلب {n}"),
            (nahdi, "order.expired", f"Order {n} expired unpaid", f"انتهت مهلة الدفع للطلب {n}"),
            (dawaa, "order.expired", f"Order {n} expired unpaid", f"انتهت مهلة الدفع للطلب {n}"),
        ]
    )
    [(data,)] = sql(
        database_url, "SELECT data FROM notifications WHERE kind = 'order.cancelled' AND recipient_type = 'user'"
    )
    assert data == {"order_id": placed["id"], "number": f"{n}-2", "reason": "out of stock"}


async def test_a_real_cancellation_tells_each_person_once_per_child(order, order_queue, database_url):
    catalog, placed = order
    status, _, body = await call(
        "cancel_my_order",
        "POST",
        f"orders/{placed['id']}/cancel",
        body={"version": placed["version"]},
        headers=bearer(sub=SHOPPER),
        route_params={"id": placed["id"]},
    )
    assert status == 200, body
    await relay.relay_outbox()
    for message in await drain(order_queue):  # placed, then the cancellation's events
        await deliver(json.dumps(message))
    n = placed["number"]
    rows = sql(database_url, "SELECT recipient_id, title_en FROM notifications WHERE kind <> 'order.placed'")
    assert sorted(rows) == sorted(
        [
            (SHOPPER, f"Order {n}-1 cancelled"),
            (SHOPPER, f"Order {n}-2 cancelled"),
            (catalog.sellers["nahdi"], f"Order {n}-1 cancelled"),
            (catalog.sellers["dawaa"], f"Order {n}-2 cancelled"),
        ]
    )


async def test_a_well_formed_event_without_notifications_is_ignored(order, database_url):
    await deliver(envelope("order.paid", {"order_id": order[1]["id"]}))
    assert sql(database_url, "SELECT count(*) FROM notifications WHERE kind = 'order.paid'") == [(0,)]
    assert sql(database_url, "SELECT count(*) FROM rejected_messages") == [(0,)]


async def test_an_event_for_an_order_not_visible_yet_is_retried_not_rejected(app_env, database_url):
    missing = {"order_id": str(uuid.uuid4()), "user_id": "u", "reason": None}
    with pytest.raises(AggregateNotVisible):
        await deliver(envelope("order.cancelled", missing), dequeue_count=5)
    assert sql(database_url, "SELECT count(*) FROM rejected_messages") == [(0,)]


MALFORMED = [
    pytest.param("this is not json", "malformed event", id="bad-json"),
    pytest.param(
        envelope("order.placed", {"order_id": str(uuid.uuid4()), "user_id": "u"}), "first at children", id="no-children"
    ),
    pytest.param(envelope("order.placed", {}, aggregate_type="user"), "aggregate_type 'user'", id="not-an-order"),
    pytest.param(
        envelope("order.status_changed", {"order_id": "nope", "user_id": "u", "field": "status", "to": "X"}),
        "first at order_id",
        id="bad-order-id",
    ),
]


@pytest.mark.parametrize("body,reason", MALFORMED)
async def test_a_malformed_event_is_retried_and_recorded_once_on_the_attempt_that_poisons_it(
    app_env, database_url, body, reason
):
    for attempt in range(1, 6):  # host.json: maxDequeueCount = 5
        with pytest.raises(MalformedEvent):
            await deliver(body, dequeue_count=attempt, message_id="m-1")
    [(queue, message_id, stored, why)] = sql(
        database_url, "SELECT queue_name, message_id, body, reason FROM rejected_messages"
    )
    assert (queue, message_id, stored) == (app_env.order_events_queue, "m-1", body) and reason in why


# -- the whole path through the dev host: relay -> queue -> on_order_event, and the poison queue

DEVHOST_OVERRIDES = {
    "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "2",
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:00",
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.5",
}


async def wait_for(check, what: str, seconds: float = 60.0):
    """Poll `check` until it returns something; `seconds` only turns a hang into a failure.
    Polled because the dev host's queue pollers and Azurite tell nobody when a message moved."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if result := await check():
                    return result
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@pytest.mark.slow
async def test_through_the_dev_host_events_notify_and_a_malformed_one_is_poisoned_and_recorded(
    order_queue, database_url, monkeypatch
):
    from devhost.host import DevHost
    from function_app import app
    from shared.platform.hostjson import HOST_JSON, HostConfig

    for name, value in DEVHOST_OVERRIDES.items():
        monkeypatch.setenv(name, value)
    host = DevHost(app, HostConfig.load(HOST_JSON), enable_timers=False)
    await host.start()
    try:
        catalog = await stocked_catalog(database_url)
        status, _, _placed = await place(bearer(sub=SHOPPER), [line(catalog, "vitamin", 1)])
        assert status == 201
        await relay.relay_outbox()  # placement relays after commit too; this sweeps what is left
        await queue_client(order_queue).send_message(encode_queue_message("{broken"))

        async def notified():
            return sql(database_url, "SELECT count(*) FROM notifications")[0][0] == 2

        async def poisoned():
            try:
                return await queue_client(f"{order_queue}-poison").peek_messages(max_messages=5)
            except ResourceNotFoundError:  # the poison queue does not exist until the first poisoned message
                return None

        await wait_for(notified, "the shopper's and the seller's notifications")
        [message] = await wait_for(poisoned, "the malformed message in the poison queue")
        assert base64.b64decode(message.content) == b"{broken"
        assert sql(database_url, "SELECT body, message_id IS NOT NULL FROM rejected_messages") == [("{broken", True)]
    finally:
        await host.stop()
        for name in (order_queue, f"{order_queue}-poison"):
            with contextlib.suppress(Exception):
                await queue_client(name).delete_queue()


# -- reading and marking


def seed(database_url: str, recipient_type: str, recipient_id: str, count: int) -> list[str]:
    """`count` notifications, two per second of created_at (ties broken by id)."""
    rows = sql(
        database_url,
        """
        INSERT INTO notifications (recipient_type, recipient_id, event_id, kind, title_en, title_ar, created_at)
        SELECT %s, %s, gen_random_uuid(), 'order.placed', 'Order ' || i, 'الطلب ' || i,
               date_trunc('month', now()) + (i / 2) * interval '1 second'
        FROM generate_series(1, %s) AS i RETURNING id""",
        recipient_type,
        recipient_id,
        count,
    )
    return [str(row[0]) for row in rows]


async def get_page(route: str, headers: dict, **params) -> tuple[int, dict]:
    function = "list_my_notifications" if route == "me" else "list_seller_notifications"
    status, _, body = await call(
        function, "GET", f"{route}/notifications", headers=headers, params={k: str(v) for k, v in params.items()}
    )
    return status, body


async def mark(route: str, headers: dict, body=None, raw: bytes | None = None) -> tuple[int, dict]:
    function = "mark_my_notifications_read" if route == "me" else "mark_seller_notifications_read"
    status, _, response = await call(
        function, "POST", f"{route}/notifications/read", headers=headers, body=body, raw=raw
    )
    return status, response


async def all_pages(route: str, headers: dict, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        status, page = await get_page(route, headers, limit=10, **params, **({"cursor": cursor} if cursor else {}))
        assert status == 200, page
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


async def test_shoppers_page_their_own_newest_first_and_mark_them_read(app_env, database_url):
    mine = seed(database_url, "user", SHOPPER, 25)
    others = seed(database_url, "user", "someone-else", 3)
    seed(database_url, "seller", str(uuid.uuid4()), 2)
    me = bearer(sub=SHOPPER)
    status, first = await get_page("me", me, limit=10)
    assert status == 200 and len(first["items"]) == 10 and first["unread_count"] == 25 and first["next_cursor"]
    items = await all_pages("me", me)
    keys = [(i["created_at"], i["id"]) for i in items]
    assert sorted(i["id"] for i in items) == sorted(mine) and keys == sorted(keys, reverse=True)
    assert {i["title_en"] for i in items[:2]} == {"Order 24", "Order 25"}  # same second: the id decides
    assert items[0]["title_ar"] == items[0]["title_en"].replace("Order", "الطلب") and items[0]["read_at"] is None

    assert await mark("me", me, {"ids": mine[:5] + others}) == (200, {"marked": 5})  # others' ids: untouched
    assert await mark("me", me, {"ids": mine[:5]}) == (200, {"marked": 0})  # already read
    unread = await all_pages("me", me, unread="true")
    assert sorted(i["id"] for i in unread) == sorted(mine[5:])
    assert (await get_page("me", me))[1]["unread_count"] == 20
    assert await mark("me", me, {"all": True}) == (200, {"marked": 20})
    assert (await get_page("me", me, unread="true"))[1] == {"items": [], "next_cursor": None, "unread_count": 0}
    assert sql(database_url, "SELECT count(*) FROM notifications WHERE read_at IS NULL") == [(5,)]


async def test_sellers_read_and_mark_only_their_own(app_env, database_url):
    seller, other = str(uuid.uuid4()), str(uuid.uuid4())
    ours, theirs = seed(database_url, "seller", seller, 4), seed(database_url, "seller", other, 2)
    seed(database_url, "user", seller, 1)  # a user whose id happens to equal the seller's: not the seller's
    staff = bearer("seller", sub="seller-staff", seller_id=seller)
    status, page = await get_page("seller", staff)
    assert status == 200 and sorted(i["id"] for i in page["items"]) == sorted(ours) and page["unread_count"] == 4
    assert await mark("seller", staff, {"ids": theirs + ours[:1]}) == (200, {"marked": 1})
    assert await mark("seller", staff, {"all": True}) == (200, {"marked": 3})
    assert sql(database_url, "SELECT count(*) FROM notifications WHERE read_at IS NULL") == [(3,)]


@pytest.mark.parametrize(
    "headers,status",
    [
        (bearer("customer"), 403),  # not a seller
        (bearer("seller", seller_id="not-a-seller"), 401),  # a seller token must carry a UUID seller_id
        ({}, 401),
    ],
)
async def test_seller_notifications_need_a_seller_bound_token(app_env, headers, status):
    assert (await get_page("seller", headers))[0] == status
    assert (await mark("seller", headers, {"all": True}))[0] == status


@pytest.mark.parametrize(
    "params", [{"limit": 101}, {"limit": 0}, {"cursor": "not-a-cursor"}, {"unread": "maybe"}, {"colour": "red"}]
)
async def test_bad_list_queries_are_422(app_env, params):
    status, body = await get_page("me", bearer(), **params)
    assert status == 422 and body["status"] == 422


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [], "all": False},
        {"ids": [str(uuid.uuid4())], "all": True},
        {"all": False},
        {"ids": ["nope"]},
        {"ids": [str(uuid.uuid4())] * 101},
    ],
)
async def test_bad_mark_bodies_are_422(app_env, body):
    status, response = await mark("me", bearer(), body)
    assert status == 422 and response["code"] == "validation_failed"


async def test_mark_with_bad_json_is_400(app_env):
    assert (await mark("me", bearer(), raw=b"{ids"))[0] == 400


# -- partitioned notifications (migration 0016): the dedupe and one-unread-per-thread keys, raced


async def test_one_event_delivered_at_once_by_several_workers_notifies_each_person_once(
    order, order_queue, database_url
):
    [message] = await drain(order_queue)
    await asyncio.gather(*(deliver(json.dumps(message)) for _ in range(4)))
    rows = sql(database_url, "SELECT recipient_id, created_at FROM notifications")
    assert len(rows) == 3 and len({recipient for recipient, _ in rows}) == 3
    # created_at is the event's occurred_at: the same key on every delivery, whatever the clock
    assert {created_at for _, created_at in rows} == {datetime.fromisoformat(message["occurred_at"])}


def thread_event(thread_id: uuid.UUID, message_id: int, recipients: list[dict]) -> EventEnvelope:
    payload = {"thread_id": str(thread_id), "message_id": message_id, "subject": "Panadol", "preview": f"m{message_id}",
               "recipients": recipients}  # fmt: skip
    return EventEnvelope(event_id=uuid.uuid4(), event_type="thread.message_posted", aggregate_type="thread",
                         aggregate_id=str(thread_id), payload=payload, occurred_at=datetime.now(UTC))  # fmt: skip


async def test_racing_messages_and_reads_leave_at_most_one_unread_notice_per_thread(app_env, database_url):
    from shared.data import db
    from shared.notifications import service as notifications
    from shared.notifications.models import MarkRead

    thread, seller = uuid.uuid4(), str(uuid.uuid4())
    recipients = [{"type": "seller", "id": seller}, {"type": "user", "id": SHOPPER}]

    async def post(n: int) -> None:
        async with db.transaction() as conn:
            await notifications.on_thread_message_posted(conn, thread_event(thread, n, recipients))

    async def read() -> None:
        await notifications.mark_read(notifications.rules.seller(seller), MarkRead(all=True))

    await asyncio.gather(*(post(n) for n in range(1, 9)), read(), *(post(n) for n in range(9, 17)), read())
    unread = "SELECT recipient_id, (data ->> 'count')::int FROM notifications WHERE read_at IS NULL"
    per_recipient = {}
    for recipient, count in sql(database_url, unread):
        assert recipient not in per_recipient  # never two unread notices of one thread
        per_recipient[recipient] = count
    assert per_recipient[SHOPPER] == 16  # never read: every message counted once
    counted = sql(
        database_url, "SELECT sum((data ->> 'count')::int) FROM notifications WHERE recipient_id = %s", seller
    )
    assert counted == [(16,)]  # the seller's read and unread notices together: no message lost
    claims = sql(database_url, "SELECT recipient_id, notification_id FROM thread_unread_notices")
    assert sorted(claims) == sorted(
        sql(database_url, "SELECT recipient_id, id FROM notifications WHERE read_at IS NULL")
    )


async def test_a_claim_whose_notice_retention_dropped_gets_a_new_notice(app_env, database_url):
    from shared.data import db
    from shared.notifications import service as notifications

    thread, seller = uuid.uuid4(), str(uuid.uuid4())
    gone = uuid.uuid4()  # its month was detached and dropped: the claim outlived it
    sql(database_url, "INSERT INTO thread_unread_notices VALUES ('seller', %s, %s, %s)", seller, str(thread), gone)
    async with db.transaction() as conn:
        event = thread_event(thread, 1, [{"type": "seller", "id": seller}])
        await notifications.on_thread_message_posted(conn, event)
    rows = sql(
        database_url, "SELECT id, (data ->> 'count')::int, read_at FROM notifications WHERE recipient_id = %s", seller
    )
    assert rows == [(gone, 1, None)]
