"""The payments domain's public API: the one module of `shared.payments` a trigger imports
(besides `models`). Use cases live in `checkout` (taking a payment), `intake` (webhooks in),
`processing` (acting on them from the queue) and `refunds` (refunds and their reconciliation).

For other domains (the prescriptions flow): `request_refund_in(conn, ...)` writes a system
refund of some lines inside the caller's transaction, and `settle_refund(refund_id)` asks the
gateway for the money after that transaction committed (a crash in between is reconciled by the
`reconcile_refunds` timer).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.events.models import AfterCommit, Consumer, EventEnvelope
from shared.orders.models_payment import REFUND_DUE
from shared.payments import checkout, intake, processing, refunds, repo_payments
from shared.payments.models import (
    PaymentOut,
    RefundLineIn,
    RefundOut,
    RefundRequest,
    RefundRow,
    ReviewPage,
    ReviewQuery,
    WebhookAck,
)
from shared.platform.auth import Principal
from shared.platform.pagination import OLDEST_FIRST, after_created, created_key_of, cut_page, fetch_size

if TYPE_CHECKING:
    from psycopg import AsyncConnection


def utcnow() -> datetime:
    return datetime.now(UTC)


async def start_payment(principal: Principal, order_id: UUID) -> tuple[PaymentOut, bool]:
    """`POST /api/orders/{id}/payments`: the order's live payment and whether it is new."""
    return await checkout.start_payment(principal, order_id, utcnow())


async def receive_webhook(gateway: str, body: bytes) -> WebhookAck:
    """`POST /api/webhooks/payments/{gateway}`: authenticated, stored, queued."""
    return await intake.receive_webhook(gateway, body, utcnow())


async def process_payment_event(body: bytes, clock: Callable[[], datetime] = utcnow) -> str:
    """The queue trigger's work on one message; returns the outcome."""
    return await processing.process_message(body, clock)


async def sweep_payment_events(clock: Callable[[], datetime] = utcnow) -> int:
    """The timer's work: events stored but not queued (or lost) are queued again."""
    return await intake.sweep_events(clock())


async def refund(principal: Principal, order_or_child_id: UUID, body: RefundRequest) -> RefundOut:
    """`POST /api/orders/{id}/refunds` (admins; a seller for its own child order)."""
    return await refunds.refund_order(principal, order_or_child_id, body, utcnow())


async def refund_due(conn: AsyncConnection, event: EventEnvelope) -> AfterCommit | None:
    return await refunds.refund_due(conn, event, utcnow)


# Domain events the payments domain consumes (shared.events.service subscribes them). The name
# is recorded with each processed event: never rename it.
EVENT_CONSUMERS: dict[str, Consumer] = {REFUND_DUE: Consumer("refund_cancelled_lines", refund_due)}


async def request_refund_in(
    conn: AsyncConnection, order_id: UUID, lines: list[RefundLineIn], *, restock: bool, reason: str
) -> UUID:
    """A system refund of `lines` inside the caller's transaction (written REQUESTED)."""
    return await refunds.request_refund_in(conn, order_id, lines, restock=restock, reason=reason, now=utcnow())


async def settle_refund(refund_id: UUID) -> RefundRow:
    """After the caller's commit: the gateway refunds, the outcome is recorded."""
    return await refunds.settle(refund_id, utcnow)


async def reconcile_refunds(clock: Callable[[], datetime] = utcnow) -> dict[str, int]:
    return await refunds.reconcile(clock)


async def payments_for_review(query: ReviewQuery) -> ReviewPage:
    """Payments whose amount or currency did not match (or paid a cancelled order), oldest first."""
    after = after_created(query.cursor, OLDEST_FIRST)
    async with db.connection(read_only=True) as conn:
        rows = await repo_payments.payments_for_review(conn, after, fetch_size(query.limit))
    items, next_cursor = cut_page(rows, query.limit, order=OLDEST_FIRST, key_of=created_key_of)
    return ReviewPage(items=items, next_cursor=next_cursor)
