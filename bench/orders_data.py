"""The database side of bench.orders: the hot offer, the offers the spread orders pick from,
and the consistency check run after the load."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import get_args

import psycopg

HOT_ON_HAND = 1_000_000_000  # never runs out during a run, whatever the machine's speed
SPREAD_MIN_AVAILABLE = 20  # a spread offer survives being picked many times: no 409 in the load

# Every order a previous run placed goes, and its stock with it: each run starts from the seed.
RESET_ORDERS = """
TRUNCATE orders, seller_orders, order_items, reservations, order_status_history, idempotency_keys,
         notifications, outbox_events;
UPDATE offers SET reserved = 0 WHERE reserved <> 0;
"""
ORDERABLE_OFFERS = """
SELECT o.id, o.variant_id, o.seller_id, o.on_hand - o.reserved AS available
FROM offers o
JOIN variants v ON v.id = o.variant_id AND v.is_active
JOIN products p ON p.id = v.product_id AND p.is_active AND NOT p.requires_prescription
JOIN sellers s ON s.id = o.seller_id AND s.status = 'ACTIVE'
WHERE o.is_active
ORDER BY o.id
"""
STOCK_HOT_OFFER = "UPDATE offers SET on_hand = %(on_hand)s WHERE id = %(id)s"


@dataclass(frozen=True)
class Offer:
    id: str
    variant_id: str
    seller_id: str

    def line(self) -> dict:
        return {"variant_id": self.variant_id, "seller_id": self.seller_id, "quantity": 1}


@dataclass(frozen=True)
class Stock:
    hot: Offer  # every hot-product order and pgbench transaction reserves 1 unit of it
    spread: list[Offer]  # in-stock offers, shuffled
    offers: int  # offers in the database


def prepare_stock(database_url: str, rng: random.Random) -> Stock:
    """Forget earlier runs' orders, stock the hot offer, and list the spread offers."""
    with psycopg.connect(database_url) as conn:
        conn.execute(RESET_ORDERS)
        rows = conn.execute(ORDERABLE_OFFERS).fetchall()
        if len(rows) < 1000:
            raise SystemExit(f"only {len(rows)} orderable offers: seed the database (run without --reuse)")
        hot = Offer(str(rows[0][0]), str(rows[0][1]), str(rows[0][2]))
        conn.execute(STOCK_HOT_OFFER, {"on_hand": HOT_ON_HAND, "id": hot.id})
        count = count_of(conn, "SELECT count(*) FROM offers")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) offers")  # earlier runs' dead versions of the hot row
    spread = [Offer(str(i), str(v), str(s)) for i, v, s, available in rows[1:] if available >= SPREAD_MIN_AVAILABLE]
    rng.shuffle(spread)
    return Stock(hot=hot, spread=spread, offers=count)


# --- consistency -----------------------------------------------------------------------------


async def consistency_violations(database_url: str) -> tuple[str, dict[str, int]]:
    """(whose check, violations per kind): the app's own consistency check, in-process (the
    settings point it at `database_url`)."""
    from shared.ops.models import ViolationKind
    from shared.ops.service import find_violations

    counts = dict.fromkeys(get_args(ViolationKind), 0)
    for violation in await find_violations():
        counts[violation.kind] += 1
    return "shared.ops.service.find_violations", counts


def order_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return count_of(conn, "SELECT count(*) FROM orders")


def count_of(conn: psycopg.Connection, query: str) -> int:
    """The single number a `SELECT count(*) …` returns."""
    row = conn.execute(query).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return row[0]
