"""Unknown routes and wrong methods answer problem+json in Azure too, not the host's bare 404:
a catch-all route has the lowest precedence, so it only sees requests no other route takes."""

import azure.functions as func

from shared.platform.errors import MethodNotAllowed, NotFound, PlatformError
from shared.platform.http import ApiCall, endpoint

bp = func.Blueprint()


@bp.route(route="{*path}", auth_level=func.AuthLevel.ANONYMOUS)
@endpoint(summary="No such route (problem+json 404/405)", in_schema=False)
async def route_fallback(call: ApiCall) -> None:
    from function_app import app
    from shared.platform.openapi import methods_for_path

    path = call.route.get("path") or ""
    allowed = methods_for_path(app, path)
    if allowed:
        raise MethodNotAllowed(f"{call.request.method} is not allowed on /api/{path}", allowed=allowed)
    raise NotFound(f"no route /api/{path}", code=PlatformError.ROUTE_NOT_FOUND)
