"""Liveness, readiness and the OpenAPI document."""

import azure.functions as func

from shared.ops import service as ops
from shared.ops.models import Liveness, Readiness
from shared.platform.http import ApiCall, Reply, endpoint

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint(summary="Liveness: the worker answers (no I/O)", response=Liveness, tags=("ops",))
async def health(call: ApiCall) -> Liveness:
    return Liveness()


@bp.route(route="health/ready", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint(
    summary="Readiness: the status and one word per dependency; 503 only when PostgreSQL is down",
    response=Readiness,
    tags=("ops",),
)
async def health_ready(call: ApiCall) -> Readiness:
    return await ops.check_readiness()  # the details are GET /api/ops/health (functions/ops.py)


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint(summary="This API's OpenAPI 3.1 document", tags=("ops",))
async def openapi_document(call: ApiCall) -> Reply:
    from function_app import app
    from shared.platform.openapi import build_openapi

    return Reply(body=build_openapi(app), headers={"Cache-Control": "public, max-age=300"})
