"""The inbox's requests for the authorization matrix: seller A's (nahdi's) channel connections
and conversations, made in-process, a fresh target for every request that changes one."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.integration.authz_world import Req, World

APP_SECRET = "matrix-app-secret"
VERIFY_TOKEN = "matrix-verify-token"
TELEGRAM_SECRET = "matrix-telegram-secret"


async def _connection(w: World, kind: str, secrets: dict[str, str]) -> Any:
    from shared.data import db
    from shared.inbox import connections

    async with db.transaction() as conn:
        row = await connections.create_connection_in(
            conn,
            kind=kind,
            external_id=f"mx-{uuid.uuid4().hex[:12]}",
            display_name="Matrix",
            seller_id=uuid.UUID(w.nahdi),
            channel_secrets=secrets,
        )
    assert row is not None
    return row


async def _meta_connection(w: World) -> Any:
    if "meta" not in w.inbox:
        secrets = {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_access_token": "t"}
        w.inbox["meta"] = await _connection(w, "MESSENGER", secrets)
    return w.inbox["meta"]


async def _fresh_conversation(w: World, *, closed: bool = False) -> str:
    """A new conversation on seller A's widget connection (a new visitor each time)."""
    from shared.data import db
    from shared.inbox import inbound, repo_conversations
    from shared.inbox.models import ContactIn, InboundMessage

    if "widget" not in w.inbox:
        w.inbox["widget"] = await _connection(w, "WIDGET", {"widget_secret": "matrix-widget"})
    now = datetime.now(UTC)
    visitor = uuid.uuid4().hex
    message = InboundMessage(contact=ContactIn(external_id=visitor), external_id=f"w:{visitor}", sent_at=now, text="hi")
    async with db.transaction() as conn:
        outcome = await inbound.record_message(conn, w.inbox["widget"].id, message, now)
        assert outcome.conversation is not None
        if closed:
            params = {"id": outcome.conversation.id, "version": 1, "now": now, "actor_id": "m", "reason": "matrix"}
            await repo_conversations.apply_action(conn, "close", params)
    return str(outcome.conversation.id)


def _conversation(suffix: str, method: str, body: Any = None, *, closed: bool = False):
    async def build(w: World) -> Req:
        from tests.integration.authz_world import Req

        return Req(method, f"inbox/conversations/{await _fresh_conversation(w, closed=closed)}{suffix}", body)

    return build


async def _verify(w: World) -> Req:
    from tests.integration.authz_world import Req

    await _meta_connection(w)
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
    return Req("GET", "webhooks/meta", params=params)


async def _meta_webhook(w: World) -> Req:
    from shared.inbox.rules import meta_signature
    from tests.integration.authz_world import Req

    page = await _meta_connection(w)
    event = {"sender": {"id": "psid-m"}, "recipient": {"id": page.external_id}, "timestamp": 1764763200000,
             "message": {"mid": f"m_{uuid.uuid4().hex}", "text": "matrix"}}  # fmt: skip
    raw = json.dumps({"object": "page", "entry": [{"id": page.external_id, "time": 1, "messaging": [event]}]}).encode()
    headers = {"x-hub-signature-256": meta_signature(APP_SECRET, raw), "content-type": "application/json"}
    return Req("POST", "webhooks/meta", headers=headers, content=raw)


async def _telegram_webhook(w: World) -> Req:
    from tests.integration.authz_world import Req

    if "telegram" not in w.inbox:
        secrets = {"bot_token": "1:matrix", "webhook_secret_token": TELEGRAM_SECRET}
        w.inbox["telegram"] = await _connection(w, "TELEGRAM", secrets)
    message = {"message_id": 1, "date": 1764763200, "chat": {"id": 7, "type": "private"}, "text": "m"}
    update = {"update_id": uuid.uuid4().int % 2**31, "message": message}
    headers = {"x-telegram-bot-api-secret-token": TELEGRAM_SECRET}
    return Req("POST", f"webhooks/telegram/{w.inbox['telegram'].id}", update, headers=headers)


async def _rotate(w: World) -> Req:
    from tests.integration.authz_world import Req

    row = await _connection(w, "WIDGET", {"widget_secret": "before"})
    return Req("POST", f"inbox/connections/{row.id}/secrets", {"version": 1, "secrets": {"widget_secret": "after"}})


def _create(w: World) -> Req:
    from tests.integration.authz_world import Req

    body = {"kind": "WIDGET", "external_id": f"wt_{uuid.uuid4().hex[:12]}", "display_name": "Matrix widget",
            "secrets": {"widget_secret": "matrix"}}  # fmt: skip
    return Req("POST", "inbox/connections", body)


def _get(path: str):
    def build(w: World) -> Req:
        from tests.integration.authz_world import Req

        return Req("GET", path)

    return build


SNOOZE_UNTIL = (datetime.now(UTC) + timedelta(days=1)).isoformat()

INBOX_BUILDERS = {
    "verify_meta_webhook": _verify,
    "meta_webhook": _meta_webhook,
    "telegram_webhook": _telegram_webhook,
    "list_inbox_conversations": _get("inbox/conversations"),
    "get_inbox_conversation": _conversation("", "GET"),
    "list_inbox_messages": _conversation("/messages", "GET"),
    "reply_to_conversation": _conversation("/messages", "POST", {"client_id": "matrix", "text": "Hello"}),
    "close_conversation": _conversation("/close", "POST", {"version": 1, "reason": "matrix"}),
    "snooze_conversation": _conversation("/snooze", "POST", {"version": 1, "until": SNOOZE_UNTIL}),
    "reopen_conversation": _conversation("/reopen", "POST", {"version": 2}, closed=True),
    "assign_conversation": _conversation("/assign", "POST", {"version": 1, "agent": "matrix-agent"}),
    "create_inbox_connection": _create,
    "list_inbox_connections": _get("inbox/connections"),
    "rotate_inbox_connection_secrets": _rotate,
    "rekey_inbox_connections": lambda w: _post("ops/inbox/rekey"),
}


def _post(path: str) -> Req:
    from tests.integration.authz_world import Req

    return Req("POST", path)
