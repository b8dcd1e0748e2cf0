"""Shoppers, stock and orders for the order tests."""

from __future__ import annotations

import uuid

from tests.catalog_support import Catalog, build_catalog, put_offer, sql
from tests.support import bearer, call

ADDRESS = {
    "first_name": "Sara",
    "last_name": "Al-Harbi",
    "mobile": "0501234567",
    "street": "King Fahd Road",
    "city": "Riyadh",
}


async def stocked_catalog(database_url: str) -> Catalog:
    """Panadol at Nahdi (15.00, 10 units) and Dawaa (18.50, 20 units); Brufen at Dawaa (21.00, 5 units)."""
    catalog = await build_catalog(database_url)
    for seller, product, on_hand, price in [
        ("nahdi", "panadol", 10, "15.00"),
        ("dawaa", "panadol", 20, None),
        ("dawaa", "brufen", 5, None),
        ("nahdi", "vitamin", 30, None),
    ]:
        status, body = await put_offer(catalog, seller, product, on_hand=on_hand, price=price)
        assert status == 200, body
    return catalog


def offer_id(database_url: str, catalog: Catalog, seller: str, product: str) -> str:
    rows = sql(
        database_url,
        "SELECT id FROM offers WHERE seller_id = %s AND variant_id = %s",
        catalog.sellers[seller],
        catalog.ids[f"variant-{product}"],
    )
    return str(rows[0][0])


def stock(database_url: str, catalog: Catalog, seller: str, product: str) -> tuple[int, int]:
    rows = sql(
        database_url,
        "SELECT on_hand, reserved FROM offers WHERE seller_id = %s AND variant_id = %s",
        catalog.sellers[seller],
        catalog.ids[f"variant-{product}"],
    )
    return rows[0]


def seller_headers(catalog: Catalog, seller: str) -> dict:
    """A token of one of the seller's staff (role seller, bound to that seller)."""
    return bearer("seller", sub=f"{seller}-staff", seller_id=catalog.sellers[seller])


async def shopper_with_address(sub: str) -> tuple[dict, str]:
    headers = bearer(sub=sub)
    status, _, body = await call("add_my_address", "POST", "me/addresses", body=ADDRESS, headers=headers)
    assert status == 201, body
    return headers, body["id"]


def line(catalog: Catalog, product: str, quantity: int, seller: str | None = None) -> dict:
    result = {"variant_id": catalog.ids[f"variant-{product}"], "quantity": quantity}
    if seller:
        result["seller_id"] = catalog.sellers[seller]
    return result


async def place(
    headers: dict,
    lines: list[dict],
    *,
    key: str | None = None,
    method: str = "pickup",
    address_id: str | None = None,
    **extra,
) -> tuple[int, dict, dict]:
    body = {"lines": lines, "delivery_method": method, **extra}
    if address_id:
        body["address_id"] = address_id
    idempotency = {"Idempotency-Key": key or str(uuid.uuid4())}
    status, response_headers, response = await call(
        "place_order", "POST", "orders", body=body, headers=headers | idempotency
    )
    return status, response_headers, response


async def open_racing_pool(monkeypatch, racers: int) -> None:
    """The app's pool with a connection for every racer, all open before the race, and pool and
    statement timeouts that only turn a hang into a failure."""
    from shared.data import db
    from shared.events import relay
    from shared.platform.config import reset_settings

    await relay.wait_for_background_relay()
    await db.close_pools()
    for name, value in {
        "DATABASE_POOL_MIN": racers,
        "DATABASE_POOL_MAX": racers,
        "DATABASE_POOL_TIMEOUT_SECONDS": 60,
        "DATABASE_STATEMENT_TIMEOUT_MS": 60_000,
    }.items():
        monkeypatch.setenv(name, str(value))
    reset_settings()
    await (await db.get_pool()).wait(timeout=60)
