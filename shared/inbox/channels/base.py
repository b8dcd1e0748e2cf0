"""What every channel adapter answers with, and the one HTTP client they share.

An adapter sends one reply and reports the platform's message ids, or raises:
- `RateLimited` (429, Telegram's `retry_after`, Meta's throttling codes): retry after `retry_after`;
- `ChannelUnavailable` (timeouts, connection errors, 5xx): retry with backoff;
- `ChannelRejected` (an expired token, outside the window, a blocked user...): final, the
  platform's error recorded on the message as FAILED.
Adapters never retry themselves: the sender (shared.inbox.outbound) owns retries and backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # httpx loads on the first send, not at the app's cold start
    import httpx

from shared.platform.http_clients import pooled_client

Window = Literal["RESPONSE", "HUMAN_AGENT"]


@dataclass(frozen=True)
class OutgoingReply:
    channel_external_id: str  # page id, IG account id, bot id
    recipient: str  # the contact's external id (PSID, IGSID, Telegram chat id)
    text: str
    window: Window | None  # Meta only


@dataclass(frozen=True)
class Sent:
    platform_ids: list[str]


class ChannelError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message[:2000]


class RateLimited(ChannelError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelUnavailable(ChannelError):
    pass


class ChannelRejected(ChannelError):
    pass


async def post_json(
    url: str, body: dict, *, timeout_seconds: float, params: dict[str, str] | None = None
) -> httpx.Response:
    """POST; a timeout or connection error is ChannelUnavailable."""
    import httpx

    try:
        return await pooled_client().post(url, json=body, params=params, timeout=timeout_seconds)
    except httpx.HTTPError as error:
        raise ChannelUnavailable(f"{type(error).__name__}: {error}") from None


def retry_after_header(response: httpx.Response, default: float) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", default)))
    except ValueError:
        return default
