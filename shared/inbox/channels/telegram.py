"""Telegram through the Bot API (base URL: TELEGRAM_API_BASE_URL).

Inbound: one Update per webhook call, authenticated by the X-Telegram-Bot-Api-Secret-Token
header. De-duplicated on `update_id` per bot (the key `update:<id>`); the message's external id
is `chat.id:message_id`; the contact is the chat (in a private chat, the user). Ids are 64-bit:
kept as decimal text. Other update kinds (edits, callbacks, member changes) are skipped.

Outbound: `POST /bot<token>/sendMessage {"chat_id", "text"}` (≤ 4,096 characters; the sender
splits longer replies). The answer is `{"ok": true, "result": {"message_id", ...}}`, or
`{"ok": false, "error_code", "description", "parameters": {"retry_after"}}`: 401 a bad token,
403 the user blocked the bot, 429 with retry_after.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.inbox.channels.base import ChannelRejected, ChannelUnavailable, OutgoingReply, RateLimited, Sent, post_json
from shared.inbox.channels.meta import MalformedDelivery
from shared.inbox.models import ContactIn, InboundMessage

MESSAGE_KINDS = ("message", "channel_post")
DEFAULT_RETRY_AFTER = 5.0


def normalize(update: Any) -> InboundMessage | None:
    """The update's message, or None for an update kind the inbox does not keep."""
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise MalformedDelivery("not a Telegram update (no integer update_id)")
    message = next((update[k] for k in MESSAGE_KINDS if isinstance(update.get(k), dict)), None)
    if message is None:
        return None
    chat = message.get("chat")
    if (
        not isinstance(chat, dict)
        or not isinstance(chat.get("id"), int)
        or not isinstance(message.get("message_id"), int)
    ):
        raise MalformedDelivery("a message without chat.id or message_id")
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    name = " ".join(str(sender[k]) for k in ("first_name", "last_name") if sender.get(k)) or chat.get("title")
    reply_to = message.get("reply_to_message") if isinstance(message.get("reply_to_message"), dict) else {}
    return InboundMessage(
        contact=ContactIn(external_id=str(chat["id"]), name=name or None, username=sender.get("username")),
        external_id=f"{chat['id']}:{message['message_id']}",
        sent_at=datetime.fromtimestamp(int(message.get("date") or 0), UTC),
        text=str(message.get("text") or message.get("caption") or ""),
        attachments=_attachments(message),
        reply_to=f"{chat['id']}:{reply_to['message_id']}" if reply_to.get("message_id") else None,
        dedupe_keys=(f"update:{update['update_id']}",),
    )


def _attachments(message: dict) -> list[dict[str, Any]]:
    found = []
    for kind in ("photo", "document", "audio", "voice", "video", "sticker", "location", "contact"):
        if kind in message:
            value = message[kind]
            found.append({"type": kind, "payload": value[-1] if kind == "photo" and isinstance(value, list) else value})
    return found


async def send(base_url: str, secrets: dict[str, str], reply: OutgoingReply, *, timeout_seconds: float) -> Sent:
    url = f"{base_url.rstrip('/')}/bot{secrets.get('bot_token', '')}/sendMessage"
    response = await post_json(url, {"chat_id": reply.recipient, "text": reply.text}, timeout_seconds=timeout_seconds)
    try:
        data = response.json()
    except ValueError:
        data = {}
    if isinstance(data, dict) and data.get("ok") and isinstance(data.get("result"), dict):
        return Sent([str(data["result"].get("message_id"))])
    raise _error(response.status_code, data)


def _error(status: int, data: Any) -> Exception:
    data = data if isinstance(data, dict) else {}
    code = data.get("error_code", status)
    text = f"telegram {code}: {data.get('description') or 'no description'}"
    if code == 429:
        retry_after = (data.get("parameters") or {}).get("retry_after", DEFAULT_RETRY_AFTER)
        return RateLimited(text, float(retry_after))
    if status >= 500 or (isinstance(code, int) and code >= 500):
        return ChannelUnavailable(text)
    return ChannelRejected(text)
