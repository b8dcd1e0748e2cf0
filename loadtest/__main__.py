"""`python -m loadtest [--quick | --smoke] [--no-faults] [--products N]`: the load and fault
suite (docs/loadtest.md).

Full (15 min) and --quick (the same in 3 min) run on servers of their own (a PostgreSQL cluster,
redis-server and Azurite on free ports: the faults never touch anyone else's), seed the demo
catalog at scale, start the dev host and drive it with Locust: 0 → 100 → 200 users, Redis
killed, PostgreSQL restarted and Azurite stopped on the way, then every user ordering the hot
SKU. --smoke (make test): 20 users for 20 s, no faults, on the configured servers. Prints p50/p95
per endpoint, each fault window with its counts, the order knee as a fraction of bench.orders'
database floor, and a PASS/FAIL line per target; exits 1 if one failed."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from devhost.process import RunningHost
from loadtest import analysis, world
from loadtest.analysis import ProbeAnswer
from loadtest.capacity import capacity
from loadtest.cpu import CpuSampler
from loadtest.faults import start_faults
from loadtest.plan import Mode, Plan, plan_for, users_at
from loadtest.probe import Probe
from loadtest.report import Outcome, render
from loadtest.services import Servers, private_servers, process_groups, running_host
from scripts.dev_tokens import mint_token

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = {"full": 20_000, "quick": 5_000, "smoke": 1_000}
HOT_STOCK = {"full": 1_000, "quick": 150, "smoke": 10}
PAYMENT_WAIT_SECONDS = 150  # the sandbox redelivers a refused webhook after 2, 10, 30, 60, 120 s
# A payment event the queue lost (Azurite accepted it just before it stopped) is queued again by
# the payment sweep (every 2 minutes) once it has waited EVENT_REQUEUE_AFTER unprocessed.
SWEEP_WAIT_SECONDS = 5 * 60 + 2 * 60 + 60
FUNCTION_KEY = "load-function-key"


def say(message: str) -> None:
    print(f"[load] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.splitlines()[0])
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="the whole run in 3 minutes")
    speed.add_argument("--smoke", action="store_true", help="20 users, 20 s, no faults (make test)")
    parser.add_argument("--no-faults", action="store_true", help="no Redis, PostgreSQL or Azurite faults")
    parser.add_argument("--products", type=int, help="catalog size (default by mode)")
    parser.add_argument("--users", type=int, help="the peak users (default 200, seed 004's)")
    return parser.parse_args(argv)


@contextmanager
def servers_for(plan: Plan) -> Iterator[Servers]:
    if plan.mode == "smoke":  # the configured servers (make test provisions them), a database of its own
        server_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        url = f"{server_url}/souq_load_{uuid.uuid4().hex[:8]}"
        try:
            yield Servers(url, os.environ["REDIS_URL"], os.environ["AzureWebJobsStorage"])  # noqa: SIM112 - the host's name
        finally:
            world.drop_database(url)
        return
    with private_servers() as servers:
        yield servers


@dataclass
class LoadRun:
    """What the load left behind: Locust's log, the fault windows, the probe's answers, the CPU."""

    log: list[dict]
    windows: list[analysis.Window]
    probe: list[ProbeAnswer]
    cpu: CpuSampler
    started: float


def run_locust(host: RunningHost, plan: Plan, world_file: Path, scratch: Path, servers: Servers) -> LoadRun:
    log, started_file = scratch / "requests.jsonl", scratch / "started"
    env = os.environ | {
        "LOADTEST_PLAN": plan.to_json(),
        "LOADTEST_WORLD": str(world_file),
        "LOADTEST_LOG": str(log),
        "LOADTEST_STARTED": str(started_file),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless"]
    command += ["--host", host.base_url, "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"]
    with open(scratch / "locust.out", "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = CpuSampler(process_groups(servers, host.process.pid, process.pid)).start()
        while not started_file.exists() and process.poll() is None:
            time.sleep(0.1)
        started = float(started_file.read_text()) if started_file.exists() else time.time()
        probe = Probe(host.base_url, world.World.read(world_file))
        threads, windows = start_faults(servers, plan.faults, started, say, probe)
        process.wait(timeout=plan.seconds + 300)
        sampler.stop()
        for thread in threads:
            thread.join(timeout=120)
    if process.returncode not in (0, 1):  # 1: Locust counted failed requests, which the report judges
        raise SystemExit(f"locust exited {process.returncode}:\n{(scratch / 'locust.out').read_text()[-3000:]}")
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return LoadRun(lines, windows, probe.answers, sampler, started)


def consistency_violations(base_url: str) -> int | None:
    headers = {"Authorization": f"Bearer {mint_token(role='admin', sub='load-admin')}", "x-functions-key": FUNCTION_KEY}
    response = httpx.get(f"{base_url}/api/ops/consistency", headers=headers, timeout=60)
    return response.json()["violation_count"] if response.status_code == 200 else None


def wait_for_payments(url: str, order_ids: list[str], seconds: float) -> int:
    deadline = time.monotonic() + seconds
    paid = world.paid_count(url, order_ids)
    while paid < len(order_ids) and time.monotonic() < deadline:
        time.sleep(2)
        paid = world.paid_count(url, order_ids)
    return paid


def measure_floor(url: str, the_world: world.World, seconds: int) -> float | None:
    """bench.orders' database floor on this database: pgbench sending the app's own statements
    for 3-line orders over the mix's offers, 16 clients."""
    from bench.harness import Stats
    from bench.orders_data import Offer
    from bench.orders_floor import prepare_floor_orders, write_floor_script
    from bench.orders_load import run_pgbench
    from shared.platform.settings_model import Settings

    defaults = Settings.model_fields
    offers = [Offer(*o) for o in the_world.offers]
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="souq-load-floor-") as scratch:
        variables = {
            "orders": str(prepare_floor_orders(url, offers)),
            "vat": str(defaults["order_vat_rate"].default),
            "window": str(defaults["order_payment_window_minutes"].default),
        }
        script = write_floor_script(Path(scratch), str(defaults["order_currency"].default))
        run_pgbench(url, script, variables, 16, seconds, stats)
    return stats.rate or None


def outcome_of(run: LoadRun, the_world: world.World, url: str, base_url: str, plan: Plan) -> Outcome:
    log, windows = run.log, run.windows
    approved = [e["order"] for e in log if e.get("event") == "approved"]
    say(f"waiting for {len(approved)} approved payments to be processed")
    paid = wait_for_payments(url, approved, PAYMENT_WAIT_SECONDS)
    paid_first = paid
    if paid < len(approved):
        say(f"{len(approved) - paid} not PAID yet: waiting for the payment sweep (up to {SWEEP_WAIT_SECONDS} s)")
        paid = wait_for_payments(url, approved, SWEEP_WAIT_SECONDS)
    taken = world.hot_units_taken(url, the_world)
    requests = analysis.requests_of(log)
    bucket = 5.0 if plan.mode != "full" else 15.0
    return Outcome(
        windows=windows,
        reservations=analysis.reservations(log, windows, hot_taken=taken, hot_stock=the_world.hot_stock),
        oversold=world.oversold_units(url, the_world),
        violations=consistency_violations(base_url),
        approved=len(approved),
        paid=paid,
        paid_by_sweep=paid - paid_first,
        floor_rate=None if plan.mode == "smoke" else measure_floor(url, the_world, 5 if plan.mode == "quick" else 15),
        knee=analysis.knee(requests, windows, bucket=bucket, users_at=lambda t: users_at(plan, t)),
        messages=dict(Counter(e["step"] for e in log if e.get("event") == "messages")),
        probe=run.probe,
        cpu=run.cpu.samples,
        capacity=capacity(run.cpu.samples, requests, run.cpu.cores, lambda t: users_at(plan, t - run.started)),
        peak_users=None if plan.mode == "smoke" else max(stage.users for stage in plan.stages),
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode: Mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    plan = plan_for(mode, faults=not args.no_faults, peak=args.users)
    run_id = uuid.uuid4().hex[:8]
    with servers_for(plan) as servers, tempfile.TemporaryDirectory(prefix="souq-load-run-") as scratch_dir:
        scratch = Path(scratch_dir)
        products = args.products or PRODUCTS[mode]
        say(f"{mode} run: seeding {products:,} products")
        the_world = world.prepare(servers.database_url, products=products, hot_stock=HOT_STOCK[mode])
        the_world.write(scratch / "world.json")
        os.environ["DEVHOST_FUNCTION_KEY"] = FUNCTION_KEY
        with running_host(servers, run_id) as host:
            say(f"dev host {host.base_url}; Locust for {plan.seconds:g} s, stages {[s.name for s in plan.stages]}")
            run = run_locust(host, plan, scratch / "world.json", scratch, servers)
            outcome = outcome_of(run, the_world, servers.database_url, host.base_url, plan)
    lines, failed = render(run.log, outcome)
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
