"""Threads at scale: a thread's latest page at 10M messages ÷ at 10k, the thread list against
the addresses list on one host, and SQL statements per message post.

    python -m bench.threads [--reuse] [--messages 10000000] [--small 10000] [--pages 300]
                            [--clients 32] [--seconds 5] [--rounds 3]
    make bench-threads ARGS=--reuse

1. Without `--reuse`: (re)creates `souq_bench_threads` (`--messages`, 10M) and
   `souq_bench_threads_10k` (`--small`, 10k) on the `DATABASE_URL` server, migrates them, seeds a
   small catalog and `bench.threads_data` (1,000 threads of one shopper; nine messages in ten in
   the measured thread; COPY of server-generated rows over 12 monthly partitions); both are kept.
2. **Latest page** (the statement `GET /api/threads/{id}/messages` runs: `repo_reads.message_page`,
   no cursor, limit 30), from this process on one connection per database, `--pages` pages per
   database per round, databases interleaved each round: p50 at 10M ÷ p50 at 10k, **target
   ≤ 1.5**. Beside it, the same page with OFFSET (half the thread skipped), 3 runs per database:
   it grows with the thread, the keyset page does not.
3. **Thread list**: the dev host on the 10M database; `GET /api/threads` (the shopper's 1,000
   threads, first page with unread counts) and `GET /api/me/addresses` (10 addresses), 32
   clients, rounds interleaved as in `bench.throughput`: **ratio ≥ 0.5**.
4. **Statements per post** (`shared.threads.service.post_message`, every `AsyncCursor.execute`
   counted): into the measured thread (millions of messages) and into a thread of about a
   thousand, both in the 10M database: **target equal**.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import psycopg

from bench.harness import Stats, Target, create_database, dev_host, drop_database, run_cli, with_database
from bench.orders import configure_in_process
from bench.orders_load import counting_statements
from bench.threads_data import SHOPPER, Seeded, seed_threads, seeded
from bench.throughput import measure as measure_http
from bench.throughput import seed as seed_addresses
from scripts.dev import provision, say
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, mint_token
from scripts.migrate import migrate_up
from scripts.seed_catalog import seed_catalog

BIG, SMALL = "souq_bench_threads", "souq_bench_threads_10k"
CATALOG_PRODUCTS = 1000  # enough (product, seller) pairs for 1,000 inquiry threads
PAGE_TARGET, LIST_TARGET = 1.5, 0.5
THREADS, ADDRESSES = "GET /api/threads", "GET /api/me/addresses"
OFFSET_RUNS = 3
OFFSET_PAGE = """
SELECT id, thread_id, seq, sender_id, sender_side, kind, body, reply_to, metadata, created_at, edited_at, deleted_at
FROM messages WHERE thread_id = %(thread_id)s ORDER BY id DESC OFFSET %(offset)s LIMIT %(limit)s
"""
THREAD_SIZE = "SELECT message_seq FROM threads WHERE id = %s"
FORGET_ADDRESSES = "DELETE FROM addresses WHERE user_id = %(user_id)s"
SECOND_THREAD = """
SELECT id FROM threads WHERE shopper_id = %(shopper)s AND message_seq BETWEEN 500 AND 5000 ORDER BY id LIMIT 1
"""


# --- data --------------------------------------------------------------------------------------


def prepare(name: str, messages: int, reuse: bool) -> tuple[str, Seeded]:
    server_url = os.environ["DATABASE_URL"]
    url = with_database(server_url, name)
    if not reuse:
        drop_database(server_url, name)
        create_database(server_url, name)
    migrate_up(url)
    if not reuse:
        seed_catalog(url, products=CATALOG_PRODUCTS, progress=False)
        seed_threads(url, messages)
    found = seeded(url)
    if found is None:
        raise SystemExit(f"{name} has no threads: run once without --reuse")
    return url, found


# --- latest page -------------------------------------------------------------------------------


async def page_latencies(urls: dict[str, str], threads: dict[str, str], args: argparse.Namespace) -> dict[str, list]:
    """Seconds per latest page, per database, rounds interleaved."""
    from shared.threads import repo, repo_reads
    from shared.threads.models import MessagesQuery

    timings: dict[str, list[float]] = {name: [] for name in urls}
    connections = {name: await psycopg.AsyncConnection.connect(url, autocommit=True) for name, url in urls.items()}
    try:
        rows = {}
        for name, conn in connections.items():
            row = await repo.thread_for_party(conn, uuid.UUID(threads[name]), None)
            assert row is not None, f"{name}: the measured thread is gone"
            rows[name] = row
        query = MessagesQuery()
        for name, conn in connections.items():  # warm-up: plans, caches; not counted
            for _ in range(20):
                await repo_reads.message_page(conn, rows[name], query)
        for _ in range(args.rounds):
            for name, conn in connections.items():
                for _ in range(args.pages):
                    started = time.perf_counter()
                    page = await repo_reads.message_page(conn, rows[name], query)
                    timings[name].append(time.perf_counter() - started)
                    assert len(page.items) == query.limit
    finally:
        for conn in connections.values():
            await conn.close()
    return timings


def offset_latencies(url: str, thread: Seeded) -> list[float]:
    """The same page by OFFSET half-way into the thread: what keyset paging avoids."""
    params = {"thread_id": thread.thread_id, "offset": thread.thread_messages // 2, "limit": 30}
    timings = []
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(OFFSET_RUNS):
            started = time.perf_counter()
            conn.execute(OFFSET_PAGE, params).fetchall()
            timings.append(time.perf_counter() - started)
    return timings


# --- the thread list on the dev host -----------------------------------------------------------


def list_ratio(url: str, args: argparse.Namespace, run_id: str) -> dict[str, Stats]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FORGET_ADDRESSES, {"user_id": SHOPPER})
    with dev_host(url, run_id) as host:
        say(f"dev host at {host.base_url} (log {host.log_path})")
        token = mint_token(role="customer", sub=SHOPPER, issuer=DEV_ISSUER, audience=DEV_AUDIENCE)
        auth = {"Authorization": f"Bearer {token}"}
        seed_addresses(host.base_url, auth)
        targets = [
            Target(THREADS, f"{host.base_url}/api/threads", auth),
            Target(ADDRESSES, f"{host.base_url}/api/me/addresses", auth),
        ]
        measure_args = argparse.Namespace(concurrency=args.clients, seconds=args.seconds, rounds=args.rounds)
        return asyncio.run(measure_http(targets, measure_args, host.process.pid))


# --- statements per post -----------------------------------------------------------------------


async def statements_per_post(url: str, big_thread: str) -> dict[str, tuple[int, int]]:
    """(messages in the thread, statements one post sent) for the big thread and a small one."""
    from shared import storage
    from shared.data import db
    from shared.events import relay
    from shared.threads import service
    from shared.threads.models import Party, PostMessage

    with psycopg.connect(url) as conn:
        found = conn.execute(SECOND_THREAD, {"shopper": SHOPPER}).fetchone()
    assert found is not None, "no thread of 500-5,000 messages: reseed"
    small_thread = str(found[0])
    party = Party(side="SHOPPER", party_id=SHOPPER, user_id=SHOPPER)
    counts, kinds = {}, {}
    try:
        for label, thread in (("big thread", big_thread), ("small thread", small_thread)):
            body = PostMessage(body="Is it still in stock?", client_message_id=uuid.uuid4().hex)
            await service.post_message(party, uuid.UUID(thread), body)  # warm: pool, prepared plans
            # Not the post's statements: the warm-up's background relay, and the setup of the
            # pool's other connections (opened in the background on first use).
            await relay.wait_for_background_relay()
            await (await db.get_pool()).wait(timeout=30)
            with counting_statements() as counted:
                await service.post_message(party, uuid.UUID(thread), PostMessage(body="And the price?"))
            # An empty statement is the pool's liveness check of a connection idle for a while
            # (shared.data.db), not the post's: left out.
            kinds[label] = [" ".join(statement.split()[:2]) for statement in counted if statement.strip()]
            with psycopg.connect(url) as conn:
                size = conn.execute(THREAD_SIZE, (thread,)).fetchone()
            counts[label] = (size[0] if size else 0, len(kinds[label]))
    finally:
        await relay.wait_for_background_relay()
        await db.close_pools()
        await storage.close_storage_clients()
    for label, statements in kinds.items():
        say(f"{label}: {statements}")
    return counts


# --- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(
    pages: dict[str, list[float]],
    offsets: dict[str, list[float]],
    sizes: dict[str, Seeded],
    lists: dict[str, Stats],
    statements: dict[str, tuple[int, int]],
    args: argparse.Namespace,
) -> int:
    report_pages(pages, offsets, sizes, args)
    failed = report_lists(lists, args)
    report_statements(statements)
    return 1 if failed else 0


def report_pages(
    pages: dict[str, list[float]], offsets: dict[str, list[float]], sizes: dict[str, Seeded], args: argparse.Namespace
) -> None:
    print(f"\n{os.cpu_count()} CPUs · {args.rounds} rounds · latest page: {args.pages} pages per database per round")
    print(f"{'database':<26}{'messages':>12}{'in thread':>12}{'page p50 ms':>13}{'p95 ms':>9}{'OFFSET page ms':>16}")
    for name in (SMALL, BIG):
        ordered = sorted(pages[name])
        p95 = ordered[max(0, int(0.95 * len(ordered)) - 1)] * 1000
        print(
            f"{name:<26}{sizes[name].messages:>12,}{sizes[name].thread_messages:>12,}"
            f"{statistics.median(pages[name]) * 1000:>13.2f}{p95:>9.2f}{statistics.median(offsets[name]) * 1000:>16.1f}"
        )
    page_ratio = statistics.median(pages[BIG]) / statistics.median(pages[SMALL])
    offset_ratio = statistics.median(offsets[BIG]) / statistics.median(offsets[SMALL])
    print(
        f"latest page 10M/10k p50 ratio: {page_ratio:.2f}  "
        f"(target <= {PAGE_TARGET}: {verdict(page_ratio <= PAGE_TARGET)})"
    )
    print(f"OFFSET page 10M/10k ratio, for contrast: {offset_ratio:.0f}\n")


def report_lists(lists: dict[str, Stats], args: argparse.Namespace) -> list[str]:
    from bench.harness import print_table

    print_table(lists)
    failed = [name for name, s in lists.items() if s.failed]
    for name in failed:
        print(f"FAILED {name}: {lists[name].first_failure}")
    if not failed:
        ratio = lists[THREADS].rate / lists[ADDRESSES].rate
        met = verdict(ratio >= LIST_TARGET)
        print(f"ratio threads/addresses at {args.clients} clients: {ratio:.2f}  (target >= {LIST_TARGET}: {met})")
    print()
    return failed


def report_statements(statements: dict[str, tuple[int, int]]) -> None:
    for label, (size, count) in statements.items():
        print(f"statements per post, {label} ({size:,} messages): {count}")
    counts = {count for _, count in statements.values()}
    print(f"statements constant whatever the thread size: {verdict(len(counts) == 1)}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help=f"use {BIG} and {SMALL} as they are (seeded before)")
    parser.add_argument("--messages", type=int, default=10_000_000, help="messages in the big database (10M)")
    parser.add_argument("--small", type=int, default=10_000, help="messages in the small database (10k)")
    parser.add_argument("--pages", type=int, default=300, help="latest pages per database per round (300)")
    parser.add_argument("--clients", type=int, default=32, help="clients of the thread-list load (32)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one HTTP round (5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    args = parser.parse_args(argv)
    if min(args.messages, args.small, args.pages, args.clients, args.rounds) < 1 or args.seconds <= 0:
        parser.error("every count must be positive")
    if min(args.messages, args.small) < 10_000:
        parser.error("--messages and --small: at least 10,000 (1,000 threads, 9 in 10 messages in one)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    provision()
    small_url, small = prepare(SMALL, args.small, args.reuse)
    big_url, big = prepare(BIG, args.messages, args.reuse)
    sizes = {SMALL: small, BIG: big}
    urls = {SMALL: small_url, BIG: big_url}
    say("latest pages …")
    pages = asyncio.run(page_latencies(urls, {SMALL: small.thread_id, BIG: big.thread_id}, args))
    say("OFFSET pages …")
    offsets = {name: offset_latencies(urls[name], sizes[name]) for name in urls}
    run_id = uuid.uuid4().hex[:8]
    say("thread list vs addresses …")
    lists = list_ratio(big_url, args, run_id)
    configure_in_process(big_url, run_id)
    statements = asyncio.run(statements_per_post(big_url, big.thread_id))
    return report(pages, offsets, sizes, lists, statements, args)


if __name__ == "__main__":
    run_cli(main, "dev host stopped")
