"""The chat widget's requests for the authorization matrix: one widget connection (made on first
use), a new anonymous visitor for every request that needs a visitor token. The visitor token is
sent as the request's Authorization header, in place of the cell's caller's own."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.support import call

if TYPE_CHECKING:
    from tests.integration.authz_world import Req, World

WIDGET_TOKEN = "matrix-widget-token"


def _req(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Req:
    from tests.integration.authz_world import Req

    return Req(method, path, body, headers=headers or {})


async def _session(w: World) -> Req:
    if not w.widget_ready:
        from tests.inbox_support import make_connection

        await make_connection("WIDGET", WIDGET_TOKEN, name="Matrix widget")
        w.widget_ready = True
    return _req("POST", f"widget/{WIDGET_TOKEN}/sessions", {})


async def _visitor(w: World) -> dict[str, str]:
    await _session(w)
    route = {"widget_token": WIDGET_TOKEN}
    status, _, session = await call(
        "start_widget_session", "POST", f"widget/{WIDGET_TOKEN}/sessions", body={}, route_params=route
    )
    assert status == 201, session
    return {"Authorization": f"Bearer {session['visitor_token']}"}


async def _send(w: World) -> Req:
    body = {"client_id": str(uuid.uuid4()), "text": "Is this in stock?"}
    return _req("POST", "widget/messages", body, headers=await _visitor(w))


async def _poll(w: World) -> Req:
    return _req("GET", "widget/messages", headers=await _visitor(w))


WIDGET_BUILDERS = {
    "widget_script": lambda w: _req("GET", "widget/v1/widget.js"),
    "start_widget_session": _session,
    "send_widget_message": _send,
    "poll_widget_messages": _poll,
    "widget_preflight": lambda w: _req("OPTIONS", "widget/messages"),
}
