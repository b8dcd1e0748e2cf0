"""Acting on a stored webhook event (queue trigger `on_payment_event`): an idempotent state
machine, one transaction per event.

1. The event row is read; one already processed is a duplicate.
2. The payment is fetched from the gateway's API, outside any transaction: a webhook is only
   authenticated by a shared token, so what we act on is what the API says, not the body.
3. One transaction: claim the event (`processed_at` set once), lock the payment, decide
   (`rules.decide`), write conditionally on the payment's version, and for money received
   confirm the order (`orders.service.confirm_paid_order`) and record `payment.succeeded`.
   A payment after the order expired whose stock is gone gets a full refund requested in the
   same transaction, and settled with the gateway after the commit.

Gateway down → the error propagates and the host retries the message; gateway says the payment
does not exist → processed with that outcome. A malformed message → poison queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from pydantic import ValidationError

from shared.data import db
from shared.events import relay
from shared.events.models import MalformedEvent
from shared.events.repo import record_event
from shared.orders import service as orders
from shared.payments import adapters, refunds, repo_events, repo_payments, repo_refunds, rules
from shared.payments.models import EventMessage, EventRow, PaymentRow
from shared.platform import logs

if TYPE_CHECKING:
    from shared.payments.gateways.base import GatewayPayment

log = logs.get_logger("payments")
RETRIES_ON_CONFLICT = 3
LATE_NO_STOCK_REASON = "paid after the order expired, and its stock is gone"


async def process_message(body: bytes, now: Callable[[], datetime]) -> str:
    from shared.payments.gateways.base import GatewayRejected  # lazily: httpx

    try:
        message = EventMessage.model_validate_json(body)
    except ValidationError as error:
        raise MalformedEvent(f"not a payment event message: {error.error_count()} error(s)") from error
    async with db.connection() as conn:
        event = await repo_events.load_event(conn, message.event_id)
    if event is None:
        raise MalformedEvent(f"no stored payment event {message.event_id}")
    if event.processed_at is not None:
        return "duplicate"
    try:
        fetched: GatewayPayment | None = await adapters.gateway_for(event.gateway).fetch_payment(
            event.gateway_payment_id
        )
    except GatewayRejected:
        fetched = None  # the gateway does not know it: nothing to act on
    outcome, refund_ids = await _apply_once(event, fetched, now())
    relay.relay_soon()
    for refund_id in refund_ids:
        await refunds.settle(refund_id, now)
    return outcome


async def _apply_once(event: EventRow, fetched: GatewayPayment | None, now: datetime) -> tuple[str, list[UUID]]:
    """One transaction; one that lost a race at the hot offer row (a deadlock with a placement,
    which locks the offer for its foreign keys before it updates it) is run again at once
    rather than left to the host's visibility timeout."""
    async for attempt in db.conflict_retrying(RETRIES_ON_CONFLICT):
        with attempt:
            async with db.transaction() as conn:
                if not await repo_events.claim_event(conn, event.id, now):
                    return "duplicate", []
                outcome, refund_ids = await _apply(conn, event, fetched, now)
                await repo_events.set_outcome(conn, event.id, outcome)
            return outcome, refund_ids
    raise AssertionError("unreachable: tenacity re-raises the last error")


async def _apply(conn, event: EventRow, fetched: GatewayPayment | None, now: datetime) -> tuple[str, list[UUID]]:
    if fetched is None:
        return "unknown_at_gateway", []
    payment = await repo_payments.lock_for_event(conn, event.gateway, fetched.gateway_payment_id, _our_id(fetched))
    if payment is None:
        return "unknown_payment", []
    if fetched.refunded_minor and await _flagged_outside_refund(conn, payment, fetched):
        return "refunded_outside", []
    decision = rules.decide(
        payment.status,
        gateway_status=fetched.status,
        expected_minor=rules.to_minor(payment.amount),
        expected_currency=payment.currency,
        paid_minor=fetched.amount_minor,
        currency=fetched.currency,
    )
    if decision.kind == "mismatch":
        assert decision.reason is not None
        await repo_payments.flag_for_review(conn, payment, decision.reason, fetched.raw)
        log.warning("payment %s flagged for review: %s", payment.id, decision.reason)
        return "amount_mismatch", []
    if decision.kind != "move":
        return decision.kind, []
    assert decision.to is not None
    moved = await repo_payments.move_status(conn, payment, decision.to, fetched, now)
    assert moved is not None  # the row is locked: its version cannot have moved
    if decision.to not in rules.MONEY_IN:
        return f"payment_{decision.to.lower()}", []
    return await _money_in(conn, moved, now)


async def _flagged_outside_refund(conn, payment: PaymentRow, fetched: GatewayPayment) -> bool:
    """A refund Souq did not ask for (made in the gateway's dashboard) is not booked against
    lines nobody named: the payment is flagged for a person, who refunds or restocks here."""
    in_flight = await repo_refunds.in_flight_amount(conn, payment.id)
    beyond = rules.refunded_outside(fetched.refunded_minor, payment.refunded_amount, in_flight)
    if not beyond:
        return False
    reason = f"the gateway refunded {rules.from_minor(beyond)} {payment.currency} that Souq did not ask for"
    await repo_payments.flag_for_review(conn, payment, reason, fetched.raw)
    log.warning("payment %s flagged for review: %s", payment.id, reason)
    return True


def _our_id(fetched: GatewayPayment) -> UUID | None:
    try:
        return UUID(fetched.metadata.get("payment_id", ""))
    except ValueError:
        return None


async def _money_in(conn, payment: PaymentRow, now: datetime) -> tuple[str, list[UUID]]:
    effect = await orders.confirm_paid_order(conn, payment.order_id, now)
    await record_event(
        conn,
        "payment.succeeded",
        aggregate_type="order",
        aggregate_id=str(payment.order_id),
        payload={
            "payment_id": str(payment.id),
            "order_id": str(payment.order_id),
            "amount": str(payment.amount),
            "currency": payment.currency,
            "method": payment.method,
            "order_effect": effect,
        },
    )
    if effect == "out_of_stock":
        refund_id = await refunds.request_whole_refund(conn, payment, LATE_NO_STOCK_REASON, now)
        return "paid_late_refunding", [refund_id]
    if effect == "not_payable":
        await repo_payments.flag_for_review(conn, payment, "paid, but the order was cancelled or already paid")
        return "paid_not_payable", []
    return f"paid_{effect}", []
