"""The channel-outbound consumer: sends one queued reply through its channel's adapter,
outside any transaction, and records SENT (with the platform's ids) or FAILED (with its error).

1. claim the message (QUEUED and not held by another sender) for a lease, commit;
2. call the adapter (Telegram replies over 4,096 characters go as several messages), retrying
   in this invocation: ChannelUnavailable with exponential backoff, RateLimited after its
   retry_after when that is short; a longer retry_after holds the message until then and
   re-raises, so the host delivers the job again later;
3. record the outcome conditionally on QUEUED; ChannelRejected is FAILED at once, and the
   host's last attempt records FAILED whatever the error, so nothing stays QUEUED forever.
A sender that dies after the platform accepted but before step 3 leaves the lease to expire
and the reply is sent again (at least once: documented in docs/inbox.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from shared.data import db
from shared.events.models import EventEnvelope
from shared.inbox import connections, repo_connections, repo_replies, rules
from shared.inbox.channels import meta, telegram
from shared.inbox.channels.base import ChannelError, ChannelRejected, OutgoingReply, RateLimited, Sent
from shared.inbox.models import ConnectionRow
from shared.platform import logs
from shared.platform.config import get_settings

log = logs.get_logger("inbox")
SEND_LEASE = timedelta(seconds=120)
ATTEMPTS = 4
BACKOFF_SECONDS = (0.5, 1.0, 2.0)
# A 429 asking for longer than this is left to the host's next delivery of the job.
MAX_INLINE_WAIT_SECONDS = 10.0
# Injected by tests (backoff without waiting).
sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep


class SendLater(RuntimeError):
    """The platform asked to wait, or another sender holds the message: retry the job later."""


async def send_reply(event: EventEnvelope, clock: Callable[[], datetime], *, last_attempt: bool) -> str:
    message_id = int(event.payload["message_id"])
    created_at = datetime.fromisoformat(str(event.payload["created_at"]))
    async with db.transaction() as conn:
        claimed = await repo_replies.claim_for_sending(conn, message_id, created_at, clock(), SEND_LEASE)
        connection = await repo_connections.connection(conn, claimed.connection_id) if claimed else None
    if claimed is None or connection is None:
        return "missing"
    if not claimed.claimed:
        if claimed.delivery_status != "QUEUED":
            return "done_already"
        raise SendLater(f"message {message_id} is held by another sender or a rate limit")
    reply = OutgoingReply(connection.external_id, claimed.recipient, claimed.text, event.payload.get("window"))
    try:
        sent = await _send_with_retries(connection, reply)
    except ChannelRejected as error:
        return await _record(claimed, clock, status="FAILED", error=error.message)
    except ChannelError as error:
        if last_attempt:
            return await _record(claimed, clock, status="FAILED", error=error.message)
        await _hold(claimed, clock() + timedelta(seconds=getattr(error, "retry_after", 0.0)))
        raise SendLater(error.message) from error
    return await _record(claimed, clock, status="SENT", sent=sent)


async def _send_with_retries(connection: ConnectionRow, reply: OutgoingReply) -> Sent:
    ids: list[str] = []
    parts = rules.split_text(reply.text) if connection.kind == "TELEGRAM" else [reply.text]
    for index, part in enumerate(parts):
        try:
            sent = await _send_one(
                connection, OutgoingReply(reply.channel_external_id, reply.recipient, part, reply.window)
            )
        except ChannelError as error:
            if ids:  # some parts went out: sending them again would repeat them
                raise ChannelRejected(f"sent {index} of {len(parts)} parts, then: {error.message}") from error
            raise
        ids += sent.platform_ids
    return Sent(ids)


async def _send_one(connection: ConnectionRow, reply: OutgoingReply) -> Sent:
    settings = get_settings()
    secrets = connections.opened_secrets(connection)
    for attempt in range(ATTEMPTS):
        try:
            if connection.kind == "TELEGRAM":
                return await telegram.send(
                    settings.telegram_api_base_url,
                    secrets,
                    reply,
                    timeout_seconds=settings.channel_http_timeout_seconds,
                )
            return await meta.send(
                settings.meta_graph_base_url, secrets, reply, timeout_seconds=settings.channel_http_timeout_seconds
            )
        except RateLimited as error:
            if attempt == ATTEMPTS - 1 or error.retry_after > MAX_INLINE_WAIT_SECONDS:
                raise
            await sleep(error.retry_after)
        except ChannelRejected:
            raise
        except ChannelError:
            if attempt == ATTEMPTS - 1:
                raise
            await sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
    raise AssertionError("unreachable")


async def _record(
    claimed: repo_replies.ClaimedReply,
    clock: Callable[[], datetime],
    *,
    status: str,
    error: str | None = None,
    sent: Sent | None = None,
) -> str:
    now = clock()
    external_id = sent.platform_ids[0] if sent and sent.platform_ids else None
    async with db.transaction() as conn:
        row = await repo_replies.record_outcome(
            conn, claimed.id, claimed.created_at, status=status, external_id=external_id, error=error, sent_at=now
        )
        if row is not None and sent is not None:
            await repo_replies.insert_sent_keys(
                conn, claimed.connection_id, claimed.id, claimed.created_at, sent.platform_ids
            )
    if status == "FAILED":
        log.warning("reply %s failed: %s", claimed.id, error)
    return status.lower()


async def _hold(claimed: repo_replies.ClaimedReply, until: datetime) -> None:
    async with db.transaction() as conn:
        await repo_replies.hold_until(conn, claimed.id, claimed.created_at, until)
