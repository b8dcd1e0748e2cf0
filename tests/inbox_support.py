"""Helpers for the inbox tests: connections with secrets, channel events, and racing sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

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
