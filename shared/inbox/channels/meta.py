"""Messenger and Instagram through Meta's Graph API (base URL: META_GRAPH_BASE_URL).

Inbound: `object: page` (Messenger) or `object: instagram`; `entry[]` may hold many entries
(entry.id = the page or Instagram account id) and each `messaging[]` many events: message
(text, attachments, reply_to), message.is_echo (the page wrote from another tool: OUT),
delivery and read watermarks, postback. Anything else in `messaging` is skipped.

Outbound: `POST /{page-or-ig-id}/messages` with the page access token,
`{"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": ...}}`; between
24 h and 7 days `"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"`. The answer is
`{"recipient_id", "message_id"}`; errors are `{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}`: code 190 an invalid or expired token, 10 / 2018278 outside
the window, 4 / 17 / 32 / 613 throttling (or HTTP 429).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.inbox.channels.base import (
    ChannelRejected,
    ChannelUnavailable,
    OutgoingReply,
    RateLimited,
    Sent,
    post_json,
    retry_after_header,
)
from shared.inbox.models import ChannelEvent, ContactIn, InboundMessage, Watermark

OBJECT_KINDS = {"page": "MESSENGER", "instagram": "INSTAGRAM"}
THROTTLING_CODES = frozenset({4, 17, 32, 613})
DEFAULT_RETRY_AFTER = 30.0


class MalformedDelivery(ValueError):
    """A body no retry can fix (not the shape Meta documents)."""


def kind_of(body: Any) -> str:
    if not isinstance(body, dict) or body.get("object") not in OBJECT_KINDS:
        raise MalformedDelivery("object is neither page nor instagram")
    if not isinstance(body.get("entry"), list):
        raise MalformedDelivery("entry is not an array")
    return OBJECT_KINDS[body["object"]]


def entry_ids(body: Any) -> list[str]:
    """The page / account ids a delivery is for (one connection each)."""
    kind_of(body)
    return sorted({str(entry["id"]) for entry in body["entry"] if isinstance(entry, dict) and "id" in entry})


def events_by_entry(body: Any) -> list[tuple[str, list[ChannelEvent]]]:
    """Every entry's events, normalized, in the order Meta sent them."""
    kind_of(body)
    batches = []
    for entry in body["entry"]:
        if not isinstance(entry, dict) or "id" not in entry:
            raise MalformedDelivery("an entry without id")
        page_id = str(entry["id"])
        events = [e for raw in entry.get("messaging") or [] if (e := normalize(page_id, raw)) is not None]
        batches.append((page_id, events))
    return batches


def _time(milliseconds: Any) -> datetime:
    if not isinstance(milliseconds, int | float):
        raise MalformedDelivery("a timestamp is not a number")
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def normalize(page_id: str, raw: Any) -> ChannelEvent | None:
    """One `messaging` event, or None for a kind the inbox does not keep."""
    if not isinstance(raw, dict) or not isinstance(raw.get("sender"), dict):
        raise MalformedDelivery("a messaging event without sender")
    sender = str(raw["sender"].get("id", ""))
    recipient = str((raw.get("recipient") or {}).get("id", ""))
    if isinstance(raw.get("message"), dict):
        return _message(raw, sender, recipient)
    if isinstance(raw.get("postback"), dict):
        return _postback(raw, sender)
    for receipt, status in (("delivery", "DELIVERED"), ("read", "READ")):
        if isinstance(raw.get(receipt), dict):
            return _receipt(raw, receipt, status, sender)
    return None


def _receipt(raw: dict, receipt: str, status: str, sender: str) -> Watermark | None:
    """Messenger receipts carry a watermark; Instagram's `read` names a `mid` only, so the
    event's own timestamp stands for it (everything sent before it was seen)."""
    watermark = raw[receipt].get("watermark") or raw.get("timestamp")
    if not isinstance(watermark, int | float):
        return None
    return Watermark(contact_external_id=sender, status=status, watermark=_time(watermark))  # type: ignore[arg-type]


def _message(raw: dict, sender: str, recipient: str) -> InboundMessage:
    message = raw["message"]
    echo = bool(message.get("is_echo"))
    if not message.get("mid"):
        raise MalformedDelivery("a message without mid")
    attachments = message.get("attachments") or []
    if not isinstance(attachments, list):
        raise MalformedDelivery("attachments is not an array")
    reply_to = message.get("reply_to") if isinstance(message.get("reply_to"), dict) else {}
    return InboundMessage(
        contact=ContactIn(external_id=recipient if echo else sender),
        external_id=str(message["mid"]),
        sent_at=_time(raw.get("timestamp")),
        direction="OUT" if echo else "IN",
        text=str(message.get("text") or ""),
        attachments=[a for a in attachments if isinstance(a, dict)],
        reply_to=str(reply_to["mid"]) if reply_to.get("mid") else None,
    )


def _postback(raw: dict, sender: str) -> InboundMessage:
    postback = raw["postback"]
    timestamp = raw.get("timestamp")
    external_id = postback.get("mid") or f"postback:{sender}:{timestamp}"
    return InboundMessage(
        contact=ContactIn(external_id=sender),
        external_id=str(external_id),
        sent_at=_time(timestamp),
        kind="postback",
        text=str(postback.get("title") or postback.get("payload") or ""),
        attachments=[{"type": "postback", "payload": postback.get("payload")}],
    )


# --- sending -------------------------------------------------------------------------------


def send_body(reply: OutgoingReply) -> dict[str, Any]:
    body: dict[str, Any] = {"recipient": {"id": reply.recipient}, "message": {"text": reply.text}}
    if reply.window == "HUMAN_AGENT":
        return body | {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    return body | {"messaging_type": "RESPONSE"}


async def send(base_url: str, secrets: dict[str, str], reply: OutgoingReply, *, timeout_seconds: float) -> Sent:
    url = f"{base_url.rstrip('/')}/{reply.channel_external_id}/messages"
    params = {"access_token": secrets.get("page_access_token", "")}
    response = await post_json(url, send_body(reply), timeout_seconds=timeout_seconds, params=params)
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code < 300 and isinstance(data, dict) and data.get("message_id"):
        return Sent([str(data["message_id"])])
    raise _error(response.status_code, data, retry_after_header(response, DEFAULT_RETRY_AFTER))


def _error(status: int, data: Any, retry_after: float) -> Exception:
    error: dict[str, Any] = {}
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
    code = error.get("code")
    text = f"graph {status} code={code} subcode={error.get('error_subcode')}: {error.get('message') or 'no message'}"
    if status == 429 or code in THROTTLING_CODES:
        return RateLimited(text, retry_after)
    if status >= 500 or error.get("is_transient"):
        return ChannelUnavailable(text)
    return ChannelRejected(text)
