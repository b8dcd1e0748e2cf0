"""Taking a payment for an order: `POST /api/orders/{id}/payments`.

The gateway is called outside any transaction: first our INITIATED row is inserted (the
partial unique index lets one live payment per order exist, so a concurrent retry finds it),
committed; then the gateway creates the checkout; then its id is recorded on the row. A retry
while a payment is live returns it. A gateway that refuses frees the slot (FAILED) so the
shopper may try again; one that is down answers 503.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.data import db
from shared.orders import service as orders
from shared.payments import adapters, repo_payments, rules
from shared.payments.errors import PaymentError
from shared.payments.models import PaymentOut, PaymentRow
from shared.platform import logs
from shared.platform.auth import Principal
from shared.platform.config import get_settings
from shared.platform.errors import Conflict, DependencyUnavailable, NotFound

log = logs.get_logger("payments")
GATEWAY_DEPENDENCY = "payment gateway"


async def start_payment(principal: Principal, order_id: UUID, now: datetime) -> tuple[PaymentOut, bool]:
    """The order's live payment (created now, or the one a previous attempt created), and
    whether this call created it."""
    gateway = adapters.gateway_for(get_settings().payment_gateway)
    async with db.transaction() as conn:
        order = await orders.payable_order(conn, order_id)
        if order is None or order.user_id != principal.user_id:
            raise NotFound(f"no order {order_id}", code=PaymentError.ORDER_NOT_FOUND)
        rules.check_payable(order, now)
        payment, ours = await _live_payment(conn, order, gateway.name, now)
    if not ours:
        if payment.gateway_payment_id is None:
            raise Conflict(
                "a payment for this order is being created; retry in a moment", code=PaymentError.PAYMENT_IN_PROGRESS
            )
        return out(payment), False
    return out(await _create_at_gateway(gateway, payment, order.number)), True


async def _live_payment(conn, order, gateway: str, now: datetime) -> tuple[PaymentRow, bool]:
    created = await repo_payments.insert_live_payment(conn, order.id, gateway, order.total, order.currency)
    if created is not None:
        return created, True
    live = await repo_payments.live_payment(conn, order.id)
    if live is None:  # the live one ended between our two statements: the shopper retries
        raise Conflict("the order's payment just changed; retry", code=PaymentError.PAYMENT_IN_PROGRESS)
    taken = await repo_payments.take_over_stale(conn, live, now - rules.INITIATION_STALE_AFTER)
    return (taken, True) if taken is not None else (live, False)


async def _create_at_gateway(gateway, payment: PaymentRow, number: str) -> PaymentRow:
    from shared.payments.gateways.base import GatewayError, GatewayRejected  # lazily: httpx

    settings = get_settings()
    try:
        checkout = await gateway.create_checkout(
            amount_minor=rules.to_minor(payment.amount),
            currency=payment.currency,
            description=f"Order {number}",
            callback_url=settings.payment_callback_url,
            metadata={"order_id": str(payment.order_id), "payment_id": str(payment.id)},
        )
    except GatewayError as error:
        async with db.transaction() as conn:
            await repo_payments.fail_initiated(conn, payment.id, f"{type(error).__name__}: {error}")
        if isinstance(error, GatewayRejected):
            raise Conflict("the payment gateway refused this payment", code=PaymentError.GATEWAY_REJECTED) from error
        log.error("payment gateway %s failed: %s", gateway.name, type(error).__name__)
        raise DependencyUnavailable(GATEWAY_DEPENDENCY) from error
    async with db.transaction() as conn:
        recorded = await repo_payments.record_checkout(conn, payment.id, checkout)
        current = recorded or await repo_payments.payment(conn, payment.id)
    assert current is not None
    return current


def out(payment: PaymentRow) -> PaymentOut:
    return PaymentOut(**payment.model_dump(include=set(PaymentOut.model_fields)))
