"""The inbox through the app's functions in-process: signed webhooks in, the channel-inbound
queue drained into the consumer, the agents' API, replies out through the channel-outbound
consumer to a local Graph API / Bot API server, and the faults of issue 15."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.platform.config import get_settings
from tests.inbox_channels import GRAPH_EXPIRED_TOKEN, GRAPH_RATE_LIMITED, GRAPH_SERVER_ERROR
from tests.inbox_support import conversation_call as conv
from tests.inbox_support import (
    make_connection,
    meta_delivery,
    meta_message,
    post_meta,
    post_telegram,
    process_inbound,
    queued,
    rows,
    send_outbound,
)
from tests.support import bearer

ADMIN = bearer("admin", sub="admin-agent")


def recent(minutes: float = 0) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5) + timedelta(minutes=minutes)


async def conversations(headers=ADMIN, **params) -> dict:
    from tests.inbox_support import api

    status, page = await api("list_inbox_conversations", "GET", "inbox/conversations", headers, params=params)
    assert status == 200, page
    return page


async def messages(conversation_id, headers=ADMIN, **params) -> list[dict]:
    status, page = await conv("list_inbox_messages", conversation_id, "/messages", headers, params=params)
    assert status == 200, page
    return page["items"]


async def test_a_signed_messenger_delivery_reaches_the_agents(inbox_env, database_url):
    await make_connection("MESSENGER", "page-1")
    await make_connection("MESSENGER", "page-2")
    body = meta_delivery({
        "page-1": [meta_message("psid-a", "m1", "first", recent(1)), meta_message("psid-a", "m2", "second", recent(2))],
        "page-2": [meta_message("psid-b", "m3", "other page", recent(3), page="page-2")],
    })  # fmt: skip
    assert await post_meta(body) == (200, {"queued": True})
    assert await process_inbound() == [{"outcome": "processed", "stored": 3}]
    page = await conversations()
    assert [c["contact"]["external_id"] for c in page["items"]] == ["psid-b", "psid-a"]  # newest activity first
    assert [c["unread_count"] for c in page["items"]] == [1, 2] and page["unread_conversations"] == 2
    items = await messages(page["items"][1]["id"])
    assert [m["text"] for m in items] == ["first", "second"] and {m["direction"] for m in items} == {"IN"}
    polled = await messages(page["items"][1]["id"], after=str(items[0]["id"]))
    assert [m["text"] for m in polled] == ["second"]


async def test_a_forged_signature_is_401_and_nothing_is_stored(inbox_env, database_url):
    await make_connection("MESSENGER", "page-1")
    body = meta_delivery({"page-1": [meta_message("psid-a", "m1", "hi", recent())]})
    status, problem = await post_meta(body, secret="not-the-app-secret")
    assert status == 401 and problem["code"] == "webhook_unauthenticated"
    assert await queued(get_settings().channel_inbound_queue) == []
    assert rows(database_url, "SELECT count(*) FROM inbox_messages") == [(0,)]


async def test_meta_subscription_verification(inbox_env):
    from tests.support import app_function, http_request

    await make_connection("INSTAGRAM", "ig-1")

    async def verify(token: str):
        params = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
        response = await app_function("verify_meta_webhook")(http_request("GET", "webhooks/meta", params=params), None)
        return response.status_code, response.get_body()

    from tests.inbox_support import VERIFY_TOKEN

    assert await verify(VERIFY_TOKEN) == (200, b"1158201444")
    assert (await verify("wrong"))[0] == 403


async def test_telegram_updates_are_deduplicated_on_update_id(inbox_env, database_url):
    bot = await make_connection("TELEGRAM", "777000")
    chat = 2**40 + 7  # a 64-bit id
    update = {
        "update_id": 500,
        "message": {"message_id": 9, "date": int(recent().timestamp()), "chat": {"id": chat, "type": "private"},
                    "from": {"id": chat, "first_name": "Omar", "username": "omar"}, "text": "Is it in stock?"},
    }  # fmt: skip
    assert await post_telegram(bot.id, update) == (200, {"queued": True})
    assert await post_telegram(bot.id, update) == (200, {"queued": True})  # Telegram retried
    assert (await post_telegram(bot.id, update, secret="forged"))[0] == 401
    assert (await post_telegram(uuid4(), update))[0] == 401
    assert await process_inbound() == [{"outcome": "processed", "stored": 1}, {"outcome": "processed", "duplicate": 1}]
    assert rows(database_url, "SELECT external_id FROM inbox_messages") == [(f"{chat}:9",)]
    assert rows(database_url, "SELECT external_id, name, username FROM contacts") == [(str(chat), "Omar", "omar")]


async def test_storage_down_at_intake_is_503_and_the_retry_is_processed_once(inbox_env, database_url, monkeypatch):
    from shared import storage
    from tests.integration.test_payments import _unreachable_storage

    await make_connection("MESSENGER", "page-1")
    body = meta_delivery({"page-1": [meta_message("psid-a", "m1", "hi", recent())]})
    await storage.close_storage_clients()
    with monkeypatch.context() as down:
        down.setenv("AzureWebJobsStorage", _unreachable_storage())  # Azurite "stopped"
        status, problem = await post_meta(body)
        await storage.close_storage_clients()
    assert status == 503 and problem["dependency"] == "storage"
    assert await post_meta(body) == (200, {"queued": True})  # Meta's retry, Azurite back
    assert await post_meta(body) == (200, {"queued": True})  # and once more, for good measure
    assert await process_inbound() == [{"outcome": "processed", "stored": 1}, {"outcome": "processed", "duplicate": 1}]
    assert rows(database_url, "SELECT count(*) FROM inbox_messages") == [(1,)]


async def test_a_delivery_larger_than_a_queue_message_goes_through_blob(inbox_env, database_url):
    await make_connection("MESSENGER", "page-1")
    events = [meta_message(f"psid-{n}", f"m{n}", "x" * 500, recent()) for n in range(120)]
    body = meta_delivery({"page-1": events})
    assert len(body) > 64 * 1024
    assert await post_meta(body) == (200, {"queued": True})
    assert await process_inbound() == [{"outcome": "processed", "stored": 120}]


async def test_a_malformed_delivery_is_recorded_and_dropped(inbox_env, database_url):
    from shared.inbox import service

    envelope = {"source": "meta", "received_at": "2026-12-01T00:00:00Z", "body": json.dumps({"object": "page"})}
    outcome = await service.process_channel_delivery(json.dumps(envelope).encode(), message_id="q1")
    assert outcome == {"outcome": "rejected"}
    assert rows(database_url, "SELECT message_id FROM rejected_messages") == [("q1",)]


# --- replies -------------------------------------------------------------------------------


async def inbound_conversation(at: datetime, kind: str = "MESSENGER", external_id: str = "page-1") -> dict:
    await make_connection(kind, external_id)
    body = meta_delivery({external_id: [meta_message("psid-a", f"m-{at.timestamp()}", "hello", at)]})
    assert (await post_meta(body))[0] == 200
    await process_inbound()
    return (await conversations())["items"][0]


async def reply(conversation: dict, text: str = "How can we help?", client_id: str = "c1") -> tuple[int, dict]:
    body = {"client_id": client_id, "text": text}
    return await conv("reply_to_conversation", conversation["id"], "/messages", ADMIN, body=body)


async def test_a_reply_is_stored_once_sent_and_its_echo_is_a_duplicate(inbox_env, fake_channels, database_url):
    conversation = await inbound_conversation(recent())
    status, first = await reply(conversation)
    assert status == 201 and first["delivery_status"] == "QUEUED" and first["direction"] == "OUT"
    again, second = await reply(conversation)
    assert again == 200 and second["id"] == first["id"]
    assert await send_outbound() == ["sent"]
    sent = fake_channels.requests
    assert len(sent) == 1 and sent[0]["body"]["messaging_type"] == "RESPONSE"
    items = await messages(conversation["id"])
    assert items[-1]["delivery_status"] == "SENT" and items[-1]["external_id"] == "m_sent1"
    assert (await conversations())["items"][0]["unread_count"] == 0
    echo = meta_message("page-1", "m_sent1", "How can we help?", recent(1), page="psid-a", is_echo=True)
    assert (await post_meta(meta_delivery({"page-1": [echo]})))[0] == 200
    assert await process_inbound() == [{"outcome": "processed", "duplicate": 1}]
    receipt = {"sender": {"id": "psid-a"}, "recipient": {"id": "page-1"}, "timestamp": 1,
               "read": {"watermark": int(datetime.now(UTC).timestamp() * 1000) + 1000}}  # fmt: skip
    assert (await post_meta(meta_delivery({"page-1": [receipt]})))[0] == 200
    await process_inbound()
    assert (await messages(conversation["id"]))[-1]["delivery_status"] == "READ"


async def test_between_24_hours_and_7_days_the_reply_is_tagged_human_agent(inbox_env, fake_channels):
    conversation = await inbound_conversation(datetime.now(UTC) - timedelta(days=3))
    assert (await reply(conversation))[0] == 201
    assert await send_outbound() == ["sent"]
    assert fake_channels.requests[0]["body"]["tag"] == "HUMAN_AGENT"


async def test_after_7_days_the_reply_is_refused_before_anything_is_queued(inbox_env, database_url):
    conversation = await inbound_conversation(datetime.now(UTC) - timedelta(days=8))
    status, problem = await reply(conversation)
    assert status == 409 and problem["code"] == "outside_messaging_window"
    assert rows(database_url, "SELECT count(*) FROM inbox_messages WHERE direction = 'OUT'") == [(0,)]
    assert rows(database_url, "SELECT count(*) FROM outbox_events WHERE event_type = 'inbox.reply_queued'") == [(0,)]


async def test_a_429_is_waited_out_and_the_reply_sent(inbox_env, fake_channels, monkeypatch):
    from shared.inbox import outbound

    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(outbound, "sleep", no_wait)
    conversation = await inbound_conversation(recent())
    fake_channels.script(GRAPH_RATE_LIMITED, GRAPH_SERVER_ERROR)
    await reply(conversation)
    assert await send_outbound() == ["sent"]
    assert waits == [2.0, 1.0] and len(fake_channels.requests) == 3


async def test_an_expired_token_fails_the_reply_with_the_platforms_error(inbox_env, fake_channels):
    conversation = await inbound_conversation(recent())
    fake_channels.script(GRAPH_EXPIRED_TOKEN)
    await reply(conversation)
    assert await send_outbound() == ["failed"]
    last = (await messages(conversation["id"]))[-1]
    assert last["delivery_status"] == "FAILED" and "code=190" in last["error"]


async def test_a_platform_down_through_every_attempt_is_retried_by_the_host_then_failed(
    inbox_env, fake_channels, monkeypatch
):
    from shared.events import relay
    from shared.inbox import outbound, service

    monkeypatch.setattr(outbound, "sleep", lambda seconds: _nothing())
    conversation = await inbound_conversation(recent())
    fake_channels.script(*[GRAPH_SERVER_ERROR] * 4)
    await reply(conversation)
    await relay.wait_for_background_relay()
    await relay.relay_outbox()
    (body,) = await queued(get_settings().channel_outbound_queue)
    with pytest.raises(outbound.SendLater):
        await service.send_channel_reply(body, dequeue_count=1)
    assert (await messages(conversation["id"]))[-1]["delivery_status"] == "QUEUED"
    fake_channels.script(*[GRAPH_SERVER_ERROR] * 4)
    assert await service.send_channel_reply(body, dequeue_count=5) == "failed"  # the host's last attempt
    assert await service.send_channel_reply(body, dequeue_count=5) == "done_already"


async def _nothing() -> None:
    return None


async def test_a_long_telegram_reply_is_split(inbox_env, fake_channels, database_url):
    bot = await make_connection("TELEGRAM", "777000")
    update = {"update_id": 1, "message": {"message_id": 1, "date": int(recent().timestamp()),
                                          "chat": {"id": 42, "type": "private"}, "text": "hi"}}  # fmt: skip
    await post_telegram(bot.id, update)
    await process_inbound()
    conversation = (await conversations())["items"][0]
    assert (await reply(conversation, text="word " * 2000))[0] == 201
    assert await send_outbound() == ["sent"]
    assert [len(r["body"]["text"]) for r in fake_channels.requests] == [4094, 4094, 1809]
    assert all(r["body"]["chat_id"] == "42" for r in fake_channels.requests)


async def test_a_widget_reply_is_delivered_by_the_visitors_poll(inbox_env, database_url):
    from shared.data import db
    from shared.inbox import inbound
    from tests.inbox_support import message

    widget = await make_connection("WIDGET", "wt_demo")
    async with db.transaction() as conn:
        await inbound.record_message(conn, widget.id, message("visitor-1", "w:1", "hello", at=recent()), recent())
    conversation = (await conversations())["items"][0]
    status, sent = await reply(conversation)
    assert status == 201 and sent["delivery_status"] == "SENT"
    assert rows(database_url, "SELECT count(*) FROM outbox_events WHERE event_type = 'inbox.reply_queued'") == [(0,)]


# --- actions and scope ---------------------------------------------------------------------


async def test_reopening_while_another_is_active_is_409_naming_it(inbox_env):
    first = await inbound_conversation(recent())
    status, closed = await conv(
        "close_conversation", first["id"], "/close", ADMIN, body={"version": 1, "reason": "done"}
    )
    assert status == 200 and closed["status"] == "CLOSED" and closed["history"][-1]["action"] == "closed"
    body = meta_delivery({"page-1": [meta_message("psid-a", "m-again", "me again", recent(1))]})
    await post_meta(body)
    await process_inbound()
    second = next(c for c in (await conversations(status="OPEN"))["items"])
    assert second["id"] != first["id"]
    status, problem = await conv("reopen_conversation", first["id"], "/reopen", ADMIN, body={"version": 2})
    assert status == 409 and problem["code"] == "active_conversation_exists"
    assert problem["active_conversation_id"] == second["id"]
    stale = await conv("close_conversation", second["id"], "/close", ADMIN, body={"version": 9, "reason": "x"})
    assert stale[0] == 409 and stale[1]["code"] == "conversation_version_conflict"


async def test_snooze_assign_and_the_wake_timer_run_twice_at_once(inbox_env, database_url):
    import asyncio

    from shared.inbox import service

    conversation = await inbound_conversation(recent())
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    status, snoozed = await conv(
        "snooze_conversation", conversation["id"], "/snooze", ADMIN, body={"version": 1, "until": until}
    )
    assert status == 200 and snoozed["status"] == "SNOOZED"
    status, assigned = await conv(
        "assign_conversation", conversation["id"], "/assign", ADMIN, body={"version": 2, "agent": "agent-7"}
    )
    assert status == 200 and assigned["assignee_id"] == "agent-7"
    assert (await conversations(assignee="agent-7"))["items"][0]["id"] == conversation["id"]
    later = datetime.now(UTC) + timedelta(hours=2)
    woke = await asyncio.gather(*(service.wake_snoozed_conversations(lambda: later) for _ in range(2)))
    assert sorted(woke) == [0, 1]
    assert rows(database_url, "SELECT count(*) FROM conversation_history WHERE action = 'woke'") == [(1,)]
    assert rows(database_url, "SELECT status FROM conversations") == [("OPEN",)]


async def test_sellers_see_their_own_connections_only(inbox_env, database_url):
    mine, theirs = uuid4(), uuid4()
    for seller, slug in ((mine, "mine"), (theirs, "theirs")):
        insert = "INSERT INTO sellers (id, name_en, name_ar, slug) VALUES (%s, %s, %s, %s) RETURNING id"
        rows(database_url, insert, (seller, slug, slug, slug))
    await make_connection("MESSENGER", "page-mine", seller_id=mine)
    await make_connection("MESSENGER", "page-theirs", seller_id=theirs)
    body = meta_delivery({"page-mine": [meta_message("p1", "m1", "a", recent(), page="page-mine")],
                          "page-theirs": [meta_message("p2", "m2", "b", recent(), page="page-theirs")]})  # fmt: skip
    await post_meta(body)
    await process_inbound()
    seller = bearer("seller", sub="seller-agent", seller_id=str(mine))
    visible = (await conversations(seller))["items"]
    assert [c["connection_name"] for c in visible] == ["Test"] and visible[0]["contact"]["external_id"] == "p1"
    other = next(c for c in (await conversations())["items"] if c["contact"]["external_id"] == "p2")
    assert (await conv("get_inbox_conversation", other["id"], "", seller))[0] == 404
    assert (await conv("close_conversation", other["id"], "/close", seller, body={"version": 1, "reason": "x"}))[
        0
    ] == 404
    assert (await conv("get_inbox_conversation", other["id"], "", bearer("customer")))[0] == 403


async def test_connections_never_return_their_secrets(inbox_env):
    from tests.inbox_support import api

    body = {"kind": "TELEGRAM", "external_id": "555", "display_name": "Bot",
            "secrets": {"bot_token": "123:SECRET-bot", "webhook_secret_token": "SECRET-hook"}}  # fmt: skip
    status, created = await api("create_inbox_connection", "POST", "inbox/connections", ADMIN, body=body)
    assert status == 201 and created["secrets_set"] == ["bot_token", "webhook_secret_token"]
    assert created["webhook_path"] == f"/api/webhooks/telegram/{created['id']}"
    assert "SECRET" not in json.dumps(created)
    status, problem = await api("create_inbox_connection", "POST", "inbox/connections", ADMIN, body=body)
    assert status == 409 and problem["code"] == "connection_exists"
    missing = body | {"external_id": "556", "secrets": {"bot_token": "1:x"}}
    assert (await api("create_inbox_connection", "POST", "inbox/connections", ADMIN, body=missing))[0] == 422
    rotate = {"version": 1, "secrets": {"bot_token": "123:SECRET-new", "webhook_secret_token": "SECRET-new"}}
    path = f"inbox/connections/{created['id']}/secrets"
    status, rotated = await api(
        "rotate_inbox_connection_secrets", "POST", path, ADMIN, body=rotate, route_params={"id": created["id"]}
    )
    assert status == 200 and rotated["version"] == 2 and "SECRET" not in json.dumps(rotated)
    status, page = await api("list_inbox_connections", "GET", "inbox/connections", ADMIN)
    assert status == 200 and "SECRET" not in json.dumps(page)
