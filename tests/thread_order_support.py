"""Threads with order requests for the tests: an inquiry thread between a shopper and a seller,
proposals and decisions through the HTTP functions in-process."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tests.catalog_support import Catalog, sql
from tests.order_support import offer_id, seller_headers
from tests.support import bearer, call


async def inquiry_thread(catalog: Catalog, shopper_sub: str, seller: str = "nahdi", product: str = "panadol") -> str:
    """The shopper's inquiry thread with the seller about the product (made in the database the
    way the threads domain makes one)."""
    from shared.data import db
    from shared.platform.auth import Principal
    from shared.threads import repo as threads
    from shared.users.service import ensure_user

    async with db.transaction() as conn:
        await ensure_user(conn, Principal(user_id=shopper_sub, roles=frozenset({"customer"})))
        thread, _ = await threads.find_or_create_thread(
            conn,
            "PRODUCT_INQUIRY",
            shopper_id=shopper_sub,
            seller_id=uuid.UUID(catalog.sellers[seller]),
            product_id=uuid.UUID(catalog.ids[product]),
            subject=f"About {product}",
            now=datetime.now(UTC),
        )
    return str(thread.id)


def proposal(database_url: str, catalog: Catalog, *lines: tuple[str, int], seller: str = "nahdi", **extra) -> dict:
    return {
        "lines": [
            {"offer_id": offer_id(database_url, catalog, seller, product), "quantity": quantity}
            for product, quantity in lines
        ],
        **extra,
    }


async def propose(catalog: Catalog, thread_id: str, body: dict, seller: str = "nahdi") -> tuple[int, Any]:
    status, _, response = await call(
        "propose_order_request",
        "POST",
        f"seller/threads/{thread_id}/order-requests",
        body=body,
        headers=seller_headers(catalog, seller),
        route_params={"id": thread_id},
    )
    return status, response


async def shopper_decides(sub: str, thread_id: str, request_id: str, action: str, body: dict | None = None):
    status, _, response = await call(
        f"{action}_order_request",
        "POST",
        f"threads/{thread_id}/order-requests/{request_id}/{action}",
        body=body,
        headers=bearer(sub=sub),
        route_params={"id": thread_id, "rid": request_id},
    )
    return status, response


async def accept(sub: str, thread_id: str, request_id: str, body: dict | None = None) -> tuple[int, Any]:
    return await shopper_decides(sub, thread_id, request_id, "accept", body or {"delivery_method": "pickup"})


def messages_of(database_url: str, thread_id: str) -> list[tuple]:
    """(kind, metadata status, sender side) of the thread's messages, oldest first."""
    return sql(
        database_url,
        "SELECT kind, metadata->>'status', sender_side FROM messages WHERE thread_id = %s ORDER BY id",
        thread_id,
    )
