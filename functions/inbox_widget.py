"""The chat widget: its script, a visitor's session, sending and polling messages. Called from
other sites' pages: the visitor routes answer any origin (CORS) and take the visitor token as a
Bearer token, never a cookie."""

import azure.functions as func

from shared.inbox import service as inbox
from shared.inbox.models_widget import (
    PollQuery,
    SendMessage,
    SessionRequest,
    VisitorMessage,
    VisitorSession,
    VisitorThread,
)
from shared.platform.http import ApiCall, RawBody, Reply, endpoint

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the widget token (sessions) or the visitor token (messages) is checked inside
TAGS = ("widget",)
PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


@bp.route(route="widget/v1/widget.js", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="The chat widget's script (plain JavaScript; embed it with one <script> tag)", tags=TAGS)
async def widget_script(call: ApiCall) -> Reply:
    script = RawBody(inbox.widget_script(), "text/javascript")
    return Reply(body=script, headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


@bp.route(route="widget/{widget_token}/sessions", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="A visitor's session: a signed visitor token (optionally for the site's verified customer)",
    body=SessionRequest,
    response=VisitorSession,
    status=201,
    tags=TAGS,
    errors=(401, 503),
    cross_origin=True,
)
async def start_widget_session(call: ApiCall) -> Reply:
    return Reply(body=await inbox.start_widget_session(call.route["widget_token"], call.body), status=201)


@bp.route(route="widget/messages", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="The visitor sends a message (Authorization: Bearer <visitor_token>; idempotent by client_id; "
    "429 beyond the per-minute limit)",
    body=SendMessage,
    response=VisitorMessage,
    status=201,
    tags=TAGS,
    errors=(401, 404, 429, 503),
    also=(200,),
    cross_origin=True,
)
async def send_widget_message(call: ApiCall) -> Reply:
    message, created = await inbox.send_widget_message(call.request.headers.get("authorization"), call.body)
    return Reply(body=message, status=201 if created else 200)


@bp.route(route="widget/messages", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="The visitor's messages (Authorization: Bearer <visitor_token>; poll with ?after=<cursor>)",
    query=PollQuery,
    response=VisitorThread,
    tags=TAGS,
    errors=(401, 404, 503),
    cross_origin=True,
)
async def poll_widget_messages(call: ApiCall) -> VisitorThread:
    return await inbox.poll_widget_messages(call.request.headers.get("authorization"), call.query)


@bp.route(route="widget/{*rest}", methods=["OPTIONS"], auth_level=ANONYMOUS)
@endpoint(summary="CORS preflight of the widget's routes (any origin; no cookies are used)", status=204, tags=TAGS)
async def widget_preflight(call: ApiCall) -> Reply:
    return Reply(status=204, headers=PREFLIGHT)
