"""The chat widget's API in-process against the real database: sessions (anonymous, verified),
sending through the inbound path every channel takes, idempotent retries, the per-visitor send
limit (raced at the database), polling with the lookback, a close then a new conversation."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from datetime import timedelta

import psycopg
import pytest

from tests.inbox_support import T0, make_connection, rows, secrets_for
from tests.support import LockGate, call

WIDGET_TOKEN = "widget-token-test-1"


@pytest.fixture
async def widget(app_env, monkeypatch):
    from shared.inbox import widget

    monkeypatch.setattr(widget, "clock", lambda: T0)
    return await make_connection("WIDGET", WIDGET_TOKEN, name="Al-Shifa Pharmacy")


async def session(token: str = WIDGET_TOKEN, body: dict | None = None) -> tuple[int, dict, dict]:
    status, headers, reply = await call(
        "start_widget_session",
        "POST",
        f"widget/{token}/sessions",
        body=body or {},
        route_params={"widget_token": token},
    )
    return status, headers, reply


async def visitor() -> dict[str, str]:
    status, _, reply = await session()
    assert status == 201, reply
    return {"Authorization": f"Bearer {reply['visitor_token']}"}


async def send(auth: dict[str, str], text: str = "Do you have vitamin D?", client_id: str | None = None):
    body = {"client_id": client_id or str(uuid.uuid4()), "text": text}
    return await call("send_widget_message", "POST", "widget/messages", body=body, headers=auth)


async def poll(auth: dict[str, str], after: str | None = None):
    return await call(
        "poll_widget_messages", "GET", "widget/messages", headers=auth, params={"after": after} if after else {}
    )


def signature(identifier: str) -> str:
    secret = secrets_for("WIDGET")["widget_secret"].encode()
    return hmac.new(secret, identifier.encode(), hashlib.sha256).hexdigest()


async def test_a_visitor_writes_and_the_message_takes_the_inbound_path(widget, database_url):
    status, headers, reply = await session()
    assert status == 201 and reply["display_name"] == "Al-Shifa Pharmacy" and not reply["verified"]
    assert headers["access-control-allow-origin"] == "*"
    auth = {"Authorization": f"Bearer {reply['visitor_token']}"}
    assert rows(database_url, "SELECT count(*) FROM contacts")[0][0] == 0  # a session alone writes nothing
    status, _, message = await send(auth)
    assert status == 201 and message["direction"] == "IN"
    stored = rows(
        database_url,
        "SELECT ct.external_id, ct.verified, c.status, m.text FROM inbox_messages m "
        "JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id",
    )
    assert (
        len(stored) == 1
        and stored[0][0].startswith("visitor:")
        and stored[0][1:] == (False, "OPEN", "Do you have vitamin D?")
    )
    events = rows(
        database_url, "SELECT event_type FROM outbox_events WHERE aggregate_id = %s", (message["conversation_id"],)
    )
    assert events == [("inbox.message_received",)]


async def test_a_retried_send_is_stored_once_and_answers_the_first_message(widget, database_url):
    auth = await visitor()
    client_id = str(uuid.uuid4())
    first = await send(auth, "once", client_id)
    again = await send(auth, "once", client_id)
    assert (first[0], again[0]) == (201, 200)
    assert again[2] == first[2] and first[2]["client_id"] == client_id
    assert rows(database_url, "SELECT count(*) FROM inbox_messages")[0][0] == 1


async def test_two_racing_sends_with_one_client_id_store_one_message(widget, database_url):
    """Both pass the "stored before?" read, then queue on the visitor's window row (held by the
    gate); released together, the second's key claim waits for the first's commit and finds the
    key taken: it answers the first's message (200), and one message is stored."""
    auth = await visitor()
    assert (await send(auth, "opens the window row"))[0] == 201
    client_id = str(uuid.uuid4())
    lock = "SELECT 1 FROM widget_send_windows FOR UPDATE"
    async with LockGate.holding(database_url, lock, None) as gate:
        racing = asyncio.gather(send(auth, "twice", client_id), send(auth, "twice", client_id))
        await gate.open_when_waiting(2, racing)
        answers = await racing
    assert sorted(status for status, _, _ in answers) == [200, 201]
    assert answers[0][2]["id"] == answers[1][2]["id"]
    assert rows(database_url, "SELECT count(*) FROM inbox_messages WHERE text = 'twice'")[0][0] == 1
    assert rows(database_url, "SELECT sent FROM widget_send_windows") == [(2,)]  # the retry gave its slot back


async def test_the_same_client_id_from_two_visitors_is_two_messages(widget, database_url):
    client_id = str(uuid.uuid4())
    assert (await send(await visitor(), "a", client_id))[0] == 201
    assert (await send(await visitor(), "b", client_id))[0] == 201
    assert rows(database_url, "SELECT count(*) FROM conversations")[0][0] == 2


async def test_polls_show_the_history_and_then_what_is_new(widget, database_url, monkeypatch):
    from shared.inbox import widget as use_cases

    auth = await visitor()
    sent = [(await send(auth, f"message {n}"))[2] for n in range(3)]
    status, _, page = await poll(auth)
    assert status == 200 and [m["id"] for m in page["messages"]] == [m["id"] for m in sent]
    assert page["conversation"]["status"] == "OPEN"
    monkeypatch.setattr(use_cases, "clock", lambda: T0 + timedelta(minutes=5))
    newer = (await send(auth, "later"))[2]
    status, _, next_page = await poll(auth, page["cursor"])
    # read again from the lookback before the cursor: the widget drops the ids it shows
    assert [m["id"] for m in next_page["messages"]] == [m["id"] for m in sent] + [newer["id"]]
    _, _, last_page = await poll(auth, next_page["cursor"])
    assert [m["id"] for m in last_page["messages"]] == [newer["id"]]  # 5 minutes on: beyond the lookback
    assert last_page["cursor"] == next_page["cursor"]  # nothing newer: the cursor stays


async def test_a_visitor_sees_only_its_own_conversations(widget, database_url):
    other_widget = await make_connection("WIDGET", "widget-token-test-2")
    mine, theirs = await visitor(), await visitor()
    await send(mine, "mine")
    await send(theirs, "theirs")
    _, _, page = await poll(mine)
    assert [m["text"] for m in page["messages"]] == ["mine"]
    status, _, other = await session("widget-token-test-2")
    assert status == 201 and other["display_name"] == other_widget.display_name
    _, _, empty = await poll({"Authorization": f"Bearer {other['visitor_token']}"})
    assert empty["messages"] == [] and empty["conversation"] is None and empty["cursor"] is None


async def test_an_unknown_or_inactive_widget_is_404(widget, database_url):
    status, _, problem = await session("no-such-widget-token")
    assert status == 404 and problem["code"] == "widget_not_found"
    auth = await visitor()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE channel_connections SET active = false WHERE id = %s", (widget.id,))
    assert (await session())[0] == 404
    status, _, problem = await send(auth)
    assert status == 404 and problem["code"] == "widget_not_found"


async def test_a_verified_identity_is_one_contact_across_sessions_and_marked_verified(widget, database_url):
    identity = {"identity": {"identifier": "customer-42", "signature": signature("customer-42")}}
    replies = [await session(body=identity) for _ in range(2)]
    assert all(status == 201 and reply["verified"] for status, _, reply in replies)
    for _, _, reply in replies:  # two devices of the same customer
        assert (await send({"Authorization": f"Bearer {reply['visitor_token']}"}))[0] == 201
    contacts = rows(database_url, "SELECT external_id, verified FROM contacts")
    assert contacts == [("user:customer-42", True)]
    assert rows(database_url, "SELECT count(*) FROM conversations")[0][0] == 1


async def test_a_wrong_identity_signature_is_401_and_stores_nothing(widget, database_url):
    body = {"identity": {"identifier": "customer-42", "signature": signature("customer-43")}}
    status, headers, problem = await session(body=body)
    assert status == 401 and problem["code"] == "identity_not_verified"
    assert headers["access-control-allow-origin"] == "*"  # the page's script can read the refusal
    assert rows(database_url, "SELECT count(*) FROM contacts")[0][0] == 0


async def test_forged_missing_and_expired_visitor_tokens_are_401(widget, database_url, monkeypatch):
    from shared.inbox import widget as use_cases

    auth = await visitor()
    forged = {"Authorization": auth["Authorization"][:-3] + "abc"}
    for headers, code in [({}, "visitor_token_missing"), (forged, "visitor_token_invalid")]:
        status, _, problem = await send(headers)
        assert (status, problem["code"]) == (401, code)
    monkeypatch.setattr(use_cases, "clock", lambda: T0 + timedelta(days=91))
    status, _, problem = await poll(auth)
    assert (status, problem["code"]) == (401, "visitor_token_expired")
    assert rows(database_url, "SELECT count(*) FROM inbox_messages")[0][0] == 0


async def test_sending_beyond_the_limit_is_429_with_retry_after_and_not_stored(widget, database_url, monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("WIDGET_MESSAGES_PER_MINUTE", "3")
    reset_settings()
    auth = await visitor()
    assert [(await send(auth, f"m{n}"))[0] for n in range(3)] == [201, 201, 201]
    status, headers, problem = await send(auth, "one too many")
    assert status == 429 and problem["code"] == "sending_too_fast" and headers["retry-after"] == "60"
    assert "Retry-After" in headers["access-control-expose-headers"]
    assert rows(database_url, "SELECT count(*) FROM inbox_messages")[0][0] == 3
    from shared.inbox import widget as use_cases

    monkeypatch.setattr(use_cases, "clock", lambda: T0 + timedelta(minutes=1))  # the next window
    assert (await send(auth, "next minute"))[0] == 201


async def test_racing_sends_of_one_visitor_take_exactly_the_limit(widget, database_url):
    """12 sessions take a slot of the same visitor's window at once (queued on its row lock,
    released together): exactly the limit of 5 get one."""
    from shared.inbox import repo_widget, rules_widget

    racers, limit, visitor_id = 12, 5, "visitor:racing"
    window = rules_widget.rate_window_start(T0)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO widget_send_windows VALUES (%s, %s, %s, 1)",
            (widget.id, visitor_id, window - timedelta(minutes=1)),
        )
    lock = "SELECT 1 FROM widget_send_windows WHERE visitor = %s FOR UPDATE"

    async def racer() -> bool:
        async with await psycopg.AsyncConnection.connect(database_url) as conn, conn.transaction():
            return await repo_widget.take_send_slot(conn, widget.id, visitor_id, window, limit)

    async with LockGate.holding(database_url, lock, (visitor_id,)) as gate:
        racing = asyncio.gather(*(racer() for _ in range(racers)))
        await gate.open_when_waiting(racers, racing)
        taken = await racing
    assert sum(taken) == limit
    assert rows(database_url, "SELECT sent FROM widget_send_windows WHERE visitor = %s", (visitor_id,)) == [(limit,)]


async def test_after_a_close_the_next_message_opens_a_new_conversation(widget, database_url):
    from shared.data import db
    from shared.inbox import repo_conversations

    auth = await visitor()
    first = (await send(auth, "first"))[2]
    version = rows(database_url, "SELECT version FROM conversations WHERE id = %s", (first["conversation_id"],))[0][0]
    params = {
        "id": uuid.UUID(first["conversation_id"]),
        "version": version,
        "now": T0,
        "actor_id": "agent-1",
        "reason": "done",
    }
    async with db.transaction() as conn:
        assert await repo_conversations.apply_action(conn, "close", params) is not None
    _, _, page = await poll(auth)
    assert page["conversation"] == {"id": first["conversation_id"], "status": "CLOSED"}
    second = (await send(auth, "again"))[2]
    assert second["conversation_id"] != first["conversation_id"]
    _, _, page = await poll(auth)
    assert [m["text"] for m in page["messages"]] == ["first", "again"]
    assert page["conversation"]["status"] == "OPEN"


async def test_an_agents_reply_shows_in_the_visitors_next_poll(widget, database_url):
    from tests.support import bearer

    auth = await visitor()
    first = (await send(auth, "Is Panadol in stock?"))[2]
    _, _, page = await poll(auth)
    path = f"inbox/conversations/{first['conversation_id']}/messages"
    status, _, reply = await call(
        "reply_to_conversation",
        "POST",
        path,
        body={"client_id": "agent-reply-1", "text": "Yes, 24 tablets."},
        headers=bearer("admin", sub="agent-1"),
        route_params={"id": first["conversation_id"]},
    )
    assert status == 201, reply
    _, _, next_page = await poll(auth, page["cursor"])
    replies = [m for m in next_page["messages"] if m["direction"] == "OUT"]
    assert [(m["text"], m["client_id"]) for m in replies] == [("Yes, 24 tablets.", None)]


async def test_the_script_and_the_preflight(widget):
    status, headers, _ = await call_raw("widget_script", "GET", "widget/v1/widget.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    status, headers, _ = await call_raw(
        "widget_preflight", "OPTIONS", "widget/messages", route_params={"rest": "messages"}
    )
    assert status == 204 and headers["access-control-allow-origin"] == "*"
    assert "Authorization" in headers["access-control-allow-headers"]


async def call_raw(name: str, method: str, path: str, **kwargs):
    from tests.support import FakeContext, app_function, http_request

    response = await app_function(name)(http_request(method, path, **kwargs), FakeContext(name))
    headers = {k.lower(): v for k, v in response.headers.items()}
    if response.mimetype:
        headers.setdefault("content-type", response.mimetype)
    return response.status_code, headers, response.get_body()
