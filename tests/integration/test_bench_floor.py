"""bench.orders' database floor sends the app's own statements: the orders pgbench places with
its script are the orders the app places for the same lines, and the invariants hold after."""

from __future__ import annotations

import pytest

from bench.harness import Stats
from bench.orders_data import Offer
from bench.orders_floor import FLOOR_USER, prepare_floor_orders, write_floor_script
from bench.orders_load import run_pgbench
from tests.catalog_support import sql
from tests.order_support import line, offer_id, place, stock, stocked_catalog
from tests.support import bearer

LINES = [("nahdi", "panadol"), ("dawaa", "brufen"), ("nahdi", "vitamin")]  # two sellers, three offers

# An order as the shopper would see it, without what differs between two placements (ids, numbers, times).
ORDER_FIGURES = """
SELECT o.subtotal, o.tax, o.delivery_fee, o.total, o.status, o.payment_status, o.delivery_method,
       round(extract(epoch FROM o.expires_at - o.created_at) / 60) AS payment_window_minutes,
       (SELECT array_agg(ARRAY[right(c.number, 2), c.seller_id::text, c.subtotal::text, c.tax::text,
                               c.delivery_fee::text, c.total::text] ORDER BY c.number)
        FROM seller_orders c WHERE c.order_id = o.id) AS children,
       (SELECT array_agg(ARRAY[i.line_no::text, i.offer_id::text, i.sku, i.product_name_ar, i.unit_price::text,
                               i.quantity::text, i.line_total::text, r.status, r.quantity::text] ORDER BY i.line_no)
        FROM order_items i JOIN reservations r ON r.order_item_id = i.id WHERE i.order_id = o.id) AS items,
       (SELECT count(*) FROM outbox_events e WHERE e.aggregate_id = o.id::text AND e.event_type = 'order.placed')
FROM orders o WHERE o.user_id LIKE %s ORDER BY o.created_at
"""


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


async def test_the_floor_places_the_orders_the_app_places(catalog, database_url, tmp_path):
    offers = [
        Offer(
            offer_id(database_url, catalog, seller, product), catalog.ids[f"variant-{product}"], catalog.sellers[seller]
        )
        for seller, product in LINES
    ]
    assert prepare_floor_orders(database_url, offers) == 1
    stats = Stats()
    settings = {"orders": "1", "vat": "0.15", "window": "15"}  # the app's defaults
    run_pgbench(
        database_url, write_floor_script(tmp_path, "SAR"), settings, clients=2, seconds=0, stats=stats, transactions=2
    )
    assert (stats.ok, stats.errors, stats.first_failure, len(stats.latencies)) == (4, 0, "", 4)

    twin_lines = [line(catalog, product, 1, seller) for seller, product in LINES]
    status, _, _ = await place(bearer(sub="floor-twin"), twin_lines)
    assert status == 201
    [app_order] = sql(database_url, ORDER_FIGURES, "floor-twin")
    floor_orders = sql(database_url, ORDER_FIGURES, f"{FLOOR_USER}%")
    assert len(floor_orders) == 4 and all(order == app_order for order in floor_orders)
    assert stock(database_url, catalog, "dawaa", "brufen") == (5, 5)  # 4 floor orders + the app's
