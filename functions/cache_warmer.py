"""Timer: keep the hot catalog keys in Redis (category tree, brands, first listing pages, top products)."""

import azure.functions as func

from shared.catalog import service as catalog
from shared.platform.jobs import background_job

bp = func.Blueprint()


@bp.timer_trigger(schedule="0 */10 * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def warm_cache(timer: func.TimerRequest, context: func.Context) -> dict:
    return await catalog.warm_cache()
