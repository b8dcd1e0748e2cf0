"""Helpers for the inbox tests: connections with secrets, channel events, and racing sessions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "meta-verify-token-for-tests"
PAGE_TOKEN = "EAAG-page-token-for-tests"
BOT_TOKEN = "123456:bot-token-for-tests"
TELEGRAM_SECRET = "telegram-secret-token-for-tests"


def secrets_for(kind: str) -> dict[str, str]:
    if kind in ("MESSENGER", "INSTAGRAM"):
        return {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_access_token": PAGE_TOKEN}
    if kind == "TELEGRAM":
        return {"bot_token": BOT_TOKEN, "webhook_secret_token": TELEGRAM_SECRET}
    return {"widget_secret": "widget-secret-for-tests"}


async def make_connection(kind: str, external_id: str, *, seller_id: UUID | None = None, name: str = "Test") -> Any:
    from shared.data import db
    from shared.inbox import connections

    async with db.transaction() as conn:
        row = await connections.create_connection_in(
            conn,
            kind=kind,
            external_id=external_id,
            display_name=name,
            seller_id=seller_id,
            channel_secrets=secrets_for(kind),
        )
    assert row is not None
    return row


def message(psid: str, mid: str, text: str = "hello", *, at: datetime = T0, **kwargs: Any) -> Any:
    from shared.inbox.models import ContactIn, InboundMessage

    return InboundMessage(contact=ContactIn(external_id=psid), external_id=mid, sent_at=at, text=text, **kwargs)


async def record(connection_id: UUID, event: Any, now: datetime = T0) -> Any:
    """One event in its own transaction of the app's pool."""
    from shared.data import db
    from shared.inbox import inbound

    async with db.transaction() as conn:
        return await inbound.record_event(conn, connection_id, event, now)


async def record_in_session(database_url: str, connection_id: UUID, event: Any, now: datetime = T0) -> Any:
    """One event in a session of its own (racers: one session each)."""
    from shared.inbox import inbound

    async with await psycopg.AsyncConnection.connect(database_url) as conn, conn.transaction():
        return await inbound.record_event(conn, connection_id, event, now)


def later(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rows(database_url: str, sql: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


# --- through the app's functions -----------------------------------------------------------

ADMIN = {"role": "admin", "sub": "admin-agent"}


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def meta_message(psid: str, mid: str, text: str, at: datetime, page: str = "page-1", **message: Any) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": page},
        "timestamp": ms(at),
        "message": {"mid": mid, "text": text, **message},
    }


def meta_delivery(entries: dict[str, list[dict]], obj: str = "page") -> bytes:
    body = {"object": obj, "entry": [{"id": page, "time": 1, "messaging": events} for page, events in entries.items()]}
    return json.dumps(body).encode()


async def post_meta(body: bytes, secret: str = APP_SECRET) -> tuple[int, Any]:
    from shared.inbox.rules import meta_signature
    from tests.support import call

    headers = {"content-type": "application/json", "x-hub-signature-256": meta_signature(secret, body)}
    status, _, response = await call("meta_webhook", "POST", "webhooks/meta", raw=body, headers=headers)
    return status, response


async def post_telegram(connection_id: UUID, update: dict, secret: str = TELEGRAM_SECRET) -> tuple[int, Any]:
    from tests.support import call

    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": secret}
    status, _, response = await call(
        "telegram_webhook",
        "POST",
        f"webhooks/telegram/{connection_id}",
        raw=json.dumps(update).encode(),
        headers=headers,
        route_params={"connection_id": str(connection_id)},
    )
    return status, response


async def queued(queue_name: str) -> list[bytes]:
    """Every message on a queue, removed (decoded as the host would)."""
    from tests.payments_support import payment_messages

    return await payment_messages(queue_name)


async def process_inbound() -> list[dict]:
    """What on_channel_delivery does with every queued delivery."""
    from shared.inbox import service
    from shared.platform.config import get_settings

    bodies = await queued(get_settings().channel_inbound_queue)
    return [await service.process_channel_delivery(body, message_id=None) for body in bodies]


async def send_outbound(*, dequeue_count: int = 1) -> list[str]:
    """Relay the outbox, then what on_channel_outbound does with every queued reply."""
    from shared.events import relay
    from shared.inbox import service
    from shared.platform.config import get_settings

    await relay.wait_for_background_relay()
    await relay.relay_outbox()
    bodies = await queued(get_settings().channel_outbound_queue)
    return [await service.send_channel_reply(body, dequeue_count=dequeue_count) for body in bodies]


async def api(name: str, method: str, path: str, headers: dict, **kwargs: Any) -> tuple[int, Any]:
    from tests.support import call

    status, _, body = await call(name, method, path, headers=headers, **kwargs)
    return status, body


async def conversation_call(name: str, conversation_id: Any, suffix: str, headers: dict, **kwargs: Any):
    path = f"inbox/conversations/{conversation_id}{suffix}"
    method = "GET" if name.startswith(("get_", "list_")) else "POST"
    return await api(name, method, path, headers, route_params={"id": str(conversation_id)}, **kwargs)


@pytest.fixture
async def inbox_env(app_env):
    """The app's settings for one test, with the inbox's per-process caches empty (every test
    has a database of its own: a cached connection of another test's would be wrong)."""
    from shared.inbox import connections

    connections.forget_all()
    yield app_env
    connections.forget_all()
