"""The authorization matrix's world for order requests and ORDER threads: customer A's inquiry
thread with seller A (nahdi), a fresh order request per cell for the routes that decide one,
and customer A's order's child at seller A for its ORDER thread."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tests.order_support import offer_id, seller_headers
from tests.support import call
from tests.thread_order_support import inquiry_thread

if TYPE_CHECKING:
    from tests.integration.authz_world import Builder, Req, World


async def prepare(world: World) -> None:
    """Customer A's inquiry thread with seller A, and one pending request in it."""
    from tests.integration.authz_world import SHOPPER_A

    world.thread_orders["thread"] = await inquiry_thread(world.catalog, SHOPPER_A)
    world.thread_orders["request"] = await fresh_request(world)


async def fresh_request(world: World) -> str:
    """A PENDING order request of seller A in customer A's thread: one unit of vitamin D."""
    thread = world.thread_orders["thread"]
    body = {"lines": [_vitamin_line(world)]}
    status, _, request = await call(
        "propose_order_request",
        "POST",
        f"seller/threads/{thread}/order-requests",
        body=body,
        headers=seller_headers(world.catalog, "nahdi"),
        route_params={"id": thread},
    )
    assert status == 201, request
    return request["id"]


def _vitamin_line(world: World) -> dict:
    """Seller A's offer of vitamin D (stocked for every cell of the matrix), one unit."""
    return {"offer_id": offer_id(os.environ["DATABASE_URL"], world.catalog, "nahdi", "vitamin"), "quantity": 1}


def _request_path(world: World, request_id: str, prefix: str = "", action: str = "") -> str:
    return f"{prefix}threads/{world.thread_orders['thread']}/order-requests/{request_id}{action}"


def _deciding(action: str, *, seller: bool = False, body: dict | None = None) -> Builder:
    async def build(world: World) -> Req:
        from tests.integration.authz_world import Req

        path = _request_path(world, await fresh_request(world), "seller/" if seller else "", f"/{action}")
        return Req("POST", path, body)

    return build


def _child_path(world: World, prefix: str = "", suffix: str = "") -> str:
    return f"{prefix}orders/{world.child_of(world.order, 'nahdi')['id']}/thread{suffix}"


def builders() -> dict[str, Builder]:
    from tests.integration.authz_world import Req

    def propose(world: World) -> Req:
        path = f"seller/threads/{world.thread_orders['thread']}/order-requests"
        return Req("POST", path, {"lines": [_vitamin_line(world)]})

    return {
        "propose_order_request": propose,
        "get_seller_order_request": lambda w: Req("GET", _request_path(w, w.thread_orders["request"], "seller/")),
        "cancel_order_request": _deciding("cancel", seller=True),
        "get_order_request": lambda w: Req("GET", _request_path(w, w.thread_orders["request"])),
        "accept_order_request": _deciding("accept", body={"delivery_method": "pickup"}),
        "decline_order_request": _deciding("decline"),
        "get_order_thread": lambda w: Req("GET", _child_path(w)),
        "post_order_message": lambda w: Req("POST", _child_path(w, suffix="/messages"), {"body": "matrix"}),
        "get_seller_order_thread": lambda w: Req("GET", _child_path(w, "seller/")),
        "post_seller_order_message": lambda w: Req("POST", _child_path(w, "seller/", "/messages"), {"body": "matrix"}),
    }
