"""Orders: hot-product placement against pgbench's bare reserve transaction, spread orders over
100k offers through HTTP, statements per order, and the consistency check after the load.

    python -m bench.orders [--reuse] [--database souq_bench_orders] [--products 22000]
                           [--clients 64] [--seconds 4] [--rounds 3]

Works on `souq_bench_orders` (or --database): without --reuse it is (re)created, migrated and
seeded with scripts.seed_catalog (--products, 8 sellers, 3 offers per variant: about 5 offers a
product, so 22,000 products give the issue's 100k offers) and kept; --reuse takes it as it is.
Every run first deletes the previous runs' orders (reserved back to 0), gives one offer (the hot
one) a huge on_hand, then measures in interleaved rounds, `--clients` at a time:

  a. pgbench: BEGIN; conditional UPDATE of the hot offer; INSERT of a reservation row; COMMIT
     (bench/reserve.pgbench), -M prepared -c clients -j 2 -T seconds;
  b. shared.orders.service.place_order called in-process by `clients` asyncio tasks, each a
     shopper of its own ordering 1 unit of the hot offer (pickup), a new Idempotency-Key each;
  c. the same through HTTP: POST /api/orders to the dev host, one token per client;
  d. spread: POST /api/orders with 3 lines over random in-stock offers (variant + seller).

Figures: b ÷ a (target ≥ 0.5), c ÷ a (target ≥ 0.25), d's p95 (target ≤ 100 ms) and orders/s,
statements per placement for 1 line and for 20 lines (target: equal), and the consistency
violations after the load (must be 0).

Exit status: 0 whether or not targets are met (a measurement); 1 if any order failed or the
consistency check found a violation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import catalog
from bench.harness import Stats, dev_host, print_table, run_cli
from bench.orders_data import Offer, Stock, consistency_violations, order_count, prepare_stock
from bench.orders_floor import prepare_floor_orders, write_floor_script
from bench.orders_load import (
    RESERVE_SCRIPT,
    counting_statements,
    create_scratch_table,
    http_round,
    run_pgbench,
    service_round,
    undo_pgbench,
)
from scripts.dev import provision, say
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, mint_token

BENCH_DATABASE = "souq_bench_orders"
TARGET_SERVICE_RATIO, TARGET_HTTP_RATIO, TARGET_SPREAD_P95_MS, TARGET_OFFERS = 0.5, 0.25, 100.0, 100_000
WARMUP_SECONDS = 1
PGBENCH, SERVICE, HTTP_HOT, HTTP_SPREAD, FLOOR = (
    "pgbench reserve transaction",
    "place_order in-process (hot)",
    "POST /api/orders (hot)",
    "POST /api/orders (3 lines, spread)",
    "pgbench app's SQL (3 lines, spread)",
)
SHOPPER = "bench-shopper-{:02d}"


def order_body(lines: list[dict]) -> dict:
    return {"lines": lines, "delivery_method": "pickup"}


@dataclass(frozen=True)
class Loads:
    """What each round sends: the spread bodies, one token per client, the floor's pgbench script."""

    spread_body: Callable[[], dict]
    auths: list[dict[str, str]]
    floor_script: Path
    floor_variables: dict[str, str]


def spread_bodies(offers: list[Offer]):
    """3-line bodies walking the shuffled offers, three new ones per order (wrapping around)."""
    position = 0

    def next_body() -> dict:
        nonlocal position
        picked = [offers[(position + i) % len(offers)] for i in range(3)]
        position += 3
        return order_body([offer.line() for offer in picked])

    return next_body


# --- in-process --------------------------------------------------------------------------------


def configure_in_process(database_url: str, run_id: str) -> None:
    """The app's settings for calls in this process: the dev host's, on the bench database."""
    from shared.platform import auth
    from shared.platform.config import reset_settings

    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            "AUTH_ISSUER": DEV_ISSUER,
            "AUTH_AUDIENCE": DEV_AUDIENCE,
            "REDIS_KEY_PREFIX": f"bench:{run_id}:",
            "DOMAIN_EVENTS_QUEUE": f"bench-events-{run_id}",
            "ORDER_EVENTS_QUEUE": order_queue(run_id),
        }
    )
    reset_settings()
    auth.reset_caches()


def order_queue(run_id: str) -> str:
    """The run's own queue for order.placed events (the dev host relays one per HTTP order)."""
    return f"bench-orders-{run_id}"


async def delete_order_queue(run_id: str) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import close_storage_clients, queue_client

    try:
        await queue_client(order_queue(run_id)).delete_queue()
    except ResourceNotFoundError:
        pass
    finally:
        await close_storage_clients()


def shopper(client: int):
    from shared.platform.auth import Principal

    return Principal(
        user_id=SHOPPER.format(client), roles=frozenset({"customer"}), email=f"{SHOPPER.format(client)}@bench.example"
    )


def in_process_placer(offer: Offer, clients: int):
    from shared.orders.models import PlaceOrder
    from shared.orders.service import place_order

    body = PlaceOrder.model_validate(order_body([offer.line()]))
    principals = [shopper(client) for client in range(clients)]
    return lambda client: place_order(principals[client], body, uuid.uuid4().hex)


async def statements_per_order(offers: list[Offer]) -> dict[int, int]:
    """Statements one placement sends, for 1 line and for 20 (the shopper's profile exists)."""
    from shared.orders.models import PlaceOrder
    from shared.orders.service import place_order

    counts = {}
    for lines in (1, 20):
        body = PlaceOrder.model_validate(order_body([offer.line() for offer in offers[-lines:]]))
        with counting_statements() as counted:
            await place_order(shopper(0), body, uuid.uuid4().hex)
        counts[lines] = len(counted)
    return counts


# --- rounds ------------------------------------------------------------------------------------


async def one_round(
    host, stock: Stock, args: argparse.Namespace, results: dict[str, Stats], seconds: float, loads: Loads
) -> bool:
    """a, b, c, d, e once each; False as soon as one failed."""
    database_url, clients = args.database_url, args.clients
    url, pid = f"{host.base_url}/api/orders", host.process.pid
    hot_body = order_body([stock.hot.line()])
    from shared.data import db

    await db.close_pools()  # 64 pgbench connections + the dev host's must fit in max_connections
    await asyncio.to_thread(
        run_pgbench, database_url, RESERVE_SCRIPT, {"offer": stock.hot.id}, clients, int(seconds), results[PGBENCH]
    )
    await asyncio.to_thread(undo_pgbench, database_url, stock.hot.id)
    await service_round(in_process_placer(stock.hot, clients), clients, seconds, results[SERVICE])
    await http_round(url, loads.auths, lambda: hot_body, seconds, results[HTTP_HOT], pid)
    await http_round(url, loads.auths, loads.spread_body, seconds, results[HTTP_SPREAD], pid)
    await db.close_pools()
    await asyncio.to_thread(
        run_pgbench, database_url, loads.floor_script, loads.floor_variables, clients, int(seconds), results[FLOOR]
    )
    return not any(stats.failed for stats in results.values())


async def measure(
    host, stock: Stock, args: argparse.Namespace, scratch: Path
) -> tuple[dict[str, Stats], dict[int, int], tuple]:
    from shared.data import db
    from shared.platform.config import get_settings

    spread = stock.spread[:-20]  # the last 20 are for counting statements
    floor_orders = prepare_floor_orders(args.database_url, spread)
    settings = get_settings()
    loads = Loads(
        spread_body=spread_bodies(spread),
        auths=[
            {"Authorization": f"Bearer {mint_token(role='customer', sub=SHOPPER.format(c))}"}
            for c in range(args.clients)
        ],
        floor_script=write_floor_script(scratch, settings.order_currency),
        floor_variables={
            "orders": str(floor_orders),
            "vat": str(settings.order_vat_rate),
            "window": str(settings.order_payment_window_minutes),
        },
    )
    results = {name: Stats() for name in (PGBENCH, SERVICE, HTTP_HOT, HTTP_SPREAD, FLOOR)}
    try:
        warmup = {name: Stats() for name in results}  # connections, JWKS, profiles, plans; not counted
        if not await one_round(host, stock, args, warmup, WARMUP_SECONDS, loads):
            return warmup, {}, await consistency_violations(args.database_url)
        for round_number in range(args.rounds):
            if not await one_round(host, stock, args, results, args.seconds, loads):
                return results, {}, await consistency_violations(args.database_url)
            say(f"round {round_number + 1}/{args.rounds} done")
        statements = await statements_per_order(stock.spread)
        return results, statements, await consistency_violations(args.database_url)
    finally:
        await db.close_pools()


# --- report ------------------------------------------------------------------------------------


def report(
    results: dict[str, Stats],
    statements: dict[int, int],
    consistency: tuple[str, dict[str, int]],
    stock: Stock,
    args: argparse.Namespace,
) -> int:
    print(
        f"\n{stock.offers:,} offers · {args.clients} clients · {args.seconds:g} s per round · {args.rounds} rounds "
        f"(interleaved) · {os.cpu_count()} CPUs · {order_count(args.database_url):,} orders placed"
    )
    print_table(results, quantiles=(0.50, 0.95), width=38)
    failed = {name: s for name, s in results.items() if s.failed}
    for name, s in failed.items():
        print(f"FAILED {name}: {s.failures} non-2xx, {s.errors} errors; first: {s.first_failure}")
    if not failed:
        print_figures(results, statements, stock, args.clients)
    checker, violations = consistency
    print(f"consistency after the load ({checker}):")
    for name, count in violations.items():
        print(f"  {count:>6}  {name}")
    print(f"  {sum(violations.values()):>6}  violations in all (must be 0)")
    return 1 if failed or any(violations.values()) else 0


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_cpu_budget(spread: Stats, clients: int) -> None:
    """What the machine's CPUs allow: Little's law turns the CPU each order costs into the least
    time closed-loop clients can wait on average."""
    if not spread.ok:
        return
    costs = {"dev host": spread.server_cpu, "PostgreSQL": spread.database_cpu, "load generator": spread.client_cpu}
    per_order_ms = {name: seconds / spread.ok * 1000 for name, seconds in costs.items()}
    cpus = os.cpu_count() or 1
    most_per_second = cpus * 1000 / sum(per_order_ms.values())
    print(
        "CPU per spread order: "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in per_order_ms.items())
        + f"; {cpus} CPUs allow at most {most_per_second:.0f} orders/s, so {clients} closed-loop clients wait at "
        f"least {clients / most_per_second * 1000:.0f} ms on average (Little's law)"
    )


def print_figures(results: dict[str, Stats], statements: dict[int, int], stock: Stock, clients: int) -> None:
    baseline = results[PGBENCH].rate
    for name, target in ((SERVICE, TARGET_SERVICE_RATIO), (HTTP_HOT, TARGET_HTTP_RATIO)):
        ratio = results[name].rate / baseline if baseline else float("nan")
        print(f"ratio {name} / pgbench: {ratio:.2f}  (target >= {target}: {verdict(ratio >= target)})")
    spread, floor = results[HTTP_SPREAD], results[FLOOR]
    p95 = spread.percentile_ms(0.95)
    print(
        f"spread p95 {p95:.1f} ms, p50 {spread.percentile_ms(0.5):.1f} ms, {spread.rate:.1f} orders/s  "
        f"(target p95 <= {TARGET_SPREAD_P95_MS:g} ms: {verdict(p95 <= TARGET_SPREAD_P95_MS)}; over "
        f"{stock.offers:,} offers, target >= {TARGET_OFFERS:,}: {verdict(stock.offers >= TARGET_OFFERS)})"
    )
    floor_p95 = floor.percentile_ms(0.95)
    print(
        f"the database's floor for the same orders (pgbench sending the app's statements, no HTTP, no Python): "
        f"p95 {floor_p95:.1f} ms, p50 {floor.percentile_ms(0.5):.1f} ms, {floor.rate:.1f} orders/s"
    )
    print_cpu_budget(spread, clients)
    one, twenty = statements[1], statements[20]
    print(
        f"statements per placement (BEGIN/COMMIT not counted): 1 line {one}, 20 lines {twenty}  "
        f"(target equal: {verdict(one == twenty)})"
    )


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.orders", description=__doc__.splitlines()[0])
    catalog.add_seed_arguments(parser, products=22_000, database=BENCH_DATABASE, note=": ~115k offers")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients of every load (default 64)")
    parser.add_argument("--seconds", type=int, default=4, help="length of one round, whole seconds (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each load (default 3)")
    parser.add_argument(
        "--host-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the dev host only, e.g. DATABASE_POOL_MAX=32 (repeatable)",
    )
    args = parser.parse_args(argv)
    if min(args.products, args.clients, args.seconds, args.rounds) < 1:
        parser.error("--products, --clients, --seconds and --rounds must be positive")
    if any("=" not in item for item in args.host_env):
        parser.error("--host-env takes NAME=VALUE")
    args.host_env = dict(item.split("=", 1) for item in args.host_env)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    args.database_url = catalog.prepare_database(args)  # seeds only without --reuse
    stock = prepare_stock(args.database_url, random.Random(uuid.uuid4().int))
    create_scratch_table(args.database_url)
    run_id = uuid.uuid4().hex[:8]
    configure_in_process(args.database_url, run_id)
    try:
        host_env = {"ORDER_EVENTS_QUEUE": order_queue(run_id)} | args.host_env
        with dev_host(args.database_url, run_id, host_env) as host, tempfile.TemporaryDirectory() as scratch:
            say(f"dev host at {host.base_url} (log {host.log_path}); hot offer {stock.hot.id}")
            results, statements, consistency = asyncio.run(measure(host, stock, args, Path(scratch)))
    finally:
        asyncio.run(delete_order_queue(run_id))
    return report(results, statements, consistency, stock, args)


if __name__ == "__main__":
    run_cli(main, "dev host stopped")
