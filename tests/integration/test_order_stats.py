"""Dashboards against a real PostgreSQL: every figure checked by hand on a small set of orders,
the date window, its limits, who may read which seller's figures, and one statement per call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.catalog_support import sql
from tests.order_support import line, place, seller_headers, stocked_catalog
from tests.support import bearer, call, counting_statements

ADMIN = bearer("admin", sub="ops-admin")


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


async def placed(sub: str, lines: list[dict]) -> dict:
    status, _, order = await place(bearer(sub=sub), lines)
    assert status == 201, order
    return order


async def stats(function: str, path: str, headers: dict, **params) -> tuple[int, dict]:
    seller = path.split("/")[2] if path.startswith("ops/sellers/") else None
    route = {"id": seller} if seller else None
    status, _, body = await call(function, "GET", path, headers=headers, params=params, route_params=route)
    return status, body


def mark(
    database_url: str,
    order: dict,
    *,
    status: str | None = None,
    payment: str | None = None,
    child_status: str | None = None,
    days_ago: int | None = None,
) -> None:
    """Set statuses and dates directly: these tests read, they do not walk the transitions."""
    if status or payment:
        sql(
            database_url,
            "UPDATE orders SET status = coalesce(%s, status), payment_status = coalesce(%s, payment_status)"
            " WHERE id = %s",
            status,
            payment,
            order["id"],
        )
    if child_status:
        sql(database_url, "UPDATE seller_orders SET status = %s WHERE order_id = %s", child_status, order["id"])
    if days_ago is not None:
        moved = datetime.now(UTC) - timedelta(days=days_ago)
        sql(database_url, "UPDATE orders SET created_at = %s WHERE id = %s", moved, order["id"])
        sql(database_url, "UPDATE seller_orders SET created_at = %s WHERE order_id = %s", moved, order["id"])


@pytest.fixture
async def orders(catalog, database_url) -> dict[str, dict]:
    """Pickup orders (no delivery fee; 15 % VAT on the subtotal):
    paid:      3 Panadol at Nahdi (45.00) + 1 Brufen at Dawaa (21.00) → 51.75 + 24.15 = 75.90, PAID, IN_PROGRESS
    pending:   2 Vitamin D3 at Nahdi (79.80) → 91.77, PENDING
    cancelled: 5 Panadol at Dawaa (92.50) → 106.38, CANCELLED (its units do not count)
    old:       4 Brufen at Dawaa, 40 days ago, PAID (outside the default window)"""
    result = {
        "paid": await placed("buyer-1", [line(catalog, "panadol", 3, "nahdi"), line(catalog, "brufen", 1, "dawaa")]),
        "pending": await placed("buyer-2", [line(catalog, "vitamin", 2, "nahdi")]),
        "cancelled": await placed("buyer-3", [line(catalog, "panadol", 5, "dawaa")]),
        "old": await placed("buyer-4", [line(catalog, "brufen", 4, "dawaa")]),
    }
    mark(database_url, result["paid"], status="IN_PROGRESS", payment="PAID")
    mark(database_url, result["cancelled"], status="CANCELLED", child_status="CANCELLED")
    mark(database_url, result["old"], payment="PAID", days_ago=40)
    return result


async def test_marketplace_figures_over_the_last_30_days(catalog, orders):
    assert (orders["paid"]["total"], orders["pending"]["total"], orders["cancelled"]["total"]) == (
        "75.90",
        "91.77",
        "106.38",
    )
    status, body = await stats("get_ops_stats", "ops/stats", ADMIN)
    assert status == 200, body
    today = datetime.now(UTC).date()
    assert (body["from"], body["to"]) == (str(today - timedelta(days=29)), str(today))
    assert (body["orders"], body["revenue"], body["currency"]) == (2, "75.90", "SAR")
    assert body["average_order_value"] == "83.84"  # (75.90 + 91.77) / 2 = 83.835 → 83.84
    assert body["orders_by_status"] == {"PENDING": 1, "IN_PROGRESS": 1, "COMPLETED": 0, "CANCELLED": 1, "REFUNDED": 0}
    top = [(p["name_en"], p["units"], p["revenue"]) for p in body["top_products"]]
    assert top == [
        ("Panadol Extra 500mg Tablets", 3, "45.00"),
        ("Vitamin D3 1000 IU Capsules", 2, "79.80"),
        ("Brufen Ibuprofen Syrup 100ml", 1, "21.00"),
    ]
    assert body["top_products"][0]["name_ar"] == "بنادول إكسترا ٥٠٠ ملغ أقراص"
    assert body["top_products"][0]["product_id"] == catalog.ids["panadol"]


async def test_an_explicit_window_takes_in_older_orders(catalog, orders):
    today = datetime.now(UTC).date()
    status, body = await stats("get_ops_stats", "ops/stats", ADMIN, **{"from": str(today - timedelta(days=60))})
    assert status == 200, body
    assert (body["orders"], body["revenue"]) == (3, "172.50")  # + the old paid order: 4 × 21.00 × 1.15 = 96.60
    assert next((p["name_en"], p["units"]) for p in body["top_products"]) == ("Brufen Ibuprofen Syrup 100ml", 5)
    day = today - timedelta(days=40)
    status, body = await stats("get_ops_stats", "ops/stats", ADMIN, **{"from": str(day), "to": str(day)})
    assert (body["orders"], body["revenue"], body["average_order_value"]) == (1, "96.60", "96.60")


async def test_an_empty_window_gives_zeros_not_errors(catalog):
    status, body = await stats("get_ops_stats", "ops/stats", ADMIN, **{"from": "2020-01-01", "to": "2020-01-31"})
    assert status == 200, body
    assert (body["orders"], body["revenue"], body["average_order_value"], body["top_products"]) == (0, "0.00", None, [])
    assert set(body["orders_by_status"].values()) == {0}


async def test_seller_figures_cover_only_its_child_orders(catalog, orders):
    status, body = await stats("get_seller_stats", "seller/stats", seller_headers(catalog, "nahdi"))
    assert status == 200, body
    assert body["seller_id"] == catalog.sellers["nahdi"]
    # Nahdi: the paid order's child (45.00 + 6.75 VAT = 51.75) and the pending Vitamin D3 (91.77)
    assert (body["orders"], body["revenue"], body["average_order_value"]) == (2, "51.75", "71.76")
    assert body["orders_by_status"]["PENDING"] == 2 and body["orders_by_status"]["CANCELLED"] == 0
    assert [(p["name_en"], p["units"]) for p in body["top_products"]] == [
        ("Panadol Extra 500mg Tablets", 3),
        ("Vitamin D3 1000 IU Capsules", 2),
    ]

    status, body = await stats("get_seller_stats", "seller/stats", seller_headers(catalog, "dawaa"))
    assert status == 200, body
    # Dawaa: the paid order's Brufen (24.15) and the cancelled Panadol; the old order is outside
    assert (body["orders"], body["revenue"], body["average_order_value"]) == (1, "24.15", "24.15")
    assert body["orders_by_status"]["CANCELLED"] == 1
    assert [(p["name_en"], p["units"]) for p in body["top_products"]] == [("Brufen Ibuprofen Syrup 100ml", 1)]


async def test_who_reads_which_sellers_figures(catalog, orders):
    dawaa = catalog.sellers["dawaa"]
    status, body = await stats("get_ops_seller_stats", f"ops/sellers/{dawaa}/stats", ADMIN)
    assert status == 200 and body["revenue"] == "24.15" and body["seller_id"] == dawaa
    status, body = await stats("get_ops_seller_stats", "ops/sellers/00000000-0000-4000-8000-000000000000/stats", ADMIN)
    assert status == 404 and body["code"] == "seller_not_found"
    status, _ = await stats("get_seller_stats", "seller/stats", ADMIN)  # admins use the /ops route
    assert status == 403
    status, _ = await stats("get_ops_seller_stats", f"ops/sellers/{dawaa}/stats", seller_headers(catalog, "nahdi"))
    assert status == 403
    status, _ = await stats("get_ops_stats", "ops/stats", seller_headers(catalog, "nahdi"))
    assert status == 403


@pytest.mark.parametrize("function,path", [("get_ops_stats", "ops/stats"), ("get_seller_stats", "seller/stats")])
@pytest.mark.parametrize(
    "params,path_in_error",
    [
        ({"from": "2025-01-01", "to": "2026-01-02"}, "from"),  # 367 days
        ({"from": "2025-13-01"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"to": "0"}, "to"),  # once read as 1970-01-01 (seconds since the epoch)
        ({"from": "1700000000"}, "from"),
        ({"from": "2026-02-02", "to": "2026-02-01"}, "from"),
        ({"period": "week"}, "period"),
    ],
)
async def test_bad_windows_are_422(catalog, function, path, params, path_in_error):
    status, body = await stats(
        function, path, seller_headers(catalog, "nahdi") if "seller" in path else ADMIN, **params
    )
    assert status == 422 and body["errors"][0]["path"] == path_in_error, body


async def test_a_full_leap_year_is_allowed(catalog):
    status, body = await stats("get_ops_stats", "ops/stats", ADMIN, **{"from": "2024-01-01", "to": "2024-12-31"})
    assert status == 200 and (body["from"], body["to"]) == ("2024-01-01", "2024-12-31")


async def test_one_statement_per_dashboard_however_many_orders(catalog, database_url, monkeypatch):
    from shared.events import relay

    sql(database_url, "UPDATE offers SET on_hand = 1000")
    statements = []
    for batch in range(2):
        for n in range(1 + 5 * batch):  # 1 order, then 5 more with every product at both sellers
            await placed(
                f"buyer-{batch}-{n}",
                [
                    line(catalog, "panadol", 1, "nahdi"),
                    line(catalog, "brufen", 1),
                    line(catalog, "vitamin", 2),
                    line(catalog, "panadol", 1, "dawaa"),
                ],
            )
        await relay.wait_for_background_relay()  # the placements' relay must not be counted
        with counting_statements(monkeypatch) as sent:
            assert (await stats("get_ops_stats", "ops/stats", ADMIN))[0] == 200
            assert (await stats("get_seller_stats", "seller/stats", seller_headers(catalog, "dawaa")))[0] == 200
        statements.append(len(sent))
    assert statements == [2, 2]  # one per dashboard
