"""Payments: shoppers pay their orders, gateways post webhooks (stored, queued, then acted on by
`on_payment_event`), admins and sellers refund, operators review mismatches; timers sweep
unqueued events and reconcile refunds."""

from uuid import UUID

import azure.functions as func

from shared.payments import service as payments
from shared.payments.models import PaymentOut, RefundOut, RefundRequest, ReviewPage, ReviewQuery, WebhookAck
from shared.platform.auth import ADMIN_ROLES, SELLER_ROLES
from shared.platform.http import ApiCall, Reply, endpoint
from shared.platform.jobs import background_job

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # bearer tokens are checked by @endpoint; webhooks by their secret
TAGS = ("payments",)


@bp.route(route="orders/{id:guid}/payments", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Pay my order: the checkout at the gateway (a retry while it is live returns the same payment)",
    response=PaymentOut,
    status=201,
    authenticated=True,
    tags=TAGS,
    errors=(409, 503),
)
async def start_payment(call: ApiCall) -> Reply:
    payment, created = await payments.start_payment(call.user, UUID(call.route["id"]))
    return Reply(body=payment, status=201 if created else 200)


@bp.route(route="webhooks/payments/{gateway}", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="A payment gateway's webhook (authenticated by its secret_token; stored and queued)",
    response=WebhookAck,
    tags=TAGS,
    errors=(401, 404, 413, 503),
)
async def payment_webhook(call: ApiCall) -> WebhookAck:
    return await payments.receive_webhook(call.route["gateway"], call.request.get_body() or b"")


@bp.route(route="orders/{id:guid}/refunds", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Refund lines of an order (admins: the order or a child order id; sellers: their own child order)",
    body=RefundRequest,
    response=RefundOut,
    status=201,
    roles=SELLER_ROLES,
    tags=TAGS,
    errors=(409, 503),
)
async def refund_order(call: ApiCall) -> Reply:
    refund = await payments.refund(call.user, UUID(call.route["id"]), call.body)
    return Reply(body=refund, status=201 if refund.status == "SUCCEEDED" else 202)


@bp.route(route="ops/payments/review", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@endpoint(
    summary="Payments flagged for review (amount or currency mismatch, paid after cancellation), oldest first",
    query=ReviewQuery,
    response=ReviewPage,
    roles=ADMIN_ROLES,
    tags=("ops",),
)
async def list_payments_for_review(call: ApiCall) -> ReviewPage:
    return await payments.payments_for_review(call.query)


@bp.queue_trigger(arg_name="msg", queue_name="%PAYMENT_EVENTS_QUEUE%", connection="AzureWebJobsStorage")
@background_job
async def on_payment_event(msg: func.QueueMessage, context: func.Context) -> dict:
    outcome = await payments.process_payment_event(msg.get_body())
    return {"event_message": msg.id, "outcome": outcome, "dequeue_count": msg.dequeue_count}


@bp.timer_trigger(schedule="0 */2 * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def sweep_payment_events(timer: func.TimerRequest, context: func.Context) -> dict:
    return {"queued_again": await payments.sweep_payment_events()}


@bp.timer_trigger(schedule="30 */5 * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def reconcile_refunds(timer: func.TimerRequest, context: func.Context) -> dict:
    return await payments.reconcile_refunds()
