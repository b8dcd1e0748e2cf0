"""Refunds: requested by an admin or a seller (`POST /api/orders/{id}/refunds`), automatically
by the system (a late payment whose stock is gone; the prescriptions flow), and reconciled.

The money leaves through the gateway outside any transaction, in three steps:
1. one transaction: lock the order's payment (refunds of one order run one at a time), plan the
   amounts (`rules.plan_refund`), claim units and money with conditional writes that the CHECKs
   back (`orders.service.claim_refund`), write the refund REQUESTED;
2. the gateway's refund call;
3. one transaction: SUCCEEDED (the payment's refunded amount and status, the order's payment
   status, restock when asked, `payment.refunded` to the outbox) or, when the gateway refused,
   FAILED with the claims given back. When the gateway did not answer, the refund stays
   REQUESTED and `reconcile` settles it from the gateway's payment later.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.events.models import AfterCommit, EventEnvelope
from shared.events.repo import record_event
from shared.orders import service as orders
from shared.orders.models_payment import ChildClaim, RefundUnits
from shared.payments import adapters, repo_payments, repo_refunds, rules
from shared.payments.errors import PaymentError
from shared.payments.models import PaymentRow, RefundDue, RefundLineIn, RefundOut, RefundRequest, RefundRow
from shared.platform import logs
from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.errors import Conflict, NotFound

if TYPE_CHECKING:
    from psycopg import AsyncConnection

log = logs.get_logger("payments")
NOT_YET_PAID = ["PENDING", "PROCESSING", "FAILED", "PAID", "PARTIALLY_REFUNDED"]
RECONCILE_BATCH = 50


async def refund_order(principal: Principal, named_id: UUID, body: RefundRequest, now: datetime) -> RefundOut:
    """A person's refund of some lines; 409 when the gateway refused it (nothing is kept)."""
    actor = (principal.user_id, "admin" if principal.has_any_role(ADMIN_ROLES) else "seller")
    async with db.transaction() as conn:
        refund_id = await _request(conn, principal, named_id, body.lines, body.restock, body.reason, actor, now)
    refund = await settle(refund_id, lambda: now)
    if refund.status == "FAILED":
        raise Conflict(f"the gateway refused the refund: {refund.failure}", code=PaymentError.REFUND_REJECTED)
    return await refund_out(refund)


async def _request(
    conn: AsyncConnection,
    principal: Principal | None,
    named_id: UUID,
    lines: list[RefundLineIn],
    restock: bool,
    reason: str | None,
    actor: tuple[str, str],
    now: datetime,
) -> UUID:
    items = await orders.refundable_items(conn, named_id)
    if not items:
        raise NotFound(f"no order {named_id}", code=PaymentError.ORDER_NOT_FOUND)
    scope = rules.refund_scope(principal, named_id, items)
    payment = await repo_payments.lock_refundable(conn, items[0].order_id, rules.REFUNDABLE_PAYMENT_STATUSES)
    if payment is None:
        raise Conflict("the order has no payment to refund", code=PaymentError.NOT_REFUNDABLE)
    items = await orders.refundable_items(conn, named_id)  # again, under the payment's lock
    plan = rules.plan_refund(items, lines, scope)
    if not await orders.claim_refund(conn, plan.units, plan.claims):
        raise Conflict("more than is left to refund", code=PaymentError.OVER_REFUND)
    return await repo_refunds.insert_refund(
        conn,
        payment,
        plan,
        restock=restock,
        reason=reason,
        actor=actor,
        next_attempt_at=now + rules.REFUND_RECONCILE_AFTER,
    )


async def request_refund_in(
    conn: AsyncConnection, order_id: UUID, lines: list[RefundLineIn], *, restock: bool, reason: str, now: datetime
) -> UUID:
    """A system refund of some lines inside the caller's transaction (e.g. a rejected
    prescription's lines): written REQUESTED; call `settle` after the commit."""
    return await _request(conn, None, order_id, lines, restock, reason, rules.SYSTEM_ACTOR, now)


async def refund_due(conn: AsyncConnection, event: EventEnvelope, now: Callable[[], datetime]) -> AfterCommit | None:
    """Consumer of `refund.due`: paid lines the shop cancelled (a rejected prescription, an
    expired prescription hold) are refunded; their units are already back on the shelf. Nothing
    is due when the order has no payment left to refund or those units were refunded already."""
    due = RefundDue.model_validate(event.payload)
    lines = [RefundLineIn(item_id=line.order_item_id, quantity=line.quantity) for line in due.lines]
    try:
        async with conn.transaction():  # a savepoint: a refused claim leaves nothing behind
            refund_id = await request_refund_in(conn, due.order_id, lines, restock=False, reason=due.cause, now=now())
    except Conflict as refused:
        log.info("no refund for %s of order %s: %s", due.cause, due.order_id, refused.code)
        return None
    return functools.partial(settle, refund_id, now)


async def request_whole_refund(conn: AsyncConnection, payment: PaymentRow, reason: str, now: datetime) -> UUID:
    """Everything left of the order, refunded (no restock: the units never left the shelf)."""
    items = await orders.refundable_items(conn, payment.order_id)
    lines = [
        RefundLineIn(item_id=item.id, quantity=item.quantity - item.refunded_quantity)
        for item in items
        if item.quantity > item.refunded_quantity
    ]
    return await _request(conn, None, payment.order_id, lines, False, reason, rules.SYSTEM_ACTOR, now)


async def settle(refund_id: UUID, now: Callable[[], datetime]) -> RefundRow:
    """Asks the gateway for a REQUESTED refund's money and records the answer; a gateway that
    does not answer leaves it REQUESTED (for `reconcile`)."""
    from shared.payments.gateways.base import GatewayError, GatewayRejected  # lazily: httpx

    async with db.connection() as conn:
        refund = await repo_refunds.load_refund(conn, refund_id)
    assert refund is not None
    if refund.status != "REQUESTED" or refund.gateway_payment_id is None:
        return refund
    try:
        await adapters.gateway_for(refund.gateway).refund(refund.gateway_payment_id, rules.to_minor(refund.amount))
    except GatewayRejected as error:
        return await fail(refund_id, str(error), now())
    except GatewayError as error:
        log.warning("refund %s left REQUESTED, the gateway did not answer: %s", refund_id, type(error).__name__)
        return refund
    return await succeed(refund_id, now())


async def succeed(refund_id: UUID, now: datetime) -> RefundRow:
    async with db.transaction() as conn:
        refund = await repo_refunds.complete_refund(conn, refund_id, "SUCCEEDED", now)
        if refund is None:  # completed by someone else meanwhile
            return await _current(conn, refund_id)
        payment = await repo_payments.add_refunded(conn, refund.payment_id, refund.amount)
        assert payment is not None
        to = payment.status
        await orders.set_payment_status(
            conn, refund.order_id, [s for s in NOT_YET_PAID if s != to], to, reason=refund.reason or "refund"
        )
        restocked = await _restock(conn, refund) if refund.restock else 0
        await record_event(
            conn,
            "payment.refunded",
            aggregate_type="order",
            aggregate_id=str(refund.order_id),
            payload=_refund_payload(refund, payment, restocked),
        )
    relay.relay_soon()
    return refund


async def _restock(conn: AsyncConnection, refund: RefundRow) -> int:
    lines = await repo_refunds.refund_lines(conn, refund.id)
    units = [RefundUnits(item_id=line.order_item_id, quantity=line.quantity) for line in lines]
    return await orders.restock_refunded(conn, units)


def _refund_payload(refund: RefundRow, payment: PaymentRow, restocked: int) -> dict[str, object]:
    return {
        "refund_id": str(refund.id),
        "payment_id": str(payment.id),
        "order_id": str(refund.order_id),
        "amount": str(refund.amount),
        "currency": refund.currency,
        "payment_status": payment.status,
        "refunded_amount": str(payment.refunded_amount),
        "restocked_units": restocked,
    }


async def fail(refund_id: UUID, failure: str, now: datetime) -> RefundRow:
    """The gateway refused: FAILED, and the units and money are claimable again."""
    async with db.transaction() as conn:
        refund = await repo_refunds.complete_refund(conn, refund_id, "FAILED", now, failure)
        if refund is None:
            return await _current(conn, refund_id)
        lines = await repo_refunds.refund_lines(conn, refund_id)
        children = await repo_refunds.refund_children(conn, refund_id)
        await orders.release_refund_claims(
            conn,
            [RefundUnits(item_id=line.order_item_id, quantity=line.quantity) for line in lines],
            [ChildClaim(seller_order_id=c.seller_order_id, amount=c.amount) for c in children],
        )
    return refund


async def _current(conn: AsyncConnection, refund_id: UUID) -> RefundRow:
    refund = await repo_refunds.load_refund(conn, refund_id)
    assert refund is not None
    return refund


async def reconcile(now: Callable[[], datetime]) -> dict[str, int]:
    """The timer's work: REQUESTED refunds past their time, settled from the gateway's payment.
    What its refunded total explains went through; the rest is asked for again."""
    started = now()
    async with db.transaction() as conn:
        claimed = await repo_refunds.claim_stale_refunds(
            conn, started, started + rules.REFUND_RECONCILE_AFTER, RECONCILE_BATCH
        )
    summary = {"claimed": len(claimed), "succeeded": 0, "retried": 0}
    for payment_id in dict.fromkeys(payment for _, payment in claimed):
        ids = [refund_id for refund_id, payment in claimed if payment == payment_id]
        done, missing = await _explained(payment_id, ids)
        for refund_id in done:
            await succeed(refund_id, now())
        for refund_id in missing:
            await settle(refund_id, now)
        summary["succeeded"] += len(done)
        summary["retried"] += len(missing)
    return summary


async def _explained(payment_id: UUID, refund_ids: list[UUID]) -> tuple[list[UUID], list[UUID]]:
    from shared.payments.gateways.base import GatewayError  # lazily: httpx

    async with db.connection() as conn:
        payment = await repo_payments.payment(conn, payment_id)
        refunds = [await _current(conn, refund_id) for refund_id in refund_ids]
    assert payment is not None and payment.gateway_payment_id is not None
    try:
        fetched = await adapters.gateway_for(payment.gateway).fetch_payment(payment.gateway_payment_id)
    except GatewayError as error:
        log.warning("reconciling payment %s: the gateway did not answer (%s)", payment_id, type(error).__name__)
        return [], []
    unexplained = fetched.refunded_minor - rules.to_minor(payment.refunded_amount)
    stale = sorted((r for r in refunds if r.status == "REQUESTED"), key=lambda r: r.created_at)
    return rules.explained_refunds(unexplained, [(r.id, rules.to_minor(r.amount)) for r in stale])


async def refund_out(refund: RefundRow) -> RefundOut:
    async with db.connection() as conn:
        lines = await repo_refunds.refund_lines(conn, refund.id)
    return RefundOut(
        **refund.model_dump(include=set(RefundOut.model_fields) - {"lines"}),
        lines=[
            {
                "item_id": x.order_item_id,
                "seller_order_id": x.seller_order_id,
                "quantity": x.quantity,
                "amount": x.amount,
            }
            for x in lines
        ],
    )
