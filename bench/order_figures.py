"""The admin dashboard at 10M orders: the marketplace figures computed from the orders vs read
from the closed days' kept figures (migration 0018), side by side in one run.

    python -m bench.order_figures [--orders 10000000] [--rounds 3] [--year-live]
    make bench-order-figures ARGS="--orders 100000"

1. **Data**: the `bench.order_partitions` database (N orders over 24 months; built once, tens
   of minutes at 10M, then reused and migrated). Only its plain tables are read.
2. **Catch-up**: the `refresh_order_figures` timer's own code (`shared.orders.service`),
   in-process with the app's settings (its 5 s statement timeout included), run until no closed
   day is due; the time per day and in all.
3. **The dashboard's statement** (`repo_stats.MARKETPLACE_STATS`) on one connection with the
   app's settings (JIT off; the statement timeout lifted for the sides computed from the
   orders), over the default 30 days up to the data's newest order: "live" runs in a
   transaction that notes a change on every day of the window (so every day is computed from
   the orders, as before the kept figures), rolled back; "kept" runs as the app does.
   Alternating, after warm-up runs; both must answer the same figures. Figure: kept ÷ live
   median. Over a whole year (the longest window the API takes) the kept side is timed against
   the 5 s statement timeout; its live side only with `--year-live` (minutes a run at 10M).
   Beside it, the largest seller's dashboard over the year (`repo_stats.SELLER_STATS`, always
   computed from its child orders).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
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


def timed(conn: psycopg.Connection[tuple], window: dict[str, Any], *, live: bool) -> tuple[float, Any]:
    """Seconds for one run of the dashboard's statement, and its row."""
    from shared.orders.repo_stats import MARKETPLACE_STATS

    with conn.transaction(force_rollback=True):
        if live:
            conn.execute(NO_STATEMENT_TIMEOUT)
            conn.execute(NOTE_EVERY_DAY, window)
        started = time.perf_counter()
        row = conn.execute(MARKETPLACE_STATS, window).fetchone()
        return time.perf_counter() - started, row


def measure(url: str, window: dict[str, Any], rounds: int, sides: tuple[bool, ...]) -> dict[bool, list[float]]:
    """Seconds per run by side (live or not), alternating; fails if the sides disagree."""
    times: dict[bool, list[float]] = {side: [] for side in sides}
    with psycopg.connect(url, options=app_options()) as conn:
        for _ in range(WARM_UP):  # the cheap side: from here on psycopg runs it prepared, as the app does
            timed(conn, window, live=False)
        rows = {live: timed(conn, window, live=live)[1] for live in sides}  # warms the live side too
        assert len({repr(row) for row in rows.values()}) == 1, f"kept and live figures differ: {rows}"
        for round_no in range(rounds):
            for live in sides if round_no % 2 == 0 else tuple(reversed(sides)):
                times[live].append(timed(conn, window, live=live)[0])
    return times


def largest_seller_year(url: str, window: dict[str, Any], rounds: int) -> tuple[str, list[float]]:
    """The largest seller of the window and the seconds of its dashboard's statement per run."""
    from shared.orders.repo_stats import SELLER_STATS

    starts = datetime.combine(window["first"], datetime.min.time(), UTC)
    params = {"starts": starts, "ends": datetime.combine(window["last"] + timedelta(days=1), datetime.min.time(), UTC)}
    with psycopg.connect(url, autocommit=True, options=app_options() + " -c statement_timeout=0") as conn:
        params["seller_id"] = conn.execute(SELLER_RANKS, {"starts": starts}).fetchone()[0]  # type: ignore[index]
        seconds = []
        for _ in range(WARM_UP + rounds):
            started = time.perf_counter()
            conn.execute(SELLER_STATS, params).fetchone()
            seconds.append(time.perf_counter() - started)
    return str(params["seller_id"]), seconds[WARM_UP:]


def kept_days(url: str, window: dict[str, Any]) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(KEPT_IN_WINDOW, window).fetchone()[0]  # type: ignore[index]


def report(
    orders: int, caught_up: tuple[int, list[float]], windows: dict[str, Any], url: str, seller: tuple[str, list[float]]
) -> None:
    days, seconds = caught_up
    if seconds:
        print(
            f"\ncatch-up: {days} days kept in {sum(seconds):.0f} s "
            f"(a day: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s)"
        )
    print(f"{orders:,} orders · dashboard statement, median of the runs (ms)")
    print(f"{'window':<34}{'kept days':>10}{'live ms':>11}{'kept ms':>10}{'kept/live':>11}")
    for name, (window, times) in windows.items():
        live = statistics.median(times[True]) * 1000 if True in times else None
        kept = statistics.median(times[False]) * 1000
        ratio = f"{kept / live:>11.3f}" if live else f"{'-':>11}"
        live_text = f"{live:>11,.0f}" if live else f"{'-':>11}"
        span = f"{name} ({window['first']} to {window['last']})"
        print(f"{span:<34}{kept_days(url, window):>10}{live_text}{kept:>10,.0f}{ratio}")
    print(
        f"the largest seller's dashboard over the year, from its orders: {statistics.median(seller[1]) * 1000:,.0f} ms"
    )


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    url, _ = prepare(args.orders, rebuild=False)
    configure_in_process(url, uuid.uuid4().hex[:8])
    say("catching up the kept figures …")
    caught_up = asyncio.run(catch_up())
    with psycopg.connect(url) as conn:
        last = conn.execute(DATA_LAST_DAY).fetchone()[0]  # type: ignore[index]
    month, year = window_of(last, 30), window_of(last, 366)
    say("30 days, live and kept …")
    windows = {"30 days": (month, measure(url, month, args.rounds, (True, False)))}
    say("a year …")
    windows["a year"] = (year, measure(url, year, args.rounds, (True, False) if args.year_live else (False,)))
    say("the largest seller over the year …")
    report(args.orders, caught_up, windows, url, largest_seller_year(url, year, args.rounds))
    return 0


if __name__ == "__main__":
    run_cli(main, "stopped")
