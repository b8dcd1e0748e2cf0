"""Channel webhooks in: verify, enqueue the raw delivery on CHANNEL_INBOUND_QUEUE, answer.

Nothing is parsed into the database here (the consumer, `delivery`, does that): a webhook call
is one signature check against cached connection secrets and one queue send, so it answers
well within Meta's and Telegram's timeouts. A body larger than a queue message goes to Blob
(CHANNEL_INBOUND_CONTAINER) and the message carries its name.
- forged or missing signature / secret token → 401, nothing stored;
- Storage down → 503: the platform retries (Meta for up to 36 h), nothing is lost;
- the same delivery twice → queued twice, stored once (unique keys in the consumer).
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from uuid import UUID, uuid4

from shared import storage
from shared.inbox import connections, rules
from shared.inbox.channels import meta
from shared.inbox.errors import InboxError
from shared.inbox.models import META_KINDS
from shared.inbox.models_api import DeliveryEnvelope, WebhookAck
from shared.platform.config import get_settings
from shared.platform.errors import DependencyUnavailable, Forbidden, PayloadTooLarge, Unauthorized

# Meta batches up to 1,000 updates in one delivery: more than the API's usual body limit.
MAX_WEBHOOK_BYTES = 4 * 1024 * 1024


def _unauthenticated() -> Unauthorized:
    return Unauthorized("the webhook is not authenticated", code=InboxError.WEBHOOK_UNAUTHENTICATED)


def _check_size(body: bytes) -> None:
    if len(body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"the body has {len(body)} bytes; at most {MAX_WEBHOOK_BYTES} are accepted")


async def verify_meta_subscription(mode: str | None, token: str | None, challenge: str | None) -> str:
    """Meta's GET: hub.mode=subscribe and a verify token of an active Messenger/Instagram
    connection (constant-time compares) → the challenge, echoed."""
    from shared.data import db
    from shared.inbox import repo_connections

    if mode != "subscribe" or not token or challenge is None:
        raise Forbidden("not a subscription verification", code=InboxError.VERIFICATION_FAILED)
    async with db.connection(read_only=True) as conn:
        rows = await repo_connections.active_of_kinds(conn, list(META_KINDS))
    matches = [rules.token_matches(token, connections.opened_secrets(row).get("verify_token")) for row in rows]
    if not any(matches):
        raise Forbidden("the verify token matches no connection", code=InboxError.VERIFICATION_FAILED)
    return challenge


async def receive_meta(body: bytes, signature: str | None, now: datetime) -> WebhookAck:
    """POST from Meta: X-Hub-Signature-256 over the raw body with the app secret of the
    connections the delivery's entries name."""
    _check_size(body)
    try:
        parsed = json.loads(body)
        kind, page_ids = meta.kind_of(parsed), meta.entry_ids(parsed)
    except (ValueError, meta.MalformedDelivery):
        raise _unauthenticated() from None  # not Meta's shape: nothing to verify it against
    secrets = set()
    for page_id in page_ids:
        row = await connections.active_connection(kind, page_id)
        if row is not None:
            secrets.add(connections.opened_secrets(row).get("app_secret", ""))
    if not any(rules.meta_signature_valid(signature, secret, body) for secret in secrets):
        raise _unauthenticated()
    await enqueue(DeliveryEnvelope(source="meta", received_at=now), body)
    return WebhookAck(queued=True)


async def receive_telegram(connection_id: UUID, body: bytes, secret_token: str | None, now: datetime) -> WebhookAck:
    """POST from Telegram to the bot's own URL, with the secret token set at setWebhook."""
    _check_size(body)
    row = await connections.active_connection_by_id(connection_id)
    expected = connections.opened_secrets(row).get("webhook_secret_token") if row and row.kind == "TELEGRAM" else None
    if not rules.token_matches(secret_token, expected):
        raise _unauthenticated()
    await enqueue(DeliveryEnvelope(source="telegram", connection_id=connection_id, received_at=now), body)
    return WebhookAck(queued=True)


async def enqueue(envelope: DeliveryEnvelope, body: bytes) -> None:
    """The raw delivery on CHANNEL_INBOUND_QUEUE (inline, or in Blob when large); 503 when
    Storage cannot take it."""
    from azure.core.exceptions import AzureError

    settings = get_settings()
    try:
        if len(body) > rules.QUEUE_INLINE_BODY_BYTES:
            envelope.blob = await _store_blob(settings.channel_inbound_container, envelope, body)
        else:
            envelope.body = body.decode("utf-8", errors="replace")
        await _send(settings.channel_inbound_queue, envelope.model_dump_json(exclude_none=True))
    except AzureError as error:
        raise DependencyUnavailable("storage") from error


async def _store_blob(container: str, envelope: DeliveryEnvelope, body: bytes) -> str:
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

    name = f"{envelope.source}/{envelope.received_at:%Y/%m/%d}/{uuid4()}.json"
    client = storage.blob_service_client().get_blob_client(container, name)
    try:
        await client.upload_blob(body)
    except ResourceNotFoundError:  # a fresh Azurite: Azure's container is made by infra
        with contextlib.suppress(ResourceExistsError):
            await storage.blob_service_client().create_container(container)
        await client.upload_blob(body)
    return name


async def _send(queue_name: str, text: str) -> None:
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

    queue = storage.queue_client(queue_name)
    message = storage.encode_queue_message(text)
    try:
        await queue.send_message(message)
    except ResourceNotFoundError:  # a fresh Azurite or test queue
        with contextlib.suppress(ResourceExistsError):
            await queue.create_queue()
        await queue.send_message(message)
