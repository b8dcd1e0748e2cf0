"""Domain events: the outbox relay (timer + maintenance endpoint) and the queue consumer."""

import azure.functions as func

from shared import events
from shared.auth import ADMIN_ROLES
from shared.config import get_settings
from shared.http import ApiCall, endpoint
from shared.jobs import background_job
from shared.users.service import EVENT_HANDLERS

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
    outcome = await events.consume_event(
        msg.get_body(), queue_name=get_settings().domain_events_queue, message_id=msg.id,
        handlers=EVENT_HANDLERS)
    return {"event_message": msg.id, "outcome": outcome, "dequeue_count": msg.dequeue_count}
