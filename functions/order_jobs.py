"""Timers: cancel unpaid orders past their deadline and give their stock back (every minute);
keep the closed days' figures for the dashboards (every 5 minutes)."""

import azure.functions as func

from shared.orders import service as orders
from shared.platform.jobs import background_job

bp = func.Blueprint()


@bp.timer_trigger(schedule="0 * * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def expire_unpaid_orders(timer: func.TimerRequest, context: func.Context) -> dict:
    run = await orders.expire_unpaid_orders()
    return {"orders_expired": run.orders, "orphan_units_released": run.orphan_units, "batches": run.batches}


@bp.timer_trigger(schedule="20 */5 * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def refresh_order_figures(timer: func.TimerRequest, context: func.Context) -> dict:
    run = await orders.refresh_order_figures()
    return {"days_refreshed": run.days, "more_due": run.more}
