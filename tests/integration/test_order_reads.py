"""Reading orders against a real PostgreSQL: shoppers' keyset lists, sellers' child orders that
show nothing of the other sellers, the admins' filtered list, and who gets 403 or 404."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.catalog_support import sql
from tests.order_support import line, place, seller_headers, shopper_with_address, stocked_catalog
from tests.support import bearer, call

ADMIN = bearer("admin", sub="ops-admin")


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


async def get(function: str, path: str, headers: dict, params: dict | None = None, **route) -> tuple[int, dict]:
    status, _, body = await call(
        function, "GET", path, headers=headers, params=params or {}, route_params={k: str(v) for k, v in route.items()}
    )
    return status, body


async def placed(headers: dict, lines: list[dict], **kwargs) -> dict:
    status, _, order = await place(headers, lines, **kwargs)
    assert status == 201, order
    return order


async def two_seller_order(catalog) -> tuple[dict, dict]:
    """A delivery order: 2 Panadol + 1 Brufen at Dawaa, 1 Vitamin D3 at Nahdi."""
    headers, address_id = await shopper_with_address("two-seller-buyer")
    order = await placed(
        headers,
        [
            line(catalog, "panadol", 2, "dawaa"),
            line(catalog, "vitamin", 1, "nahdi"),
            line(catalog, "brufen", 1, "dawaa"),
        ],
        method="delivery",
        address_id=address_id,
        customer_notes="call me at the gate",
    )
    return headers, order


def child_of(order: dict, catalog, slug: str) -> dict:
    return next(c for c in order["children"] if c["seller_id"] == catalog.sellers[slug])


# --- shoppers ------------------------------------------------------------------------------


async def test_my_orders_newest_first_in_keyset_pages(catalog):
    mine, theirs = bearer(sub="buyer-a"), bearer(sub="buyer-b")
    first = await placed(mine, [line(catalog, "panadol", 1, "nahdi")])
    second = await placed(mine, [line(catalog, "panadol", 1, "dawaa"), line(catalog, "vitamin", 2)])
    third = await placed(mine, [line(catalog, "brufen", 1)])
    await placed(theirs, [line(catalog, "vitamin", 1)])

    status, page = await get("list_my_orders", "orders", mine, {"limit": "2"})
    assert status == 200, page
    assert [o["id"] for o in page["items"]] == [third["id"], second["id"]] and page["next_cursor"]
    summary = page["items"][1]
    assert (summary["number"], summary["total"], summary["currency"]) == (second["number"], second["total"], "SAR")
    assert (summary["item_count"], summary["seller_count"], summary["status"]) == (2, 2, "PENDING")
    assert summary["payment_status"] == "PENDING" and "user_id" not in summary

    status, rest = await get("list_my_orders", "orders", mine, {"limit": "2", "cursor": page["next_cursor"]})
    assert status == 200 and [o["id"] for o in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    status, other = await get("list_my_orders", "orders", theirs)
    assert status == 200 and len(other["items"]) == 1 and other["items"][0]["id"] not in (first["id"], third["id"])


async def test_my_orders_filter_on_the_order_status(catalog, database_url):
    mine = bearer(sub="buyer-c")
    kept = await placed(mine, [line(catalog, "panadol", 1)])
    cancelled = await placed(mine, [line(catalog, "vitamin", 1)])
    sql(database_url, "UPDATE orders SET status = 'CANCELLED' WHERE id = %s", cancelled["id"])
    status, page = await get("list_my_orders", "orders", mine, {"status": "CANCELLED"})
    assert status == 200 and [o["id"] for o in page["items"]] == [cancelled["id"]]
    status, page = await get("list_my_orders", "orders", mine, {"status": "PENDING"})
    assert status == 200 and [o["id"] for o in page["items"]] == [kept["id"]]


@pytest.mark.parametrize(
    "params,path",
    [
        ({"status": "SHIPPED"}, "status"),
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"sort": "price"}, "sort"),
    ],
)
async def test_bad_list_queries_are_422(catalog, params, path):
    status, body = await get("list_my_orders", "orders", bearer(sub="buyer-d"), params)
    assert status == 422 and body["errors"][0]["path"] == path, body


async def test_a_shopper_cannot_read_another_shoppers_order(catalog):
    order = await placed(bearer(sub="owner"), [line(catalog, "panadol", 1)])
    status, body = await get("get_my_order", f"orders/{order['id']}", bearer(sub="someone-else"), id=order["id"])
    assert status == 404 and body["code"] == "order_not_found"
    status, _ = await get("get_my_order", f"orders/{order['id']}", bearer(sub="owner"), id=order["id"])
    assert status == 200


# --- sellers -------------------------------------------------------------------------------


async def test_a_seller_sees_its_own_child_order_and_nothing_of_the_other_seller(catalog):
    _, order = await two_seller_order(catalog)
    nahdi, dawaa = child_of(order, catalog, "nahdi"), child_of(order, catalog, "dawaa")

    status, view = await get(
        "get_seller_order", f"seller/orders/{nahdi['id']}", seller_headers(catalog, "nahdi"), id=nahdi["id"]
    )
    assert status == 200, view
    assert (view["id"], view["order_number"], view["number"]) == (nahdi["id"], order["number"], nahdi["number"])
    assert (
        (view["subtotal"], view["total"]) == (nahdi["subtotal"], nahdi["total"]) != (order["subtotal"], order["total"])
    )
    assert [item["sku"] for item in view["items"]] == ["VITD-1000-60"]
    assert (view["payment_status"], view["delivery_method"]) == ("PENDING", "delivery")
    address = view["delivery_address"]
    assert (address["first_name"], address["mobile"], address["city"]) == ("Sara", "+966501234567", "Riyadh")
    assert "id" not in address
    assert [(h["field"], h["to_status"]) for h in view["history"]] == [("status", "PENDING")]
    text = json.dumps(view)
    for leak in (
        "two-seller-buyer",
        "user_id",
        "customer_notes",
        "call me at the gate",
        "PAN-EXT-24",
        "BRU-SYR-100",
        dawaa["id"],
        dawaa["total"],
        order["total"],
    ):
        assert leak not in text, leak

    status, body = await get(
        "get_seller_order", f"seller/orders/{dawaa['id']}", seller_headers(catalog, "nahdi"), id=dawaa["id"]
    )
    assert status == 404 and body["code"] == "seller_order_not_found"
    status, view = await get(
        "get_seller_order", f"seller/orders/{dawaa['id']}", seller_headers(catalog, "dawaa"), id=dawaa["id"]
    )
    assert status == 200 and [item["sku"] for item in view["items"]] == ["PAN-EXT-24", "BRU-SYR-100"]


async def test_a_seller_does_not_see_another_childs_history(catalog, database_url):
    _, order = await two_seller_order(catalog)
    nahdi, dawaa = child_of(order, catalog, "nahdi"), child_of(order, catalog, "dawaa")
    sql(
        database_url,
        """INSERT INTO order_status_history (order_id, seller_order_id, field, from_status, to_status,
                                                            actor_id, actor_role, reason)
                         VALUES (%s, %s, 'status', 'PENDING', 'CANCELLED', 'dawaa-staff', 'seller', 'out of stock')""",
        order["id"],
        dawaa["id"],
    )
    status, view = await get(
        "get_seller_order", f"seller/orders/{nahdi['id']}", seller_headers(catalog, "nahdi"), id=nahdi["id"]
    )
    assert status == 200 and "out of stock" not in json.dumps(view["history"])
    status, view = await get(
        "get_seller_order", f"seller/orders/{dawaa['id']}", seller_headers(catalog, "dawaa"), id=dawaa["id"]
    )
    assert status == 200 and view["history"][-1]["reason"] == "out of stock"


async def test_seller_list_shows_only_own_child_orders_by_status_in_pages(catalog, database_url):
    _, first = await two_seller_order(catalog)
    second = await placed(bearer(sub="buyer-e"), [line(catalog, "panadol", 1, "nahdi")])
    await placed(bearer(sub="buyer-f"), [line(catalog, "brufen", 1, "dawaa")])
    status, page = await get("list_seller_orders", "seller/orders", seller_headers(catalog, "nahdi"), {"limit": "1"})
    assert status == 200, page
    assert [c["order_id"] for c in page["items"]] == [second["id"]] and page["next_cursor"]
    summary = page["items"][0]
    assert (summary["order_number"], summary["item_count"], summary["total"]) == (second["number"], 1, second["total"])
    assert summary["seller_id"] == catalog.sellers["nahdi"] and "user_id" not in summary
    status, rest = await get(
        "list_seller_orders",
        "seller/orders",
        seller_headers(catalog, "nahdi"),
        {"limit": "1", "cursor": page["next_cursor"]},
    )
    assert [c["id"] for c in rest["items"]] == [child_of(first, catalog, "nahdi")["id"]] and rest["next_cursor"] is None

    sql(
        database_url,
        "UPDATE seller_orders SET status = 'CONFIRMED' WHERE id = %s",
        child_of(first, catalog, "nahdi")["id"],
    )
    status, page = await get(
        "list_seller_orders", "seller/orders", seller_headers(catalog, "nahdi"), {"status": "CONFIRMED"}
    )
    assert status == 200 and [c["order_id"] for c in page["items"]] == [first["id"]]


async def test_a_seller_naming_another_seller_gets_404(catalog):
    status, body = await get(
        "list_seller_orders", "seller/orders", seller_headers(catalog, "nahdi"), {"seller": catalog.sellers["dawaa"]}
    )
    assert status == 404 and body["code"] == "seller_not_found"


async def test_admins_read_any_child_order_and_list_every_seller(catalog):
    _, order = await two_seller_order(catalog)
    status, page = await get("list_seller_orders", "seller/orders", ADMIN)
    assert status == 200 and len(page["items"]) == 2
    status, page = await get("list_seller_orders", "seller/orders", ADMIN, {"seller": catalog.sellers["dawaa"]})
    assert [c["id"] for c in page["items"]] == [child_of(order, catalog, "dawaa")["id"]]
    dawaa = child_of(order, catalog, "dawaa")
    status, view = await get("get_seller_order", f"seller/orders/{dawaa['id']}", ADMIN, id=dawaa["id"])
    assert status == 200 and view["total"] == dawaa["total"]


# --- admins --------------------------------------------------------------------------------


async def test_ops_orders_filter_by_status_seller_and_dates(catalog, database_url):
    _, both = await two_seller_order(catalog)
    dawaa_only = await placed(bearer(sub="buyer-g"), [line(catalog, "brufen", 1, "dawaa")])
    old = await placed(bearer(sub="buyer-h"), [line(catalog, "panadol", 1, "nahdi")])
    sql(
        database_url,
        "UPDATE orders SET created_at = '2025-03-10 12:00+00', status = 'CANCELLED' WHERE id = %s",
        old["id"],
    )

    async def ids(**params) -> list[str]:
        status, page = await get("list_ops_orders", "ops/orders", ADMIN, params)
        assert status == 200, page
        return [o["id"] for o in page["items"]]

    assert await ids() == [dawaa_only["id"], both["id"], old["id"]]
    assert await ids(seller="nahdi") == [both["id"], old["id"]]
    assert await ids(seller=catalog.sellers["dawaa"]) == [dawaa_only["id"], both["id"]]
    assert await ids(seller="no-such-pharmacy") == []
    assert await ids(status="CANCELLED") == [old["id"]]
    assert await ids(**{"from": "2025-03-10", "to": "2025-03-10"}) == [old["id"]]
    assert await ids(**{"from": "2025-03-11"}) == [dawaa_only["id"], both["id"]]
    assert await ids(to="2025-03-09") == []
    _status, page = await get("list_ops_orders", "ops/orders", ADMIN, {"limit": "1"})
    assert page["items"][0]["user_id"] == "buyer-g" and page["items"][0]["delivery_method"] == "pickup"


@pytest.mark.parametrize(
    "params,path",
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"status": "DELIVERED"}, "status"),
    ],
)
async def test_ops_orders_bad_filters_are_422(catalog, params, path):
    status, body = await get("list_ops_orders", "ops/orders", ADMIN, params)
    assert status == 422 and body["errors"][0]["path"] == path, body


async def test_ops_order_detail_is_the_whole_order(catalog):
    _, order = await two_seller_order(catalog)
    status, body = await get("get_ops_order", f"ops/orders/{order['id']}", ADMIN, id=order["id"])
    assert status == 200 and len(body["children"]) == 2 and body["user_id"] == "two-seller-buyer"
    missing = str(uuid.uuid4())
    status, body = await get("get_ops_order", f"ops/orders/{missing}", ADMIN, id=missing)
    assert status == 404 and body["code"] == "order_not_found"


@pytest.mark.parametrize(
    "function,path",
    [
        ("list_seller_orders", "seller/orders"),
        ("get_seller_stats", "seller/stats"),
        ("list_ops_orders", "ops/orders"),
        ("get_ops_stats", "ops/stats"),
    ],
)
async def test_customers_get_403_on_seller_and_ops_endpoints(catalog, function, path):
    status, body = await get(function, path, bearer(sub="nosy-customer"))
    assert status == 403 and body["code"] == "forbidden"


async def test_sellers_get_403_on_ops_and_customers_on_one_child_order(catalog):
    _, order = await two_seller_order(catalog)
    status, _ = await get(
        "get_ops_order", f"ops/orders/{order['id']}", seller_headers(catalog, "nahdi"), id=order["id"]
    )
    assert status == 403
    child = child_of(order, catalog, "nahdi")
    status, _ = await get(
        "get_seller_order", f"seller/orders/{child['id']}", bearer(sub="two-seller-buyer"), id=child["id"]
    )
    assert status == 403
