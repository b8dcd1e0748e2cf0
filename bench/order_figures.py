"""The dashboards at 10M orders: figures computed from the orders vs read from the closed days'
kept figures (migration 0018), side by side in one run.

    python -m bench.order_figures [--orders 10000000] [--rounds 3] [--year-live]
    make bench-order-figures ARGS="--orders 20000"

1. **Data**: the `bench.order_partitions` database (N orders over 24 months; built once, tens
   of minutes at 10M, then reused and migrated). Only its plain tables are read.
2. **Catch-up**: the `refresh_order_figures` timer's own code (`shared.orders.service`),
   in-process with the app's settings (its 5 s statement timeout included), run until no closed
   day is due; the time per day and in all.
3. **The dashboards' statements** (`repo_stats.MARKETPLACE_STATS`, and `SELLER_STATS` for the
   seller with the most child orders over the year) on one connection with the app's settings
   (JIT off; the statement timeout lifted for the side computed from the orders), over the
   default 30 days and a whole year (the longest window the API takes) up to the data's newest
   order. "live" runs in a transaction that notes a change on every day of the window (so every
   day is computed from the orders, as before the kept figures), rolled back; "kept" runs as
   the app does. Alternating, after warm-up runs; both must answer the same figures. Figure:
   kept ÷ live median, and the kept side against the 5 s statement timeout. The marketplace's
   year is computed from the orders only with `--year-live` (minutes a run at 10M).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from bench.harness import run_cli
from bench.order_partitions import DEFAULT_ORDERS, SELLER_RANKS, prepare
from bench.orders import configure_in_process
from scripts.dev import provision, say

WARM_UP = 6  # psycopg prepares at the 5th run; the 6th runs the prepared statement
DATA_LAST_DAY = "SELECT (max(created_at) AT TIME ZONE 'UTC')::date FROM orders"
NOTE_EVERY_DAY = """
INSERT INTO order_figure_changes (day)
SELECT g::date FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') g"""
NO_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0"  # the sides computed from the orders may pass 5 s
KEPT_IN_WINDOW = "SELECT count(*) FROM order_figure_days WHERE day BETWEEN %(first)s AND %(last)s"


@dataclass(frozen=True)
class Case:
    name: str
    sql: str
    params: dict[str, Any]
    sides: tuple[bool, ...]  # live (every day computed from the orders), kept
    kept_days: int


async def catch_up() -> tuple[int, list[float]]:
    """Runs of the timer's work, one day each so each is timed, until no day is due."""
    from shared.data import db
    from shared.orders import service

    seconds: list[float] = []
    try:
        while True:
            started = time.perf_counter()
            run = await service.refresh_order_figures(days_per_run=1)
            if run.days == 0:
                return len(seconds), seconds
            seconds.append(time.perf_counter() - started)
            if len(seconds) % 50 == 0:
                say(f"  {len(seconds)} days kept, the last in {seconds[-1]:.2f} s")
    finally:
        await db.close_pools()


def app_options() -> str:
    """The app's connection settings (statement timeout, time zone, JIT)."""
    from shared.data import db
    from shared.platform.config import get_settings

    return str(db.connection_kwargs(get_settings())["options"])


def timed(conn: psycopg.Connection[tuple], case: Case, *, live: bool) -> tuple[float, Any]:
    """Seconds for one run of the dashboard's statement, and its row."""
    with conn.transaction(force_rollback=True):
        if live:
            conn.execute(NO_STATEMENT_TIMEOUT)
            conn.execute(NOTE_EVERY_DAY, case.params)
        started = time.perf_counter()
        row = conn.execute(case.sql, case.params).fetchone()
        return time.perf_counter() - started, row


def measure(url: str, case: Case, rounds: int) -> dict[bool, list[float]]:
    """Seconds per run by side (live or not), alternating; fails if the sides disagree."""
    times: dict[bool, list[float]] = {side: [] for side in case.sides}
    with psycopg.connect(url, options=app_options()) as conn:
        for _ in range(WARM_UP):  # the cheap side: from here on psycopg runs it prepared, as the app does
            timed(conn, case, live=False)
        rows = {live: timed(conn, case, live=live)[1] for live in case.sides}  # warms the live side too
        assert len({repr(row) for row in rows.values()}) == 1, f"kept and live figures differ: {rows}"
        for round_no in range(rounds):
            for live in case.sides if round_no % 2 == 0 else tuple(reversed(case.sides)):
                times[live].append(timed(conn, case, live=live)[0])
    return times


def largest_seller(url: str, window: dict[str, Any]) -> Any:
    starts = datetime.combine(window["first"], datetime.min.time(), UTC)
    with psycopg.connect(url) as conn:
        return conn.execute(SELLER_RANKS, {"starts": starts}).fetchone()[0]  # type: ignore[index]


def kept_days(url: str, window: dict[str, Any]) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(KEPT_IN_WINDOW, window).fetchone()[0]  # type: ignore[index]


def report(
    orders: int, caught_up: tuple[int, list[float]], measured: list[tuple[Case, dict[bool, list[float]]]]
) -> None:
    days, seconds = caught_up
    if seconds:
        print(
            f"\ncatch-up: {days} days kept in {sum(seconds):.0f} s "
            f"(a day: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s)"
        )
    print(f"{orders:,} orders · the dashboards' statements, median of the runs (ms)")
    print(f"{'dashboard and window':<52}{'kept days':>10}{'live ms':>11}{'kept ms':>10}{'kept/live':>11}")
    for case, times in measured:
        live = statistics.median(times[True]) * 1000 if True in times else None
        kept = statistics.median(times[False]) * 1000
        ratio = f"{kept / live:>11.3f}" if live else f"{'-':>11}"
        live_text = f"{live:>11,.0f}" if live else f"{'-':>11}"
        span = f"{case.name} ({case.params['first']} to {case.params['last']})"
        print(f"{span:<52}{case.kept_days:>10}{live_text}{kept:>10,.0f}{ratio}")


def window_of(last: date, days: int) -> dict[str, Any]:
    return {"first": last - timedelta(days=days - 1), "last": last}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.order_figures", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="orders in the database (10,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per side and window (3)")
    parser.add_argument("--year-live", action="store_true", help="also time the year's live side (slow)")
    args = parser.parse_args(argv)
    if args.orders < 10_000 or args.rounds < 1:
        parser.error("--orders at least 10,000; --rounds positive")
    return args


def cases(url: str, year_live: bool) -> list[Case]:
    from shared.orders.repo_stats import MARKETPLACE_STATS, SELLER_STATS

    with psycopg.connect(url) as conn:
        last = conn.execute(DATA_LAST_DAY).fetchone()[0]  # type: ignore[index]
    month, year = window_of(last, 30), window_of(last, 366)
    seller = {"seller_id": largest_seller(url, year)}
    both = (True, False)
    return [
        Case("marketplace, 30 days", MARKETPLACE_STATS, month, both, kept_days(url, month)),
        Case("marketplace, a year", MARKETPLACE_STATS, year, both if year_live else (False,), kept_days(url, year)),
        Case("largest seller, 30 days", SELLER_STATS, month | seller, both, kept_days(url, month)),
        Case("largest seller, a year", SELLER_STATS, year | seller, both, kept_days(url, year)),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    url, _ = prepare(args.orders, rebuild=False)
    configure_in_process(url, uuid.uuid4().hex[:8])
    say("catching up the kept figures …")
    caught_up = asyncio.run(catch_up())
    measured = []
    for case in cases(url, args.year_live):
        say(f"{case.name} …")
        measured.append((case, measure(url, case, args.rounds)))
    report(args.orders, caught_up, measured)
    return 0


if __name__ == "__main__":
    run_cli(main, "stopped")
