"""Operations: the dependencies' health in detail, and the consistency report (maintenance
endpoint + hourly timer).

Azure Functions reserves routes starting with `admin`, so the issue's `/api/admin/...` is
`/api/ops/...` here.
"""

import azure.functions as func

from shared.ops import service as ops
from shared.ops.models import ConsistencyReport, HealthReport
from shared.platform.auth import ADMIN_ROLES
from shared.platform.http import ApiCall, endpoint
from shared.platform.jobs import background_job

bp = func.Blueprint()


@bp.route(route="ops/health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@endpoint(
    summary="Dependencies in detail: PostgreSQL server and pools, Storage queue, latencies, cache breaker",
    response=HealthReport,
    roles=ADMIN_ROLES,
    tags=("ops",),
)
async def get_health(call: ApiCall) -> HealthReport:
    return await ops.health_report()  # 200 whatever the status: operators need it most when down


@bp.route(route="ops/consistency", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@endpoint(
    summary="Consistency report: order totals, reserved stock, negative stock (maintenance)",
    response=ConsistencyReport,
    roles=ADMIN_ROLES,
    tags=("ops",),
)
async def get_consistency(call: ApiCall) -> ConsistencyReport:
    return await ops.consistency_report()


@bp.timer_trigger(schedule="0 0 * * * *", arg_name="timer", run_on_startup=False)
@background_job
async def check_consistency(timer: func.TimerRequest, context: func.Context) -> dict:
    return await ops.log_consistency()
