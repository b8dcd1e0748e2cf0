"""Threads through the HTTP functions against the real PostgreSQL and Azurite: the welcome in
the shopper's language, who reaches which thread (404 for anyone else), replies and retries,
attachments checked by their bytes, edits and deletes within the window (injected clock) with
their history for support, unread counts and the watermark, reports, and the collapsed
"new messages" notification."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import psycopg
import pytest

from shared.events import service as events
from shared.platform.auth import Principal
from shared.platform.errors import Conflict
from shared.threads import service as threads
from shared.threads.models import EditMessage
from tests.catalog_support import sql
from tests.order_support import seller_headers, stocked_catalog
from tests.support import bearer, call

SARA, OMAR = bearer(sub="sara"), bearer(sub="omar")
ADMIN = bearer("admin", sub="support-agent")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


async def inquiry(catalog, headers=SARA, product="panadol", seller="nahdi") -> tuple[int, dict]:
    product_id = catalog.ids[product]
    status, _, body = await call(
        "start_inquiry", "POST", f"products/{product_id}/inquiries", body={"seller_id": catalog.sellers[seller]},
        headers=headers, route_params={"id": product_id},
    )  # fmt: skip
    return status, body


async def api(name: str, method: str, path: str, headers: dict, body=None, params=None, **route) -> tuple[int, dict]:
    status, _, answer = await call(
        name,
        method,
        path,
        body=body,
        headers=headers,
        params=params,
        route_params={k: str(v) for k, v in route.items()},
    )
    return status, answer


async def messages(thread: str, headers=SARA, **params) -> dict:
    query = {k: str(v) for k, v in params.items()}
    status, body = await api(
        "list_thread_messages", "GET", f"threads/{thread}/messages", headers, params=query, id=thread
    )
    assert status == 200, body
    return body


async def post(thread: str, body: dict, headers=SARA) -> tuple[int, dict]:
    return await api("post_thread_message", "POST", f"threads/{thread}/messages", headers, body, id=thread)


async def seller_post(thread: str, body: dict, headers: dict) -> tuple[int, dict]:
    path = f"seller/threads/{thread}/messages"
    return await api("post_seller_thread_message", "POST", path, headers, body, id=thread)


async def test_an_inquiry_starts_once_with_the_sellers_welcome_in_my_language(catalog, database_url):
    sql(database_url, "INSERT INTO users (id, preferred_language) VALUES ('sara', 'ar')")
    sql(
        database_url,
        "UPDATE sellers SET welcome_message_ar = 'أهلاً بك في النهدي' WHERE id = %s",
        catalog.sellers["nahdi"],
    )
    status, thread = await inquiry(catalog)
    assert status == 201 and thread["kind"] == "PRODUCT_INQUIRY" and thread["subject"].startswith("Panadol")
    again_status, again = await inquiry(catalog)
    assert again_status == 200 and again["id"] == thread["id"]
    [welcome] = (await messages(thread["id"]))["items"]
    assert welcome["kind"] == "SYSTEM" and welcome["body"] == "أهلاً بك في النهدي" and welcome["sender_side"] == "SELLER"
    # another seller, no text of its own: the default, in English for an English shopper
    status, other = await inquiry(catalog, OMAR, seller="dawaa")
    assert status == 201 and other["id"] != thread["id"]
    [default] = (await messages(other["id"], OMAR))["items"]
    assert "Panadol" in default["body"] and default["body"].startswith("Hello")
    assert (await inquiry(catalog, SARA, product="brufen"))[1]["id"] != thread["id"]  # one per product


async def test_a_direct_thread_is_one_per_pair_and_unknown_targets_are_404(catalog):
    seller = catalog.sellers["dawaa"]
    first = await api("start_direct_thread", "POST", f"sellers/{seller}/direct", SARA, seller_id=seller)
    second = await api("start_direct_thread", "POST", f"sellers/{seller}/direct", SARA, seller_id=seller)
    assert (first[0], second[0]) == (201, 200) and first[1]["id"] == second[1]["id"]
    assert first[1]["kind"] == "DIRECT" and first[1]["product_id"] is None
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await api("start_direct_thread", "POST", f"sellers/{missing}/direct", SARA, seller_id=missing))[0] == 404
    product_missing = await call(
        "start_inquiry", "POST", f"products/{missing}/inquiries", body={"seller_id": catalog.sellers["nahdi"]},
        headers=SARA, route_params={"id": missing},
    )  # fmt: skip
    assert product_missing[0] == 404 and product_missing[2]["code"] == "thread_product_not_found"


async def test_only_the_shopper_and_the_sellers_staff_reach_a_thread(catalog):
    _, thread = await inquiry(catalog)
    tid = thread["id"]
    assert (await post(tid, {"body": "Is it sugar free?"}))[0] == 201
    assert (await post(tid, {"body": "mine?"}, OMAR))[0] == 404  # another shopper
    other_staff = bearer("seller", sub="nahdi-2", seller_id=catalog.sellers["nahdi"])
    assert (await seller_post(tid, {"body": "Yes."}, other_staff))[0] == 201  # any staff of the seller
    assert (await seller_post(tid, {"body": "Hi"}, seller_headers(catalog, "dawaa")))[0] == 404
    path = f"seller/threads/{tid}/messages"
    assert (await api("list_seller_thread_messages", "GET", path, seller_headers(catalog, "dawaa"), id=tid))[0] == 404
    status, listed = await api("list_seller_threads", "GET", "seller/threads", seller_headers(catalog, "nahdi"))
    assert status == 200 and [t["id"] for t in listed["items"]] == [tid]
    # answering read the thread up to the answer: nothing unread on the seller's side
    assert listed["items"][0]["unread_count"] == 0 and listed["items"][0]["other_party_name"] == "Dev Customer"
    status, mine = await api("list_my_threads", "GET", "threads", SARA)
    assert mine["items"][0]["unread_count"] == 1 and mine["items"][0]["other_party_name"] == "Nahdi Pharmacy"
    assert mine["items"][0]["last_message_preview"] == "Yes."
    status, unread = await api("get_my_unread", "GET", "me/unread", SARA)
    assert unread == {"total": 1, "threads": [{"thread_id": tid, "unread_count": 1}]}
    last = (await messages(tid))["items"][-1]["id"]
    status, mark = await api("mark_thread_read", "POST", f"threads/{tid}/read", SARA, {"up_to": last}, id=tid)
    assert status == 200 and mark["unread_count"] == 0
    assert (await api("get_my_unread", "GET", "me/unread", SARA))[1] == {"total": 0, "threads": []}
    assert (await api("mark_thread_read", "POST", f"threads/{tid}/read", OMAR, {"up_to": last}, id=tid))[0] == 404


async def test_replies_stay_in_their_thread_and_retries_post_once(catalog):
    _, thread = await inquiry(catalog)
    _, other = await inquiry(catalog, product="brufen")
    status, first = await post(thread["id"], {"body": "first", "client_message_id": "a-1"})
    assert status == 201
    status, reply = await post(thread["id"], {"body": "again", "reply_to": first["id"]})
    assert status == 201 and reply["reply_to"] == first["id"]
    status, refused = await post(other["id"], {"body": "cross", "reply_to": first["id"]})
    assert status == 422 and refused["code"] == "reply_not_in_thread"
    status, retried = await post(thread["id"], {"body": "first", "client_message_id": "a-1"})
    assert status == 200 and retried["id"] == first["id"]
    assert len((await messages(thread["id"]))["items"]) == 3  # welcome, first, reply


async def test_attachments_are_checked_by_their_bytes_and_read_by_participants(catalog):
    _, thread = await inquiry(catalog)
    tid = thread["id"]

    async def upload(content: bytes) -> str:
        status, ticket = await api("start_thread_attachment", "POST", f"threads/{tid}/attachments", SARA,
                                   {"file_name": "photo.png"}, id=tid)  # fmt: skip
        assert status == 201, ticket
        async with httpx.AsyncClient(timeout=10) as client:
            put = await client.put(ticket["upload"]["url"], content=content, headers=ticket["upload"]["headers"])
        assert put.status_code == 201
        return ticket["id"]

    bad = await upload(b"MZ not an image")
    status, refused = await post(tid, {"attachment_ids": [bad]})
    assert status == 422 and refused["code"] == "attachment_file_type_not_allowed"
    good = await upload(PNG)
    status, message = await post(tid, {"attachment_ids": [good]})
    assert status == 201 and message["kind"] == "ATTACHMENT"
    assert message["attachments"] == [
        {"id": good, "file_name": "photo.png", "content_type": "image/png", "size_bytes": len(PNG)}
    ]
    assert (await post(tid, {"body": "again", "attachment_ids": [good]}))[0] == 409  # used once
    path = f"seller/threads/{tid}/attachments/{good}"
    status, url = await api("get_seller_thread_attachment", "GET", path, seller_headers(catalog, "nahdi"), id=tid,
                            attachment_id=good)  # fmt: skip
    assert status == 200 and url["content_type"] == "image/png"
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(url["url"])).content == PNG
    path = f"threads/{tid}/attachments/{good}"
    assert (await api("get_thread_attachment", "GET", path, OMAR, id=tid, attachment_id=good))[0] == 404


async def test_edits_and_deletes_within_the_window_keep_their_history_for_support(catalog, database_url):
    _, thread = await inquiry(catalog)
    tid = thread["id"]
    _, message = await post(tid, {"body": "typo"})
    path = f"threads/{tid}/messages/{message['id']}"
    status, edited = await api("edit_thread_message", "PATCH", path, SARA, {"body": "fixed"}, id=tid,
                               message_id=message["id"])  # fmt: skip
    assert status == 200 and edited["body"] == "fixed" and edited["edited_at"]
    assert (await api("edit_thread_message", "PATCH", path, OMAR, {"body": "x"}, id=tid, message_id=message["id"]))[
        0
    ] == 404
    party = threads.shopper_party(Principal(user_id="sara", roles=frozenset({"customer"})))
    late = datetime.now(UTC) + timedelta(minutes=16)
    with pytest.raises(Conflict):
        await threads.edit_own_message(party, UUID(tid), message["id"], EditMessage(body="late"), clock=lambda: late)
    status, deleted = await api("delete_thread_message", "DELETE", path, SARA, id=tid, message_id=message["id"])
    assert status == 200 and deleted["body"] == "" and deleted["deleted_at"]
    status, view = await api("moderate_thread", "GET", f"ops/threads/{tid}/messages", ADMIN, id=tid)
    assert status == 200
    assert [(e["previous_body"], e["action"]) for e in view["edits"]] == [("typo", "edited"), ("fixed", "deleted")]
    assert sql(database_url, "SELECT actor_id, action FROM thread_moderation_audit") == [
        ("support-agent", "thread_read")
    ]
    for statement in ("UPDATE thread_moderation_audit SET actor_id = 'x'", "TRUNCATE thread_moderation_audit"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            sql(database_url, statement)  # a row is there: nothing may change or erase it
    assert (await api("moderate_thread", "GET", f"ops/threads/{tid}/messages", SARA, id=tid))[0] == 403


async def test_a_reported_message_is_listed_for_support(catalog):
    _, thread = await inquiry(catalog)
    tid = thread["id"]
    _, answer = await seller_post(tid, {"body": "rude words"}, seller_headers(catalog, "nahdi"))
    path = f"threads/{tid}/messages/{answer['id']}/report"
    made = await api(
        "report_thread_message", "POST", path, SARA, {"reason": "abusive"}, id=tid, message_id=answer["id"]
    )
    again = await api(
        "report_thread_message", "POST", path, SARA, {"reason": "abusive"}, id=tid, message_id=answer["id"]
    )
    assert (made[0], again[0]) == (201, 200) and made[1]["id"] == again[1]["id"]
    missing = await api("report_thread_message", "POST", f"threads/{tid}/messages/999999/report", SARA,
                        {"reason": "x"}, id=tid, message_id=999999)  # fmt: skip
    assert missing[0] == 404
    status, reports = await api("list_message_reports", "GET", "ops/message-reports", ADMIN)
    assert status == 200 and [r["message_id"] for r in reports["items"]] == [answer["id"]]


async def deliver_thread_events(database_url: str) -> list[str]:
    """Every thread event of the outbox through the domain-event consumer, as the queue would."""
    rows = sql(database_url, "SELECT event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at "
                             "FROM outbox_events WHERE aggregate_type = 'thread' ORDER BY id")  # fmt: skip
    outcomes = []
    for event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at in rows:
        envelope = {"event_id": str(event_id), "event_type": event_type, "aggregate_type": aggregate_type,
                    "aggregate_id": aggregate_id, "payload": payload,
                    "occurred_at": occurred_at.isoformat()}  # fmt: skip
        outcomes.append(await events.consume_domain_event(json.dumps(envelope).encode(), message_id=None))
    return outcomes


async def test_new_messages_collapse_into_one_unread_notification_per_thread(catalog, database_url):
    _, thread = await inquiry(catalog)
    tid = thread["id"]
    for text in ("one", "two", "three"):
        assert (await post(tid, {"body": text}))[0] == 201
    assert await deliver_thread_events(database_url) == ["processed"] * 4  # the welcome and 3 posts
    assert await deliver_thread_events(database_url) == ["duplicate"] * 4  # redelivered: nothing changes
    _, notes = await api("list_seller_notifications", "GET", "seller/notifications", seller_headers(catalog, "nahdi"))
    [note] = notes["items"]
    assert note["data"]["count"] == 3 and note["title_en"] == "3 new messages: " + thread["subject"]
    assert note["data"]["preview"] == "three"
    _, mine = await api("list_my_notifications", "GET", "me/notifications", SARA)
    assert [n["title_en"] for n in mine["items"]] == ["New message: " + thread["subject"]]  # the welcome


async def test_a_post_sends_the_same_statements_whatever_the_threads_size(catalog, monkeypatch):
    from tests.support import counting_statements

    _, small = await inquiry(catalog)
    _, large = await inquiry(catalog, product="brufen")
    for n in range(40):
        assert (await post(large["id"], {"body": f"m{n}"}))[0] == 201
    counts = []
    with counting_statements(monkeypatch) as sent:
        for thread in (small, large):
            sent.clear()
            assert (await post(thread["id"], {"body": "count me", "client_message_id": f"k-{thread['id']}"}))[0] == 201
            counts.append(len(sent))
    print(f"statements per post: thread of 1 message {counts[0]}, thread of 41 messages {counts[1]}")
    assert counts[0] == counts[1] and counts[0] <= 4, counts  # client id, bump, insert CTE (+ transaction)


@pytest.mark.inconsistent_on_purpose
async def test_the_consistency_report_flags_a_thread_whose_count_is_off(catalog, database_url):
    from tests.integration.conftest import violations_in

    _, thread = await inquiry(catalog)
    assert violations_in(database_url) == []
    sql(database_url, "UPDATE threads SET message_seq = message_seq + 1 WHERE id = %s", thread["id"])
    assert [(v.kind, str(v.entity_id), v.field) for v in violations_in(database_url)] == [
        ("thread_messages", thread["id"], "message_seq")
    ]
