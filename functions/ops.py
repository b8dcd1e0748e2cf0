"""Operations: the dependencies' health in detail, the consistency report (maintenance
endpoint + hourly timer), the database reports (slow queries, index usage, tables,
connections), and the daily upkeep of every monthly-partitioned table.

Azure Functions reserves routes starting with `admin`, so the issue's `/api/admin/...` is
`/api/ops/...` here.
"""

import azure.functions as func

from shared.ops import service as ops
from shared.ops.models import ConsistencyReport, HealthReport
from shared.ops.models_reports import (
    ConnectionsReport,
    IndexUsageQuery,
    IndexUsageReport,
    SlowQueriesQuery,
    SlowQueriesReport,
    TablesQuery,
    TablesReport,
)
from shared.platform.auth import ADMIN_ROLES
from shared.platform.http import ApiCall, endpoint
from shared.platform.jobs import background_job

bp = func.Blueprint()
KEY = func.AuthLevel.FUNCTION


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


@bp.route(route="ops/reports/slow-queries", methods=["GET"], auth_level=KEY)
@endpoint(
    summary="The statements that take the most time (order=total) or the longest (order=mean), from "
    "pg_stat_statements: normalized text only; 409 with how to enable it when it is not",
    query=SlowQueriesQuery,
    response=SlowQueriesReport,
    roles=ADMIN_ROLES,
    tags=("ops",),
    errors=(409, 503),
)
async def get_slow_queries_report(call: ApiCall) -> SlowQueriesReport:
    return await ops.slow_queries_report(call.query)


@bp.route(route="ops/reports/index-usage", methods=["GET"], auth_level=KEY)
@endpoint(
    summary="Indexes never scanned (with their sizes) and tables read by sequential scans above min_rows",
    query=IndexUsageQuery,
    response=IndexUsageReport,
    roles=ADMIN_ROLES,
    tags=("ops",),
    errors=(503,),
)
async def get_index_usage_report(call: ApiCall) -> IndexUsageReport:
    return await ops.index_usage_report(call.query)


@bp.route(route="ops/reports/tables", methods=["GET"], auth_level=KEY)
@endpoint(
    summary="Tables by size: live and dead rows, the last (auto)vacuum and (auto)analyze",
    query=TablesQuery,
    response=TablesReport,
    roles=ADMIN_ROLES,
    tags=("ops",),
    errors=(503,),
)
async def get_tables_report(call: ApiCall) -> TablesReport:
    return await ops.tables_report(call.query)


@bp.route(route="ops/reports/connections", methods=["GET"], auth_level=KEY)
@endpoint(
    summary="Client connections by state and application against max_connections and the pool budget",
    response=ConnectionsReport,
    roles=ADMIN_ROLES,
    tags=("ops",),
    errors=(503,),
)
async def get_connections_report(call: ApiCall) -> ConnectionsReport:
    return await ops.connections_report()


@bp.timer_trigger(schedule="0 30 3 * * *", arg_name="timer", run_on_startup=False)
@background_job
async def report_database_health(timer: func.TimerRequest, context: func.Context) -> dict:
    return await ops.log_database_health()


# Every monthly-partitioned table's (messages, inbox, outbox, order history, notifications):
# months ahead created, the outbox's and notifications' expired months dropped.
@bp.timer_trigger(schedule="0 15 0 * * *", arg_name="timer", run_on_startup=False)
@background_job
async def maintain_partitions(timer: func.TimerRequest, context: func.Context) -> dict:
    return await ops.maintain_partitions()


# Dedupe keys no repeat can meet any more (processed events, thread posts' client ids).
@bp.timer_trigger(schedule="0 45 0 * * *", arg_name="timer", run_on_startup=False)
@background_job
async def prune_dedupe_keys(timer: func.TimerRequest, context: func.Context) -> dict:
    return await ops.prune_dedupe_keys()
