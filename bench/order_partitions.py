"""Monthly partitioning of the order tables at 10M orders: the app's own statements on the plain
tables and on partitioned copies of the same rows, side by side in one run (issue 16).

    python -m bench.order_partitions [--orders 10000000] [--rebuild] [--rounds 3] [--runs 3]
    make bench-order-partitions ARGS="--orders 100000"

1. **Data** (`bench/order_partitions_data.py`): the database `souq_bench_order_partitions`
   (`…_<N>` for another `--orders`) on the `DATABASE_URL` server, migrated, with a catalog
   (2,000 products, 400 sellers), N orders over 24 months and the same rows in schema `part`,
   where orders, seller_orders, order_items and reservations are partitioned by month on
   created_at. Built once (tens of minutes at 10M) and kept; a later run reuses it.
2. **Statements**: the expiry timer's claim and expire statements (`repo_lifecycle`,
   `repo_stock`; writes in a transaction rolled back), the dashboards' (`repo_stats`) and the
   admin and seller order lists (`repo_reads`), a shopper's history (`LIST_MY_ORDERS`, first
   page and a deep keyset page). Two connections, `search_path` public and `part, public`, the
   app's settings (autocommit, prepared after 5 runs, TimeZone UTC); 6 warm-up runs each, then
   `--rounds` rounds of `--runs` runs of each statement, plain and partitioned alternating.
3. **Verdict** by the issue's rule: adopt when a statement is more than 20 % faster partitioned
   (ratio ≤ 0.8) and none is slower beyond the noise (ratio ≥ 1.1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench import order_partitions_data as data
from bench.harness import create_database, drop_database, run_cli, with_database
from scripts.dev import provision, say

DATABASE = "souq_bench_order_partitions"
DEFAULT_ORDERS = 10_000_000
GAIN, LOSS = 0.8, 1.1  # partitioned ÷ plain: more than 20 % faster; slower beyond the noise
WARM_UP = 6  # psycopg prepares at the 5th run; the 6th runs the prepared statement
SHOPPER = "bench-shopper-1"
SIDES = {"plain": "public", "partitioned": "part, public"}
EXISTS = "SELECT 1 FROM pg_database WHERE datname = %s"
DATA_NOW = "SELECT max(created_at) + interval '1 minute' FROM orders"
SELLER_RANKS = """
SELECT seller_id FROM seller_orders WHERE created_at >= %(starts)s GROUP BY seller_id ORDER BY count(*) DESC, seller_id
"""
DEEP_CURSOR = """
SELECT created_at, id FROM orders WHERE user_id = %(user_id)s ORDER BY created_at DESC, id DESC OFFSET %(skip)s LIMIT 1
"""
CHILDREN = "SELECT id FROM seller_orders WHERE order_id = %(id)s"


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    sql: str
    params: dict[str, Any]
    write: bool = False  # run in a transaction that is rolled back


# --- data --------------------------------------------------------------------------------------


def database_name(orders: int) -> str:
    return DATABASE if orders == DEFAULT_ORDERS else f"{DATABASE}_{orders}"


def prepare(orders: int, rebuild: bool) -> tuple[str, data.Built | None]:
    """The database's URL, and the build's figures when this run built it."""
    from scripts.migrate import migrate_up
    from scripts.seed_catalog import seed_catalog

    server_url, name = os.environ["DATABASE_URL"], database_name(orders)
    url = with_database(server_url, name)
    with psycopg.connect(server_url, dbname="postgres") as conn:
        exists = conn.execute(EXISTS, (name,)).fetchone() is not None
    if exists and not rebuild and data.is_seeded(url, orders):
        migrate_up(url)
        say(f"reusing {name} ({orders:,} orders)")
        return url, None
    if exists and not rebuild and data.is_building(url, orders):
        return url, data.seed(url, orders)  # an interrupted build goes on
    say(f"building {name}: {orders:,} orders, twice (plain and partitioned)")
    drop_database(server_url, name)
    create_database(server_url, name)
    migrate_up(url)
    seed_catalog(url, products=data.CATALOG_PRODUCTS, sellers=data.SELLERS, progress=False)
    return url, data.seed(url, orders)


# --- the statements ----------------------------------------------------------------------------


def cases(url: str) -> list[Case]:
    """The app's statements with parameters picked from the data (identical in both copies)."""
    from shared.orders import expiry, rules

    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        now = conn.execute(DATA_NOW).fetchone()[0]  # type: ignore[index]
        due = expired_order(conn, now, expiry.BATCH_SIZE)
        children = [row[0] for row in conn.execute(CHILDREN, {"id": due}).fetchall()]
        last = now.date()
        starts = datetime.combine(last - timedelta(days=rules.DEFAULT_STATS_DAYS - 1), datetime.min.time(), UTC)
        ends = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)
        ranked = [row[0] for row in conn.execute(SELLER_RANKS, {"starts": starts}).fetchall()]
        deep = conn.execute(DEEP_CURSOR, {"user_id": SHOPPER, "skip": 19}).fetchone()
    assert deep is not None, f"{SHOPPER} has fewer than 20 orders"
    window = {"starts": starts, "ends": ends}
    return (
        expiry_cases(now, due, children, expiry.BATCH_SIZE)
        + dashboard_cases(window, ranked[0], ranked[len(ranked) // 2])
        + history_cases((deep[0], deep[1]))
    )


def expired_order(conn: psycopg.Connection[tuple], now: datetime, limit: int) -> Any:
    from shared.orders.repo_lifecycle import SELECT_EXPIRED_ORDERS

    rows = conn.execute(SELECT_EXPIRED_ORDERS, {"now": now, "limit": limit}).fetchall()
    assert rows, "no unpaid order past its deadline: rebuild the database"
    return rows[0][0]


def expiry_cases(now: datetime, due: Any, children: list[Any], limit: int) -> list[Case]:
    from shared.orders import repo_lifecycle as lifecycle
    from shared.orders import repo_stock as stock

    parent = {"id": due, "status": "CANCELLED"}
    cancel = {"ids": children, "from": ["PENDING"], "to": "CANCELLED"}
    give_back = {"order_id": due, "seller_order_ids": None, "item_ids": None, "outcome": "EXPIRED"}
    return [
        Case("expiry", "claim: due orders", lifecycle.SELECT_EXPIRED_ORDERS, {"now": now, "limit": limit}),
        Case("expiry", "claim: lock one", lifecycle.LOCK_EXPIRED_ORDER, {"id": due, "now": now}, True),
        Case("expiry", "expire: lock children", lifecycle.LOCK_ORDER_CHILDREN, {"id": due}, True),
        Case("expiry", "expire: children status", lifecycle.SET_CHILD_STATUS, cancel, True),
        Case("expiry", "expire: parent status", lifecycle.UPDATE_PARENT_STATUS, parent, True),
        Case("expiry", "expire: stock back", stock.GIVE_BACK, give_back, True),
        Case("expiry", "orphan reservations", stock.EXPIRE_ORPHAN_RESERVATIONS, {"now": now, "limit": limit}, True),
    ]


def dashboard_cases(window: dict[str, Any], big_seller: Any, median_seller: Any) -> list[Case]:
    from shared.orders import repo_reads as reads
    from shared.orders import repo_stats as stats
    from shared.orders.models import PAGE_LIMIT_DEFAULT
    from shared.platform.pagination import after_created, fetch_size

    first_page = reads.page_params(after_created(None), fetch_size(PAGE_LIMIT_DEFAULT))
    ops = {"status": None, "starts": None, "ends": None, "seller": None, "seller_id": None} | first_page
    seller_list = {"seller_id": big_seller, "status": None} | first_page
    return [
        Case("dashboard", "admin stats, 30 days", stats.MARKETPLACE_STATS, window),
        Case("dashboard", "seller stats, largest", stats.SELLER_STATS, window | {"seller_id": big_seller}),
        Case("dashboard", "seller stats, median", stats.SELLER_STATS, window | {"seller_id": median_seller}),
        Case("dashboard", "admin order list", reads.LIST_OPS_ORDERS, ops),
        Case("dashboard", "admin list, 30 days", reads.LIST_OPS_ORDERS, ops | window),
        Case("dashboard", "seller order list", reads.LIST_SELLER_ORDERS, seller_list),
    ]


def history_cases(deep: tuple[datetime, Any]) -> list[Case]:
    from shared.orders.models import PAGE_LIMIT_DEFAULT
    from shared.orders.repo_reads import LIST_MY_ORDERS, page_params
    from shared.platform.pagination import after_created, fetch_size

    mine = {"user_id": SHOPPER, "status": None}
    size = fetch_size(PAGE_LIMIT_DEFAULT)
    return [
        Case("history", "first page", LIST_MY_ORDERS, mine | page_params(after_created(None), size)),
        Case("history", "deep keyset page", LIST_MY_ORDERS, mine | page_params(deep, size)),
    ]


# --- measuring ---------------------------------------------------------------------------------


def timed(conn: psycopg.Connection[tuple], case: Case) -> float:
    """Seconds for one run of the statement, its rows fetched; a write is rolled back after."""
    if case.write:
        with conn.transaction(force_rollback=True):
            return timed_statement(conn, case)
    return timed_statement(conn, case)


def timed_statement(conn: psycopg.Connection[tuple], case: Case) -> float:
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(case.sql, case.params)
        if cur.description is not None:
            cur.fetchall()
    return time.perf_counter() - started


def measure(url: str, all_cases: list[Case], args: argparse.Namespace) -> Timings:
    """Seconds per run by (case, side); the sides alternate run by run, first one then the other."""
    timings: Timings = {}
    with connections(url) as conns:
        for case in all_cases:
            for conn in conns.values():
                for _ in range(WARM_UP):
                    timed(conn, case)
        for round_no in range(args.rounds):
            say(f"round {round_no + 1} / {args.rounds}")
            for case in all_cases:
                for run in range(args.runs):
                    order = list(conns) if (round_no + run) % 2 == 0 else list(reversed(conns))
                    for side in order:
                        timings.setdefault((case.name, side), []).append(timed(conns[side], case))
    return timings


class connections:
    """One connection per side, with the app's settings and that side's search_path."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conns: dict[str, psycopg.Connection[tuple]] = {}

    def __enter__(self) -> dict[str, psycopg.Connection[tuple]]:
        for side, path in SIDES.items():
            options = f"-c TimeZone=UTC -c search_path={path.replace(' ', '')}"
            self.conns[side] = psycopg.connect(self.url, autocommit=True, options=options)
        return self.conns

    def __exit__(self, *exc: object) -> None:
        for conn in self.conns.values():
            conn.close()


# --- report ------------------------------------------------------------------------------------


Timings = dict[tuple[str, str], list[float]]
Row = tuple[Case, float, float, float]


def verdicts(all_cases: list[Case], timings: Timings) -> Iterator[Row]:
    for case in all_cases:
        plain = statistics.median(timings[(case.name, "plain")]) * 1000
        part = statistics.median(timings[(case.name, "partitioned")]) * 1000
        yield case, plain, part, part / plain


def report(url: str, orders: int, built: data.Built | None, rows: list[Row]) -> None:
    sizes = data.schema_bytes(url)
    if built is not None:
        say(f"built in {built.seconds / 60:,.1f} min; database {built.database_bytes / 2**30:,.1f} GiB")
    print(
        f"\n{orders:,} orders · order tables {sizes['public'] / 2**30:,.1f} GiB plain, "
        f"{sizes['part'] / 2**30:,.1f} GiB partitioned · {os.cpu_count()} CPUs"
    )
    print(f"{'group':<10}{'statement':<26}{'plain ms':>10}{'part ms':>10}{'ratio':>8}  verdict")
    for case, plain, part, ratio in rows:
        print(f"{case.group:<10}{case.name:<26}{plain:>10.2f}{part:>10.2f}{ratio:>8.2f}  {judged(ratio)}")
    gains = [case.name for case, _, _, ratio in rows if ratio <= GAIN]
    losses = [case.name for case, _, _, ratio in rows if ratio >= LOSS]
    adopt = bool(gains) and not losses
    print(f"\ngains (ratio <= {GAIN}): {', '.join(gains) or 'none'}")
    print(f"losses (ratio >= {LOSS}): {', '.join(losses) or 'none'}")
    print(f"verdict: {'ADOPT partitioning' if adopt else 'keep the plain tables'}")


def judged(ratio: float) -> str:
    return "gain" if ratio <= GAIN else "LOSS" if ratio >= LOSS else "same"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.order_partitions", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="orders in the database (10,000,000)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again even if it is there")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each statement per side per round (3)")
    args = parser.parse_args(argv)
    if args.orders < 10_000 or min(args.rounds, args.runs) < 1:
        parser.error("--orders at least 10,000 (the shopper needs 20 orders); counts positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    url, built = prepare(args.orders, args.rebuild)
    all_cases = cases(url)
    timings = measure(url, all_cases, args)
    report(url, args.orders, built, list(verdicts(all_cases, timings)))
    return 0


if __name__ == "__main__":
    run_cli(main, "stopped")
