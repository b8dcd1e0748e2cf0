"""The consistency report: each kind of violation is found when injected with SQL, and a
clean order flow (orders placed over several sellers) reports none."""

from __future__ import annotations

import logging

import pytest

from shared.ops import service as ops
from tests.catalog_support import sql
from tests.order_support import line, place, shopper_with_address, stocked_catalog
from tests.support import FakeContext, app_function, bearer, call

ADMIN = bearer("admin", sub="ops-admin")


@pytest.fixture
async def placed(app_env, database_url):
    """Two orders: one split over Nahdi and Dawaa, delivered; one at Nahdi only, pickup."""
    catalog = await stocked_catalog(database_url)
    headers, address_id = await shopper_with_address("consistency-shopper")
    status, _, first = await place(
        headers,
        [line(catalog, "panadol", 2, "nahdi"), line(catalog, "brufen", 1)],
        method="delivery",
        address_id=address_id,
    )
    assert status == 201, first
    status, _, second = await place(headers, [line(catalog, "vitamin", 3)])
    assert status == 201, second
    return catalog, first, second


async def report() -> dict:
    status, _, body = await call("get_consistency", "GET", "ops/consistency", headers=ADMIN)
    assert status == 200, body
    return body


def found(body: dict) -> set[tuple[str, str]]:
    return {(v["kind"], v["field"]) for v in body["violations"]}


async def test_a_clean_order_flow_reports_no_violations(placed):
    body = await report()
    assert body["ok"] is True and body["violation_count"] == 0 and body["violations"] == []


async def test_only_admins_read_the_report(app_env):
    status, _, body = await call("get_consistency", "GET", "ops/consistency", headers=bearer("customer"))
    assert status == 403 and body["status"] == 403
    status, _, _ = await call("get_consistency", "GET", "ops/consistency")
    assert status == 401


@pytest.mark.inconsistent_on_purpose
async def test_parent_totals_that_are_not_the_sum_of_the_children(placed, database_url):
    _, first, _ = placed
    sql(database_url, "UPDATE orders SET tax = tax + 1, total = total + 1 WHERE id = %s", first["id"])
    body = await report()
    assert found(body) == {("order_totals", "tax"), ("order_totals", "total")}
    tax = next(v for v in body["violations"] if v["field"] == "tax")
    assert tax["entity_id"] == first["id"] and float(tax["actual"]) == float(tax["expected"]) + 1


@pytest.mark.inconsistent_on_purpose
async def test_child_subtotal_that_is_not_the_sum_of_its_items(placed, database_url):
    _, _, second = placed
    sql(
        database_url,
        "UPDATE order_items SET unit_price = unit_price + 1, line_total = (unit_price + 1) * quantity"
        " WHERE order_id = %s",
        second["id"],
    )
    body = await report()
    assert found(body) == {("seller_order_subtotal", "subtotal")}
    [violation] = body["violations"]
    [(child_id,)] = sql(database_url, "SELECT id FROM seller_orders WHERE order_id = %s", second["id"])
    assert violation["entity_id"] == str(child_id)
    assert float(violation["expected"]) - float(violation["actual"]) == 3  # 3 units, 1.00 more each


@pytest.mark.inconsistent_on_purpose
async def test_reserved_units_without_active_reservations(placed, database_url):
    sql(database_url, "UPDATE reservations SET status = 'RELEASED' WHERE quantity = 3")  # the vitamin line
    body = await report()
    assert found(body) == {("offer_reserved", "reserved")}
    [violation] = body["violations"]
    assert (float(violation["expected"]), float(violation["actual"])) == (0, 3)


@pytest.mark.inconsistent_on_purpose
async def test_negative_stock(placed, database_url):
    # The CHECKs make this impossible, which is the point of the report: they are dropped here.
    sql(
        database_url,
        "ALTER TABLE offers DROP CONSTRAINT offers_reserved_within_on_hand, DROP CONSTRAINT offers_on_hand_check",
    )
    sql(database_url, "UPDATE offers SET on_hand = -1 WHERE reserved = 0")
    body = await report()
    negative = {(v["field"], v["entity_id"]) for v in body["violations"] if v["kind"] == "negative_stock"}
    unreserved = {str(row[0]) for row in sql(database_url, "SELECT id FROM offers WHERE reserved = 0")}
    assert negative == {(field, offer) for offer in unreserved for field in ("on_hand", "available")}
    assert found(body) == {("negative_stock", "on_hand"), ("negative_stock", "available")}


@pytest.mark.inconsistent_on_purpose
async def test_the_hourly_timer_logs_each_violation_and_a_summary(placed, database_url):
    sql(database_url, "UPDATE offers SET reserved = reserved + 1 WHERE on_hand > reserved")
    records: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Recorder()
    logger = logging.getLogger("souq.consistency")
    logger.addHandler(handler)
    try:
        await app_function("check_consistency")(timer=None, context=FakeContext("check_consistency"))
        summary = await ops.log_consistency()
    finally:
        logger.removeHandler(handler)
    offers = sql(database_url, "SELECT count(*) FROM offers")[0][0]
    assert summary == {
        "order_totals": 0, "seller_order_subtotal": 0, "offer_reserved": offers, "negative_stock": 0,
        "thread_messages": 0, "inbox_messages": 0,
    }  # fmt: skip
    errors = [r for r in records if r.levelno == logging.ERROR]
    assert len(errors) == 2 * offers and all("offer_reserved" in r.getMessage() for r in errors)
    assert [r.levelno for r in records if "violation(s)" in r.getMessage()] == [logging.WARNING] * 2
