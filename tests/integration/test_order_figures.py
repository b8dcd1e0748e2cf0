"""The closed days' kept figures, the marketplace's and each seller's (migration 0018,
`shared.orders.figures`), against a real PostgreSQL: kept figures equal live ones and are what
the dashboards read, a change to a kept day shows at once, and the two races (a change
committing after a refresh computed, two refreshes of one day) lose nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from tests.catalog_support import sql
from tests.integration.test_order_stats import ADMIN, mark, placed, stats
from tests.order_support import line, seller_headers, stocked_catalog
from tests.support import LockGate

WINDOW_DAYS = 21  # every order of the fixture, today's included


@pytest.fixture
async def catalog(app_env, database_url):
    return await stocked_catalog(database_url)


@pytest.fixture
async def orders(catalog, database_url) -> dict[str, dict]:
    """Three closed days and today: a paid order 5 days ago, a pending one and a cancelled one
    6 days ago, a paid one 9 days ago, a pending one today (never kept)."""
    result = {
        "paid": await placed("fig-1", [line(catalog, "panadol", 3, "nahdi"), line(catalog, "brufen", 1, "dawaa")]),
        "pending": await placed("fig-2", [line(catalog, "vitamin", 2, "nahdi")]),
        "cancelled": await placed("fig-3", [line(catalog, "panadol", 5, "dawaa")]),
        "older": await placed("fig-4", [line(catalog, "brufen", 4, "dawaa")]),
        "today": await placed("fig-5", [line(catalog, "panadol", 1, "dawaa")]),
    }
    mark(database_url, result["paid"], status="IN_PROGRESS", payment="PAID", days_ago=5)
    mark(database_url, result["pending"], days_ago=6)
    mark(database_url, result["cancelled"], status="CANCELLED", child_status="CANCELLED", days_ago=6)
    mark(database_url, result["older"], payment="PAID", days_ago=9)
    return result


def day_of(days_ago: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days_ago)


def kept_days(database_url: str) -> list[date]:
    return [row[0] for row in sql(database_url, "SELECT day FROM order_figure_days ORDER BY day")]


def noted_days(database_url: str) -> list[date]:
    return [row[0] for row in sql(database_url, "SELECT DISTINCT day FROM order_figure_changes ORDER BY day")]


async def dashboard(headers: dict | None = None) -> dict:
    """The marketplace's, or with a seller's headers that seller's."""
    call = ("get_seller_stats", "seller/stats", headers) if headers else ("get_ops_stats", "ops/stats", ADMIN)
    status, body = await stats(*call, **{"from": str(day_of(WINDOW_DAYS - 1)), "to": str(day_of(0))})
    assert status == 200, body
    return body


async def every_dashboard(catalog) -> dict[str, dict]:
    sellers = {name: await dashboard(seller_headers(catalog, name)) for name in ("nahdi", "dawaa")}
    return {"marketplace": await dashboard()} | sellers


async def refresh(**kwargs):
    from shared.orders import service

    return await service.refresh_order_figures(**kwargs)


async def test_kept_figures_equal_live_ones_and_are_what_the_dashboards_read(catalog, orders, database_url):
    live = await every_dashboard(catalog)
    assert (live["marketplace"]["orders"], live["marketplace"]["revenue"]) == (4, "172.50")  # 75.90 + 96.60 paid
    assert (live["nahdi"]["orders"], live["nahdi"]["revenue"]) == (2, "51.75")
    assert (live["dawaa"]["orders"], live["dawaa"]["revenue"]) == (3, "120.75")  # 24.15 + 96.60 paid
    run = await refresh()
    assert (run.days, run.more) == (8, False)  # 9 days ago through 2 days ago: yesterday and today stay live
    assert kept_days(database_url) == [day_of(n) for n in range(9, 1, -1)] and noted_days(database_url) == []
    assert await every_dashboard(catalog) == live
    # The kept rows are what is read: figures changed behind the app's back show.
    sql(database_url, "UPDATE order_figure_seller_products SET units = units + 100 WHERE day = %s", day_of(9))
    assert (await dashboard(seller_headers(catalog, "dawaa")))["top_products"][0]["units"] == 105  # Brufen: 4 + 1
    sql(database_url, "UPDATE order_figure_statuses SET orders = orders + 100 WHERE day = %s", day_of(9))
    tampered = await dashboard()
    assert (tampered["orders"], tampered["orders_by_status"]["PENDING"]) == (
        104,
        live["marketplace"]["orders_by_status"]["PENDING"] + 100,
    )


async def test_todays_placements_note_nothing_and_a_refresh_with_nothing_due_does_nothing(
    catalog, orders, database_url
):
    assert noted_days(database_url) == [day_of(9), day_of(6), day_of(5)]  # the backdating
    await refresh()
    await placed("fig-6", [line(catalog, "panadol", 1, "nahdi")])
    assert noted_days(database_url) == []
    assert (await refresh()).days == 0


async def test_a_change_to_a_kept_day_shows_at_once_and_the_next_refresh_keeps_it(catalog, orders, database_url):
    await refresh()
    mark(database_url, orders["pending"], status="CANCELLED", child_status="CANCELLED")
    sql(database_url, "UPDATE seller_orders SET status = 'CANCELLED' WHERE order_id = %s", orders["older"]["id"])
    assert noted_days(database_url) == [day_of(9), day_of(6)]  # the parent's day for a child's change
    changed = await every_dashboard(catalog)
    assert changed["dawaa"]["orders"] == 2 and changed["dawaa"]["orders_by_status"]["CANCELLED"] == 2
    assert changed["nahdi"]["orders"] == 1 and changed["nahdi"]["revenue"] == "51.75"
    assert changed["marketplace"]["orders_by_status"]["CANCELLED"] == 2 and changed["marketplace"]["orders"] == 3
    # the older order's 4 Brufen no longer count (its child order is cancelled), nor the Vitamin D3
    units = [(p["name_en"], p["units"]) for p in changed["marketplace"]["top_products"]]
    assert units == [("Panadol Extra 500mg Tablets", 4), ("Brufen Ibuprofen Syrup 100ml", 1)]
    assert (await refresh()).days == 2 and noted_days(database_url) == []
    assert await every_dashboard(catalog) == changed


async def test_a_refresh_runs_newest_days_first_and_says_when_more_are_due(orders, database_url):
    run = await refresh(days_per_run=3)
    assert (run.days, run.more) == (3, True) and kept_days(database_url) == [day_of(4), day_of(3), day_of(2)]
    run = await refresh(days_per_run=5)
    assert (run.days, run.more) == (5, False) and kept_days(database_url)[0] == day_of(9)


async def test_a_change_committing_after_a_refresh_computed_keeps_its_day_live(catalog, orders, database_url):
    """Two sessions: the change's transaction is open while the refresh recomputes its day (due
    for an earlier, committed change), so the refresh can neither see the change nor its note."""
    await refresh()
    mark(database_url, orders["cancelled"], payment="FAILED")  # committed: the day is due
    async with await psycopg.AsyncConnection.connect(database_url) as changing:
        await changing.execute("UPDATE orders SET payment_status = 'PAID' WHERE id = %s", (orders["pending"]["id"],))
        assert (await refresh()).days == 1
        await changing.commit()
    assert noted_days(database_url) == [day_of(6)]
    nahdi = seller_headers(catalog, "nahdi")
    revenues = ("264.27", "143.52")  # 172.50 and 51.75, each + the pending order's 91.77, now paid
    assert ((await dashboard())["revenue"], (await dashboard(nahdi))["revenue"]) == revenues  # the day live
    assert (await refresh()).days == 1 and noted_days(database_url) == []
    assert ((await dashboard())["revenue"], (await dashboard(nahdi))["revenue"]) == revenues  # kept again


async def test_two_refreshes_of_one_day_take_turns_on_its_row(catalog, orders, database_url):
    """Two racing refreshes wait on the day's row inside PostgreSQL, then go one after the other:
    without the lock the second's figures would collide with the first's (duplicate key)."""
    await refresh()
    mark(database_url, orders["paid"], status="COMPLETED")
    expected = await every_dashboard(catalog)
    lock = "SELECT day FROM order_figure_days WHERE day = %s FOR UPDATE"
    async with LockGate.holding(database_url, lock, (day_of(5),)) as gate:
        racing = asyncio.ensure_future(asyncio.gather(refresh(), refresh()))
        await gate.open_when_waiting(2, racing)
        runs = await racing
    assert sorted(run.days for run in runs) == [1, 1]
    assert noted_days(database_url) == [] and await every_dashboard(catalog) == expected
    counted = sql(database_url, "SELECT status, orders FROM order_figure_statuses WHERE day = %s", day_of(5))
    assert counted == [("COMPLETED", 1)]
