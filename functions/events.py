"""Domain events: the outbox relay (timer + maintenance endpoint) and the queue consumer."""

import azure.functions as func

from shared.events import service as events
from shared.platform.auth import ADMIN_ROLES
from shared.platform.http import ApiCall, endpoint
from shared.platform.jobs import background_job

bp = func.Blueprint()
STORAGE = "AzureWebJobsStorage"


@bp.timer_trigger(schedule="*/10 * * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def relay_outbox(timer: func.TimerRequest, context: func.Context) -> dict:
    return {"sent": await events.relay_outbox()}


@bp.route(route="ops/outbox/relay", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint(summary="Relay pending domain events now (maintenance)", roles=ADMIN_ROLES, tags=("ops",))
async def relay_outbox_now(call: ApiCall) -> dict:
    return {"sent": await events.relay_outbox()}


@bp.queue_trigger(arg_name="msg", queue_name="%DOMAIN_EVENTS_QUEUE%", connection=STORAGE)
@background_job
async def handle_domain_event(msg: func.QueueMessage, context: func.Context) -> dict:
    outcome = await events.consume_domain_event(msg.get_body(), message_id=msg.id)
    return {"event_message": msg.id, "outcome": outcome, "dequeue_count": msg.dequeue_count}
