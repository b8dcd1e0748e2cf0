"""Generate a realistic bilingual (English/Arabic) pharmacy catalog, fast.

    python -m scripts.seed_catalog --products N [--sellers 8] [--offers-per-variant 3] [--seed 42]
                                   [--database-url URL] [--replace]

Categories (a two-level tree: Pain Relief / مسكنات > Headache / صداع, …), brands (Panadol /
بنادول, …), products named brand + line + active ingredient + strength + dosage form in both
scripts, 1-3 pack-size variants each, 0-2 images, `--sellers` pharmacies and, for every variant,
offers from `--offers-per-variant` of them (some with their own price, some out of stock). The
same `--seed` gives the same rows, ids included (scripts/catalog_rows.py). `DATABASE_URL` is the
default database. `seed_catalog(url, products=…)` does the same from Python (`make run`).

An existing catalog (any category, brand, seller or product) is never mixed with a generated
one: the command refuses unless `--replace`, which TRUNCATEs the seven catalog tables together
with the tables that reference them (orders, …) only when those are empty: rows that point into
the catalog make it refuse (CatalogInUse) rather than delete them. From Python,
`on_existing="skip"` leaves an existing catalog alone.

Why it is fast (about 200,000 products with 3 offers per variant in a few minutes on 2 cores):
one transaction, which first takes ACCESS EXCLUSIVE locks on the catalog tables (readers wait;
nobody ever sees a half-loaded catalog or the triggers below disabled), then
- `COPY … FROM STDIN` in batches of products with their variants, images and offers;
- the per-row `variants_min_price` / `offers_min_price` triggers are disabled for the load
  (each would re-aggregate its product's prices once per row) and `products.min_price` is then
  computed for all products by ONE set-based UPDATE with the triggers' own definition, before
  they are enabled again;
- the `products_search` trigger stays on: COPY builds each product's search documents once as
  it arrives. Loading with it disabled and then firing it with `UPDATE products SET brand_id =
  brand_id` does the same tsvector work plus a second version of every row: for 20,000 products
  (no secondary indexes, server time by psql \\timing, twice each) 2.7 s inserting with the
  trigger against 0.35 s + 2.8-3.2 s inserting without it and updating;
- the secondary indexes of products, variants, images and offers (GIN full-text, trigram,
  jsonb, partial btrees) are dropped for the load and re-created from their own definitions
  (`pg_get_indexdef`) afterwards: one sorted build is much cheaper than 200,000 GIN insertions.
  Primary keys and unique constraints stay, so every slug, SKU and barcode is still checked;
- after COMMIT, `VACUUM (ANALYZE)`: planner statistics, visibility map, no dead min_price rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import psycopg
from tqdm import tqdm

from scripts.catalog_rows import CATALOG_EPOCH, CatalogGenerator, ProductBatch
from shared.catalog import repo_seed

DEFAULT_SELLERS = 8
DEFAULT_OFFERS_PER_VARIANT = 3
BATCH_PRODUCTS = 2000
SETUP_TIME = CATALOG_EPOCH - timedelta(days=800)  # categories, brands and sellers predate every product


class CatalogExists(RuntimeError):
    """The database already holds a catalog and replacing it was not asked for."""


class CatalogInUse(CatalogExists):
    """Replacing was asked for, but rows elsewhere (orders, …) refer to the catalog."""


@dataclass
class SeedSummary:
    products: int = 0
    variants: int = 0
    images: int = 0
    offers: int = 0
    sellers: int = 0
    categories: int = 0
    brands: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds

    @property
    def seconds(self) -> float:
        return sum(self.phases.values())

    def describe(self) -> str:
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())
        return (
            f"{self.products:,} products, {self.variants:,} variants, {self.offers:,} offers, "
            f"{self.images:,} images, {self.sellers} sellers, {self.categories} categories, {self.brands} brands "
            f"in {self.seconds:.1f} s ({phases})"
        )


@contextmanager
def phase(summary: SeedSummary, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    summary.phases[name] = summary.phases.get(name, 0.0) + time.perf_counter() - started


def seed_catalog(
    url: str,
    *,
    products: int,
    sellers: int = DEFAULT_SELLERS,
    offers_per_variant: int = DEFAULT_OFFERS_PER_VARIANT,
    seed: int = 42,
    on_existing: Literal["refuse", "replace", "skip"] = "refuse",
    progress: bool = True,
) -> SeedSummary | None:
    """Load a generated catalog; None when it was skipped because one exists (`on_existing="skip"`).
    Raises CatalogExists when one exists and `on_existing="refuse"`."""
    if products < 1 or sellers < 1 or offers_per_variant < 1:
        raise ValueError("products, sellers and offers_per_variant must be positive")
    generator = CatalogGenerator(seed, sellers=sellers, offers_per_variant=offers_per_variant)
    summary = SeedSummary()
    with psycopg.connect(url) as conn:
        with conn.transaction():
            repo_seed.lock_catalog(conn)
            if not make_room(conn, on_existing):
                return None
            load(conn, generator, products, summary, progress=progress)
        with phase(summary, "vacuum analyze"):
            conn.autocommit = True  # VACUUM cannot run in a transaction
            repo_seed.vacuum_analyze(conn)
    return summary


def make_room(conn: psycopg.Connection, on_existing: str) -> bool:
    """False when an existing catalog is to be kept."""
    if not repo_seed.catalog_exists(conn):
        return True
    if on_existing == "skip":
        return False
    if on_existing != "replace":
        raise CatalogExists("the database already has a catalog (use --replace to truncate it)")
    repo_seed.truncate_catalog(conn, empty_dependents(conn))
    return True


def empty_dependents(conn: psycopg.Connection) -> list[str]:
    """Every table that references the catalog, directly or through another one, locked and
    checked empty: TRUNCATE needs them listed, and their rows must never be thrown away."""
    found: list[str] = []
    frontier = list(repo_seed.CATALOG_TABLES)
    while frontier:
        frontier = repo_seed.referencing_tables(conn, frontier, list(repo_seed.CATALOG_TABLES) + found)
        found += frontier
    for name in found:
        if repo_seed.lock_has_rows(conn, name):
            raise CatalogInUse(f"{name} has rows that refer to the catalog: not replacing it")
    return found


def load(
    conn: psycopg.Connection, generator: CatalogGenerator, products: int, summary: SeedSummary, *, progress: bool
) -> None:
    """COPY with the min-price triggers off and the secondary indexes dropped, then both again."""
    repo_seed.set_min_price_triggers(conn, enabled=False)
    indexes = repo_seed.secondary_indexes(conn)
    repo_seed.drop_indexes(conn, indexes)
    with phase(summary, "copy"):
        copy_reference_data(conn, generator, summary)
        copy_products(conn, generator, products, summary, progress=progress)
    with phase(summary, "min_price"):
        repo_seed.refresh_all_min_prices(conn)
    with phase(summary, "indexes"):
        repo_seed.create_indexes(conn, indexes)
    repo_seed.set_min_price_triggers(conn, enabled=True)


def copy_reference_data(conn: psycopg.Connection, generator: CatalogGenerator, summary: SeedSummary) -> None:
    stamps = (SETUP_TIME, SETUP_TIME)
    with conn.cursor() as cursor:
        summary.categories = repo_seed.copy_categories(cursor, (row + stamps for row in generator.categories))
        summary.brands = repo_seed.copy_brands(cursor, (row + stamps for row in generator.brand_rows()))
        summary.sellers = repo_seed.copy_sellers(cursor, (row + stamps for row in generator.sellers))


def copy_products(
    conn: psycopg.Connection, generator: CatalogGenerator, products: int, summary: SeedSummary, *, progress: bool
) -> None:
    with (
        conn.cursor() as cursor,
        tqdm(total=products, unit=" products", desc="catalog", disable=not progress, smoothing=0.1) as bar,
    ):
        for start in range(0, products, BATCH_PRODUCTS):
            batch: ProductBatch = generator.batch(start, min(BATCH_PRODUCTS, products - start))
            summary.products += repo_seed.copy_products(cursor, batch.products)
            summary.variants += repo_seed.copy_variants(cursor, batch.variants)
            summary.images += repo_seed.copy_images(cursor, batch.images)
            summary.offers += repo_seed.copy_offers(cursor, batch.offers)
            bar.update(len(batch.products))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.seed_catalog", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, required=True, help="number of products to generate")
    parser.add_argument("--sellers", type=int, default=DEFAULT_SELLERS, help=f"pharmacies (default {DEFAULT_SELLERS})")
    parser.add_argument(
        "--offers-per-variant",
        type=int,
        default=DEFAULT_OFFERS_PER_VARIANT,
        help=f"sellers offering each variant (default {DEFAULT_OFFERS_PER_VARIANT})",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed: same seed, same catalog (default 42)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL")
    parser.add_argument("--replace", action="store_true", help="truncate an existing catalog first")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("no --database-url and DATABASE_URL is not set")
    if min(args.products, args.sellers, args.offers_per_variant) < 1:
        parser.error("--products, --sellers and --offers-per-variant must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = seed_catalog(
            args.database_url,
            products=args.products,
            sellers=args.sellers,
            offers_per_variant=args.offers_per_variant,
            seed=args.seed,
            on_existing="replace" if args.replace else "refuse",
        )
    except CatalogExists as exc:
        print(f"seed_catalog: {exc}", file=sys.stderr)
        return 2
    assert summary is not None  # refused or replaced, never skipped
    print(f"seeded {summary.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
