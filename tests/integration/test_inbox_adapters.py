"""Contract tests of the channel adapters against a local server answering with the documented
Graph API and Bot API shapes: success, an expired token, outside the window, 429, 5xx."""

from __future__ import annotations

import pytest

from shared.inbox.channels import meta, telegram
from shared.inbox.channels.base import ChannelRejected, ChannelUnavailable, OutgoingReply, RateLimited
from tests import inbox_channels as wire
from tests.inbox_channels import FakeChannels

META_SECRETS = {"page_access_token": "EAAG-token"}
BOT_SECRETS = {"bot_token": "123:abc"}


@pytest.fixture
def server():
    fake = FakeChannels()
    yield fake
    fake.close()


async def send_meta(server: FakeChannels, window: str = "RESPONSE"):
    reply = OutgoingReply("PAGE1", "PSID1", "hello", window)  # type: ignore[arg-type]
    return await meta.send(f"{server.origin}/v21.0", META_SECRETS, reply, timeout_seconds=5)


async def send_telegram(server: FakeChannels):
    reply = OutgoingReply("bot", "5000000000123", "hello", None)
    return await telegram.send(server.origin, BOT_SECRETS, reply, timeout_seconds=5)


async def test_meta_response_within_24_hours(server):
    sent = await send_meta(server)
    assert sent.platform_ids == ["m_sent1"]
    request = server.requests[0]
    assert request["path"] == "/v21.0/PAGE1/messages" and request["query"] == {"access_token": ["EAAG-token"]}
    assert request["body"] == {"recipient": {"id": "PSID1"}, "message": {"text": "hello"}, "messaging_type": "RESPONSE"}


async def test_meta_human_agent_tag_between_24_hours_and_7_days(server):
    await send_meta(server, "HUMAN_AGENT")
    body = server.requests[0]["body"]
    assert body["messaging_type"] == "MESSAGE_TAG" and body["tag"] == "HUMAN_AGENT"


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        (wire.GRAPH_EXPIRED_TOKEN, ChannelRejected, "code=190"),
        (wire.GRAPH_OUTSIDE_WINDOW, ChannelRejected, "subcode=2018278"),
        (wire.GRAPH_RATE_LIMITED, RateLimited, "code=613"),
        (wire.GRAPH_SERVER_ERROR, ChannelUnavailable, "graph 500"),
    ],
)
async def test_meta_errors(server, answer, error, text):
    server.script(answer)
    with pytest.raises(error) as raised:
        await send_meta(server)
    assert text in raised.value.message
    if error is RateLimited:
        assert raised.value.retry_after == 2.0


async def test_telegram_send_message(server):
    sent = await send_telegram(server)
    assert sent.platform_ids == ["1001"]
    assert server.requests[0]["path"] == "/bot123:abc/sendMessage"
    assert server.requests[0]["body"] == {"chat_id": "5000000000123", "text": "hello"}


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (wire.TELEGRAM_UNAUTHORIZED, ChannelRejected),
        (wire.TELEGRAM_BLOCKED, ChannelRejected),
        (wire.TELEGRAM_RATE_LIMITED, RateLimited),
        (wire.TELEGRAM_BAD_GATEWAY, ChannelUnavailable),
    ],
)
async def test_telegram_errors(server, answer, error):
    server.script(answer)
    with pytest.raises(error) as raised:
        await send_telegram(server)
    assert answer[1]["description"] in raised.value.message
    if error is RateLimited:
        assert raised.value.retry_after == 3.0


async def test_nothing_listening_is_unavailable():
    from tests.support import free_port

    reply = OutgoingReply("PAGE1", "PSID1", "hello", "RESPONSE")
    with pytest.raises(ChannelUnavailable):
        await meta.send(f"http://127.0.0.1:{free_port()}", META_SECRETS, reply, timeout_seconds=2)
