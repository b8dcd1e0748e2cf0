"""The database side of the load run: the demo catalog at scale, the offers the shoppers order
(stocked so that they never run out: every refusal there is a failure), the hot SKU with a
small stock, what the Locust users pick from (a JSON file), and the checks after the run."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from bench.orders_data import ORDERABLE_OFFERS  # offers a shopper can order (no prescription)
from scripts.migrate import migrate_up
from scripts.seed_catalog import seed_catalog

PLENTY = 900_000  # the mix's offers: stock always exists for them
MIX_OFFERS = 2000
PRODUCT_PAGES = 2000

STOCK_OFFERS = "UPDATE offers SET on_hand = %(on_hand)s WHERE id = ANY(%(ids)s::uuid[])"
PRODUCT_SLUGS = "SELECT slug_en FROM products WHERE is_active ORDER BY id LIMIT %(limit)s"
CATEGORY_SLUGS = "SELECT slug_en FROM categories WHERE is_active ORDER BY id"
BRAND_NAMES = "SELECT name_en FROM brands WHERE is_active ORDER BY id"


@dataclass(frozen=True)
class World:
    """What the users pick from: offers to order (offer id, variant id, seller id), the hot
    one, product slugs, category slugs and search words."""

    offers: list[list[str]]
    hot: list[str]
    hot_stock: int
    products: list[str]
    categories: list[str]
    words: list[str]

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, path: Path) -> World:
        return cls(**json.loads(path.read_text()))


def create_database(url: str) -> None:
    drop_database(url)
    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def prepare(url: str, *, products: int, hot_stock: int, seed: int = 16) -> World:
    """A migrated database with a catalog of `products`, and the world the users pick from."""
    create_database(url)
    migrate_up(url)
    seed_catalog(url, products=products, progress=False)
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        rows = [[str(offer), str(variant), str(seller)] for offer, variant, seller, _ in conn.execute(ORDERABLE_OFFERS)]
        rng.shuffle(rows)
        hot, mix = rows[0], rows[1 : 1 + MIX_OFFERS]
        conn.execute(STOCK_OFFERS, {"on_hand": PLENTY, "ids": [o[0] for o in mix]})
        conn.execute(STOCK_OFFERS, {"on_hand": hot_stock, "ids": [hot[0]]})
        slugs = [r[0] for r in conn.execute(PRODUCT_SLUGS, {"limit": PRODUCT_PAGES}).fetchall()]
        categories = [r[0] for r in conn.execute(CATEGORY_SLUGS).fetchall()]
        words = sorted({w for (name,) in conn.execute(BRAND_NAMES).fetchall() for w in name.split() if len(w) > 2})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) offers")
    return World(mix, hot, hot_stock, slugs, categories, words)


# -- after the run

HOT_UNITS_TAKEN = """
SELECT coalesce(sum(quantity), 0) FROM reservations
WHERE offer_id = %(offer)s AND status IN ('ACTIVE', 'CONSUMED')
"""
OFFERS_OVER_STOCK = "SELECT count(*) FROM offers WHERE reserved > on_hand OR on_hand < 0 OR reserved < 0"
PAID_ORDERS = "SELECT count(*) FROM orders WHERE id = ANY(%(ids)s::uuid[]) AND payment_status = 'PAID'"


def oversold_units(url: str, world: World) -> int:
    """Units of the hot SKU taken beyond its stock, plus offers whose counters are out of bounds."""
    with psycopg.connect(url) as conn:
        taken = conn.execute(HOT_UNITS_TAKEN, {"offer": world.hot[0]}).fetchone()[0]  # type: ignore[index]
        broken = conn.execute(OFFERS_OVER_STOCK).fetchone()[0]  # type: ignore[index]
    return max(0, int(taken) - world.hot_stock) + int(broken)


def hot_units_taken(url: str, world: World) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(HOT_UNITS_TAKEN, {"offer": world.hot[0]}).fetchone()[0])  # type: ignore[index]


def paid_count(url: str, order_ids: list[str]) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(PAID_ORDERS, {"ids": order_ids}).fetchone()[0])  # type: ignore[index]
