"""Catalog at scale: cached and uncached product pages, search and filtered listings, with plans.

    python -m bench.catalog [--products 200000] [--reuse] [--database souq_bench_catalog]
                            [--seconds 5] [--rounds 3]

Works on the database `souq_bench_catalog` (or --database) on the DATABASE_URL server: without
--reuse it is (re)created, migrated and seeded with scripts.seed_catalog (--products, 8 sellers,
3 offers per variant: minutes for 200k), and kept afterwards; --reuse takes it as it is (after
migrating), so the slow seed is paid once. Measures, in rounds interleaved so that drift on the
shared machine hits every figure alike:

  a. GET /api/products/{id} over 200 fixed, warmed ids at 32 clients ÷ GET /api/health (target ≥ 0.6);
  b. p95 of the same endpoint for ids never requested before in the run (cache misses) vs warmed ids;
  c. search GET /api/products?q=… first pages at 8 clients, English and Arabic (target p95 ≤ 50 ms);
  d. filtered listings at 8 clients (p95 per kind, no target);
  e. EXPLAIN (ANALYZE, BUFFERS) of each search/listing statement (bench/plans.py): PASS when
     products, variants and offers are read through indexes.

a and b run against a dev host with its own Redis key prefix (nothing cached at the start). c and
d measure PostgreSQL, not the cache, so they run against a second dev host whose REDIS_URL is a
closed port: its cache breaker opens at the first requests and every request then goes to the
database (the app's Redis-down path; one trial connection, refused at once, every
CACHE_BREAKER_COOLDOWN_SECONDS). Search repeats the headline queries of bench/plans.py; listings
cycle through every category (English and Arabic slugs), brand, price range and dosage form.

Exit status: 0 whether or not targets are met (a measurement); 1 if any request failed (that
endpoint is then measured no further and reported FAILED; the others are still measured).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import psycopg

from bench import plans
from bench.harness import (
    Stats,
    Target,
    client_session,
    cpu_columns,
    create_database,
    dev_host,
    drop_database,
    free_port,
    run_cli,
    run_round,
    with_database,
)
from devhost.process import RunningHost
from scripts import catalog_names as vocabulary
from scripts.dev import provision, say
from scripts.migrate import migrate_up
from scripts.seed_catalog import seed_catalog

BENCH_DATABASE = "souq_bench_catalog"
TARGET_RATIO = 0.6
TARGET_SEARCH_P95_MS = 50.0
HOT_PRODUCTS = 200
THROUGHPUT_CLIENTS, QUERY_CLIENTS = 32, 8
WARMUP_SECONDS = 1.0
HEALTH, CACHED, UNCACHED = "GET /api/health", "GET /api/products/{id} cached", "GET /api/products/{id} uncached"
SEARCH = {"en": "search q= (en)", "ar": "search q= (ar)"}


class UrlPool:
    """URLs handed out once each, in a shuffled order; starting over is counted as repeats."""

    def __init__(self, urls: list[str], rng: random.Random) -> None:
        self.urls = list(urls)
        rng.shuffle(self.urls)
        self.next_index = 0
        self.passes = 0
        self.repeats = 0

    def __call__(self) -> str:
        if self.next_index == len(self.urls):
            self.next_index, self.passes = 0, self.passes + 1
        self.repeats += self.passes > 0
        self.next_index += 1
        return self.urls[self.next_index - 1]


@dataclass
class Load:
    target: Target
    clients: int
    host: RunningHost
    stats: Stats = field(default_factory=Stats)
    pool: UrlPool | None = None  # ids that must not repeat (cache misses)


def cycling(urls: list[str], rng: random.Random):
    shuffled = list(urls)
    rng.shuffle(shuffled)
    return itertools.cycle(shuffled).__next__


def listing_url(base_url: str, params: dict[str, str]) -> str:
    return f"{base_url}/api/products?{urlencode(params)}"


def listing_params(conn: psycopg.Connection) -> dict[str, list[dict[str, str]]]:
    """Per listing kind, the parameter sets the rounds cycle through."""
    categories = [slug for row in conn.execute("SELECT slug_en, slug_ar FROM categories") for slug in row]
    brands = [row[0] for row in conn.execute("SELECT slug FROM brands")]
    return {
        "category+in_stock+price_asc": [{"category": c, "in_stock": "true", "sort": "price_asc"} for c in categories],
        "brand+rx=exclude": [{"brand": b, "rx": "exclude"} for b in brands],
        "price range+newest": [
            {"min_price": str(low), "max_price": str(low + span), "sort": "newest"}
            for low in range(5, 45, 5)
            for span in (20, 40)
        ],
        "attr.dosage_form": [{"attr.dosage_form": form} for form in vocabulary.FORMS],
    }


def product_ids(conn: psycopg.Connection, rng: random.Random) -> tuple[list[str], list[str]]:
    """(hot ids, cold ids): HOT_PRODUCTS random active products, and all the others shuffled."""
    ids = [str(row[0]) for row in conn.execute("SELECT id FROM products WHERE is_active ORDER BY id")]
    rng.shuffle(ids)
    return ids[:HOT_PRODUCTS], ids[HOT_PRODUCTS:]


def product_loads(host: RunningHost, hot: list[str], cold: list[str], rng: random.Random) -> list[Load]:
    base = host.base_url
    uncached = UrlPool([f"{base}/api/products/{product_id}" for product_id in cold], rng)
    return [
        Load(Target(HEALTH, f"{base}/api/health"), THROUGHPUT_CLIENTS, host),
        Load(Target(CACHED, cycling([f"{base}/api/products/{i}" for i in hot], rng)), THROUGHPUT_CLIENTS, host),
        Load(Target(UNCACHED, uncached), THROUGHPUT_CLIENTS, host, pool=uncached),
    ]


def query_loads(host: RunningHost, listings: dict[str, list[dict[str, str]]], rng: random.Random) -> list[Load]:
    base = host.base_url
    headline = {"en": plans.SEARCH_EN, "ar": plans.SEARCH_AR}
    loads = [
        Load(
            Target(name, cycling([listing_url(base, {"q": q, "lang": lang}) for q in headline[lang]], rng)),
            QUERY_CLIENTS,
            host,
        )
        for lang, name in SEARCH.items()
    ]
    loads += [
        Load(Target(f"listing {kind}", cycling([listing_url(base, p) for p in params], rng)), QUERY_CLIENTS, host)
        for kind, params in listings.items()
    ]
    return loads


def warm_hot_products(hot_urls: list[str]) -> None:
    """Each fixed id once (fills the cache), and a check that the endpoint answers a product."""
    with httpx.Client(timeout=30) as client:
        for url in hot_urls:
            response = client.get(url)
            if response.status_code != 200 or "id" not in response.json():
                raise SystemExit(f"GET {url} -> {response.status_code}\n{response.text[:500]}")


async def measure(loads: list[Load], args: argparse.Namespace) -> None:
    """Warm-up rounds (not counted), then interleaved rounds. An endpoint that fails a request is
    measured no further (its numbers mean nothing); the others go on, to be reported."""
    async with client_session(THROUGHPUT_CLIENTS) as session:
        for load in loads:
            await run_round(session, load.target, load.clients, WARMUP_SECONDS, load.stats, load.host.process.pid)
            if not load.stats.failed:
                load.stats = Stats()  # the warm-up is not counted; a failed one is kept to be reported
        for round_number in range(args.rounds):
            for load in loads:
                if not load.stats.failed:
                    await run_round(session, load.target, load.clients, args.seconds, load.stats, load.host.process.pid)
            say(f"round {round_number + 1}/{args.rounds} done")


@contextmanager
def hosts(database_url: str) -> Iterator[tuple[RunningHost, RunningHost]]:
    """(cached host, cache-less host): the second one's Redis is a closed port."""
    run_id = uuid.uuid4().hex[:8]
    with (
        dev_host(database_url, run_id) as cached,
        dev_host(database_url, f"{run_id}-nocache", {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}) as bare,
    ):
        say(
            f"dev hosts at {cached.base_url} (cache) and {bare.base_url} (no cache); logs {cached.log_path}, "
            f"{bare.log_path}"
        )
        yield cached, bare


def run_loads(database_url: str, args: argparse.Namespace) -> list[Load]:
    rng = random.Random(uuid.uuid4().int)
    with psycopg.connect(database_url) as conn:
        hot, cold = product_ids(conn, rng)
        listings = listing_params(conn)
    with hosts(database_url) as (cached, bare):
        loads = product_loads(cached, hot, cold, rng) + query_loads(bare, listings, rng)
        warm_hot_products([f"{cached.base_url}/api/products/{product_id}" for product_id in hot])
        asyncio.run(measure(loads, args))
    return loads


# --- report --------------------------------------------------------------------------------


def report(loads: list[Load], args: argparse.Namespace, products: int) -> int:
    print(
        f"\n{products:,} products · {args.seconds:g} s per round · {args.rounds} rounds per endpoint "
        f"(interleaved) · {os.cpu_count()} CPUs"
    )
    print(
        f"{'endpoint':<36}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'requests':>10}"
        f"{'errors':>8}{'client cpu':>12}{'host cpu':>10}{'db cpu':>9}"
    )
    for load in loads:
        s = load.stats
        client, server, database = cpu_columns(s)
        print(
            f"{load.target.name:<36}{load.clients:>8}{s.rate:>9.1f}{s.percentile_ms(0.50):>9.1f}"
            f"{s.percentile_ms(0.95):>9.1f}{s.percentile_ms(0.99):>9.1f}{s.ok:>10}{s.failures + s.errors:>8}"
            f"{client:>11.0f}%{server:>9.0f}%{database:>8.0f}%"
        )
    failed = [load for load in loads if load.stats.failed]
    for load in failed:
        print(
            f"FAILED {load.target.name}: {load.stats.failures} non-2xx, {load.stats.errors} client errors "
            f"(not measured further); first: {load.stats.first_failure}"
        )
    print_figures({load.target.name: load.stats for load in loads if not load.stats.failed})
    for load in loads:
        if load.pool and load.pool.repeats:
            print(
                f"note: {load.target.name}: {load.pool.repeats} requests repeated an id "
                f"(pool of {len(load.pool.urls)}), possibly answered from the cache"
            )
    return 1 if failed else 0


def print_figures(stats: dict[str, Stats]) -> None:
    """The targets' figures, from the endpoints that did not fail."""
    nan = Stats()
    health, cached, uncached = (stats.get(name, nan) for name in (HEALTH, CACHED, UNCACHED))
    ratio = cached.rate / health.rate if health.rate and cached.rate else float("nan")
    print(
        f"ratio cached product/health: {ratio:.2f}  (target >= {TARGET_RATIO}: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    hit, miss = cached.percentile_ms(0.95), uncached.percentile_ms(0.95)
    print(f"product p95 uncached {miss:.1f} ms vs cached {hit:.1f} ms ({miss / hit:.1f}x)")
    for lang, name in SEARCH.items():
        p95 = stats.get(name, nan).percentile_ms(0.95)
        verdict = "met" if p95 <= TARGET_SEARCH_P95_MS else "OVER" if p95 == p95 else "failed"
        print(f"search p95 {lang}: {p95:.1f} ms  (target <= {TARGET_SEARCH_P95_MS:g} ms: {verdict})")


def print_plans(database_url: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each search and listing statement, with the index verdict."""
    verdicts = []
    with psycopg.connect(database_url) as conn:
        for name, params in plans.plan_cases().items():
            plan = plans.explain(conn, params)
            scans = plans.seq_scans(plan)
            verdict = "PASS" if not scans else f"FAIL ({', '.join(scans)})"
            shown = "&".join(f"{key}={value}" for key, value in params.items())  # readable, Arabic included
            print(f"\n=== {name}  [{shown}]  {verdict}\n{plans.render(plan)}")
            verdicts.append((name, verdict, plan.get("Execution Time", float("nan"))))
    print(
        f"\nplans (PASS: no sequential scan of products, variants or offers; SLOW: over "
        f"{TARGET_SEARCH_P95_MS:g} ms alone, without concurrent load):"
    )
    for name, verdict, milliseconds in verdicts:
        slow = "SLOW" if milliseconds > TARGET_SEARCH_P95_MS else ""
        print(f"  {verdict:<6} {name:<42} {milliseconds:8.1f} ms {slow}")


# --- database --------------------------------------------------------------------------------


def product_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM products").fetchone()
    assert row is not None  # count(*) always answers one row
    return row[0]


def prepare_database(args: argparse.Namespace) -> str:
    """The seeded bench database: reused as it is, or recreated and seeded (then kept)."""
    server_url = os.environ["DATABASE_URL"]
    database_url = with_database(server_url, args.database)
    if args.reuse:
        try:
            migrate_up(database_url)
        except Exception as exc:  # yoyo wraps the driver's errors; the message says enough
            raise SystemExit(f"--reuse: cannot use {args.database} ({exc}); run once without --reuse") from exc
        return database_url
    drop_database(server_url, args.database)
    create_database(server_url, args.database)
    migrate_up(database_url)
    summary = seed_catalog(database_url, products=args.products)
    assert summary is not None  # a fresh database: nothing to skip
    say(f"seeded {summary.describe()}; {args.database} is kept for --reuse")
    return database_url


def add_seed_arguments(parser: argparse.ArgumentParser, *, products: int, database: str, note: str = "") -> None:
    """--products/--reuse/--database: what prepare_database reads (bench.orders uses them too)."""
    parser.add_argument("--products", type=int, default=products, help=f"products to seed (default {products}{note})")
    parser.add_argument("--reuse", action="store_true", help="use the already seeded database as it is")
    parser.add_argument("--database", default=database, help=f"database name (default {database})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog", description=__doc__.splitlines()[0])
    add_seed_arguments(parser, products=200_000, database=BENCH_DATABASE)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint (default 3)")
    args = parser.parse_args(argv)
    if args.products < 1 or args.seconds <= 0 or args.rounds < 1:
        parser.error("--products, --seconds and --rounds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    database_url = prepare_database(args)
    products = product_count(database_url)
    if products < HOT_PRODUCTS * 2:
        raise SystemExit(f"{args.database} has {products} products; at least {HOT_PRODUCTS * 2} are needed")
    loads = run_loads(database_url, args)
    status = report(loads, args, products)
    print_plans(database_url)  # also after a failure: a slow plan is the likely reason
    return status


if __name__ == "__main__":
    run_cli(main, "dev host stopped")
