"""The inbox's core at the database: at most one active conversation per (connection, contact)
by the partial unique index, messages stored once per (connection, external id), and the seed
scenarios of issue 15, raced with one session per racing client."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tests.inbox_support import later, make_connection, message, record, record_in_session, rows
from tests.support import LockGate


async def close(conversation_id, version: int, reason: str = "done") -> None:
    from shared.data import db
    from shared.inbox import repo_conversations

    params = {"id": conversation_id, "version": version, "now": later(1), "actor_id": "agent-1", "reason": reason}
    async with db.transaction() as conn:
        assert await repo_conversations.apply_action(conn, "close", params) is not None


def conversations(database_url: str, connection_id) -> list[tuple]:
    sql = "SELECT status, count(*) FROM conversations WHERE connection_id = %s GROUP BY status ORDER BY status"
    return rows(database_url, sql, (connection_id,))


async def test_close_then_message_opens_a_second_conversation(app_env, database_url):
    page = await make_connection("MESSENGER", "page-1")
    first = await record(page.id, message("psid-1", "m1"))
    assert first.outcome == "stored" and first.conversation_created
    await close(first.conversation.id, first.conversation.version)
    second = await record(page.id, message("psid-1", "m2", at=later(2)))
    assert second.conversation_created and second.conversation.id != first.conversation.id
    assert conversations(database_url, page.id) == [("CLOSED", 1), ("OPEN", 1)]


async def test_same_psid_on_facebook_and_instagram_are_two_conversations(app_env, database_url):
    page = await make_connection("MESSENGER", "page-1")
    instagram = await make_connection("INSTAGRAM", "ig-1")
    on_page = await record(page.id, message("same-psid", "m1"))
    on_instagram = await record(instagram.id, message("same-psid", "m1"))
    assert on_page.conversation.id != on_instagram.conversation.id
    assert on_page.conversation.contact_id != on_instagram.conversation.contact_id


async def test_a_customer_who_closed_three_times_has_three_closed_and_one_open(app_env, database_url):
    page = await make_connection("MESSENGER", "page-1")
    for n in range(3):
        outcome = await record(page.id, message("psid-1", f"m{n}", at=later(n)))
        await close(outcome.conversation.id, outcome.conversation.version)
    await record(page.id, message("psid-1", "m3", at=later(10)))
    assert conversations(database_url, page.id) == [("CLOSED", 3), ("OPEN", 1)]


async def test_the_active_lookup_uses_the_partial_unique_index(app_env, database_url):
    from shared.inbox.repo_contacts import SELECT_ACTIVE_FOR_UPDATE

    page = await make_connection("MESSENGER", "page-1")
    for n in range(30):
        await record(page.id, message(f"psid-{n}", f"m{n}"))
    sql = SELECT_ACTIVE_FOR_UPDATE.replace("%(connection_id)s", "%s").replace("%(contact_id)s", "%s")
    contact_id = rows(database_url, "SELECT id FROM contacts LIMIT 1")[0][0]
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")  # a 30-row table is read whole otherwise
        plan = conn.execute("EXPLAIN " + sql, (page.id, contact_id)).fetchall()
    text = "\n".join(line for (line,) in plan)
    assert "conversations_one_active" in text, text


async def test_one_delivery_five_times_at_once_is_one_message(app_env, database_url):
    page = await make_connection("MESSENGER", "page-1")
    event = message("psid-1", "mid.same")
    async with LockGate.holding(database_url, "LOCK TABLE inbox_message_keys IN EXCLUSIVE MODE", None) as gate:
        racing = asyncio.gather(*(record_in_session(database_url, page.id, event) for _ in range(5)))
        await gate.open_when_waiting(5, racing)
        outcomes = await racing
    assert sorted(o.outcome for o in outcomes) == ["duplicate"] * 4 + ["stored"]
    assert rows(database_url, "SELECT count(*) FROM inbox_messages") == [(1,)]
    assert conversations(database_url, page.id) == [("OPEN", 1)]


async def test_twenty_first_messages_at_once_open_one_conversation_with_twenty_messages(app_env, database_url):
    page = await make_connection("MESSENGER", "page-1")
    events = [message("psid-new", f"mid.{n}", f"message {n}", at=later(n)) for n in range(20)]
    async with LockGate.holding(database_url, "LOCK TABLE contacts IN EXCLUSIVE MODE", None) as gate:
        racing = asyncio.gather(*(record_in_session(database_url, page.id, event) for event in events))
        await gate.open_when_waiting(20, racing)
        outcomes = await racing
    assert {o.outcome for o in outcomes} == {"stored"}
    assert len({o.conversation.id for o in outcomes}) == 1
    assert sum(o.conversation_created for o in outcomes) == 1
    assert conversations(database_url, page.id) == [("OPEN", 1)]
    assert rows(database_url, "SELECT count(*), max(unread_count) FROM inbox_messages, conversations") == [(20, 20)]
    assert rows(database_url, "SELECT last_message_at = %s FROM conversations", (later(19),)) == [(True,)]


async def test_last_message_at_only_moves_forward(app_env, database_url):
    page = await make_connection("MESSENGER", "page-1")
    await record(page.id, message("psid-1", "m-new", at=later(10)))
    await record(page.id, message("psid-1", "m-old", at=later(1)))  # a late redelivery of an older one
    assert rows(database_url, "SELECT last_message_at = %s FROM conversations", (later(10),)) == [(True,)]


async def test_telegram_ids_are_64_bit_and_kept_exactly(app_env, database_url):
    bot = await make_connection("TELEGRAM", "987654321")
    big = str(2**62 + 12345)  # above 2**53: a float would change it
    outcome = await record(bot.id, message(big, f"{big}:1"))
    assert outcome.outcome == "stored"
    assert rows(database_url, "SELECT external_id FROM contacts") == [(big,)]


async def test_an_inbound_message_wakes_a_snoozed_conversation(app_env, database_url):
    from shared.data import db
    from shared.inbox import repo_conversations

    page = await make_connection("MESSENGER", "page-1")
    first = await record(page.id, message("psid-1", "m1"))
    params = {"id": first.conversation.id, "version": 1, "until": later(600), "now": later(1), "actor_id": "a"}
    async with db.transaction() as conn:
        assert (await repo_conversations.apply_action(conn, "snooze", params)).status == "SNOOZED"
    second = await record(page.id, message("psid-1", "m2", at=later(2)))
    assert second.conversation.id == first.conversation.id
    assert rows(database_url, "SELECT status, snoozed_until FROM conversations") == [("OPEN", None)]
    actions = rows(database_url, "SELECT action FROM conversation_history ORDER BY id")
    assert actions == [("opened",), ("woke",)]


async def test_an_echo_never_opens_a_conversation(app_env, database_url):
    page = await make_connection("MESSENGER", "page-1")
    echo = message("psid-1", "m-echo", direction="OUT")
    assert (await record(page.id, echo)).outcome == "no_conversation"
    assert rows(database_url, "SELECT count(*) FROM conversations") == [(0,)]


@pytest.mark.parametrize("close_first", [True, False])
async def test_a_close_racing_an_inbound_message_never_loses_it(app_env, database_url, close_first):
    """Whichever commits first, the message lands in the closed conversation (before the close)
    or in a new one: the racers are serialized by the conversation's row lock."""
    page = await make_connection("MESSENGER", "page-1")
    first = await record(page.id, message("psid-1", "m1"))
    lock = "SELECT 1 FROM conversations WHERE id = %s FOR UPDATE"
    async with LockGate.holding(database_url, lock, (first.conversation.id,)) as gate:
        closing = asyncio.ensure_future(close(first.conversation.id, first.conversation.version))
        if close_first:
            await gate.open_when_waiting(1, closing)
            await closing
            outcome = await record(page.id, message("psid-1", "m2", at=later(2)))
        else:
            arriving = asyncio.ensure_future(record(page.id, message("psid-1", "m2", at=later(2))))
            await gate.open_when_waiting(2, asyncio.gather(closing, arriving))
            await asyncio.gather(closing, arriving)
            outcome = arriving.result()
    assert rows(database_url, "SELECT count(*) FROM inbox_messages") == [(2,)]
    assert outcome.outcome == "stored"


@pytest.mark.inconsistent_on_purpose
async def test_the_consistency_check_sees_a_rewound_conversation_and_an_unkeyed_message(app_env, database_url):
    from tests.integration.conftest import violations_in

    page = await make_connection("MESSENGER", "page-1")
    outcome = await record(page.id, message("psid-1", "m1", at=later(5)))
    assert violations_in(database_url) == []
    rows(database_url, "UPDATE conversations SET last_message_at = %s RETURNING id", (later(1),))
    rows(database_url, "DELETE FROM inbox_message_keys RETURNING 1")
    found = {(v.kind, v.field, v.entity_id) for v in violations_in(database_url)}
    conversation = outcome.conversation.id
    assert found == {
        ("inbox_messages", "last_message_at", conversation),
        ("inbox_messages", "keyed_messages", conversation),
    }
