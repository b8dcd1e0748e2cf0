"""Backups against pg_dump / pg_restore on the same database of at least 1 GB, side by side in
one run (targets: backup ÷ `pg_dump -Fc` ≤ 1.5, restore ÷ `pg_restore` ≤ 1.5).

    python -m bench.backups [--orders 600000] [--reuse] [--keep]

Without --reuse, the database `souq_bench_backups` is (re)created, migrated, given a catalog
(scripts.seed_catalog, 5,000 products) and then orders with their seller orders, items and
status history, generated in SQL (`generate_series`, consistent totals). Then, once each:
1. `pg_dump -Fc` to a local file;
2. `shared.backups.service.create_backup` (snapshot, COPY, gzip, block blobs in Azurite,
   fingerprints, manifest);
3. `pg_restore` of that file into a new empty database;
4. `restore_backup` into another new empty database (migrations, load, indexes, keys,
   sequences, every fingerprint compared).
Both sides compress with zlib (pg_dump at its default level, the backup at level 1); the
backup also writes through Azurite and checks every table twice (fingerprints at backup and
after restore), which pg_dump / pg_restore do not do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from bench.harness import create_database, drop_database, run_cli, with_database
from scripts.dev import provision, say

DATABASE = "souq_bench_backups"
CATALOG_PRODUCTS = 5000
TARGET_RATIO = 1.5

# Integers only are put in ({users}, {orders}): the statements take no parameters.
SEED_USERS = """
INSERT INTO users (id, email, full_name, preferred_language, created_at)
SELECT 'bench-user-' || g, 'user' || g || '@example.com', 'Bench Shopper ' || g,
       CASE WHEN g % 3 = 0 THEN 'ar' ELSE 'en' END, now() - (g % 1000) * interval '1 hour'
FROM generate_series(1, {users}) g
"""
SEED_OFFERS = """
CREATE TEMP TABLE bench_offers AS
SELECT row_number() OVER (ORDER BY o.id) AS n, o.id AS offer_id, o.seller_id, o.variant_id, v.product_id,
       p.name_en, p.name_ar, v.sku
FROM offers o JOIN variants v ON v.id = o.variant_id JOIN products p ON p.id = v.product_id
"""
# One seller order of two 10.00 lines per order: totals add up, the consistency report stays empty.
SEED_ORDERS = """
INSERT INTO orders (id, number, user_id, status, payment_status, delivery_method, delivery_address, subtotal, tax,
                    delivery_fee, total, created_at, updated_at)
SELECT md5('order' || g)::uuid, 'SQ-BENCH-' || g, 'bench-user-' || (1 + g % {users}), 'COMPLETED', 'PAID',
       'delivery', jsonb_build_object('street', 'King Fahd Road', 'building', (g % 500)::text, 'city', 'Riyadh'),
       20.00, 3.00, 15.00, 38.00, now() - (g % 100000) * interval '1 minute', now()
FROM generate_series(1, {orders}) g
"""
SEED_SELLER_ORDERS = """
INSERT INTO seller_orders (id, order_id, seller_id, number, status, delivery_status, subtotal, tax, delivery_fee,
                           total, created_at, updated_at)
SELECT md5('so' || g)::uuid, md5('order' || g)::uuid, bo.seller_id, 'SQ-BENCH-' || g || '-1', 'DELIVERED',
       'DELIVERED', 20.00, 3.00, 15.00, 38.00, now() - (g % 100000) * interval '1 minute', now()
FROM generate_series(1, {orders}) g
JOIN bench_offers bo ON bo.n = 1 + g % (SELECT count(*) FROM bench_offers)
"""
SEED_ITEMS = """
INSERT INTO order_items (id, order_id, seller_order_id, line_no, offer_id, variant_id, product_id, product_name_en,
                         product_name_ar, sku, requires_prescription, unit_price, quantity, line_total)
SELECT md5('item' || g || '-' || l)::uuid, md5('order' || g)::uuid, md5('so' || g)::uuid, l, bo.offer_id,
       bo.variant_id, bo.product_id, bo.name_en, bo.name_ar, bo.sku, false, 10.00, 1, 10.00
FROM generate_series(1, {orders}) g CROSS JOIN generate_series(1, 2) l
JOIN bench_offers bo ON bo.n = 1 + g % (SELECT count(*) FROM bench_offers)
"""
# History is spread over the last ~70 days; the migrations made only this month and the next 3.
SEED_PARTITIONS = """
DO $$
BEGIN
    FOR back IN 1..3 LOOP
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF order_status_history FOR VALUES FROM (%L) TO (%L)',
            'order_status_history_p' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC')
                                                - make_interval(months => back), 'YYYYMM'),
            (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => back)) AT TIME ZONE 'UTC',
            (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => back - 1)) AT TIME ZONE 'UTC');
    END LOOP;
END
$$
"""
SEED_HISTORY = """
INSERT INTO order_status_history (order_id, seller_order_id, field, from_status, to_status, actor_id, actor_role,
                                  created_at)
SELECT md5('order' || g)::uuid, md5('so' || g)::uuid, f.field, f.from_status, f.to_status, 'bench-user-1',
       'customer', now() - (g % 100000) * interval '1 minute'
FROM generate_series(1, {orders}) g
CROSS JOIN (VALUES ('payment_status', 'PENDING', 'PAID'), ('status', 'PENDING', 'DELIVERED'))
     AS f(field, from_status, to_status)
"""
SEED_STATEMENTS = (SEED_USERS, SEED_OFFERS, SEED_ORDERS, SEED_SELLER_ORDERS, SEED_ITEMS, SEED_PARTITIONS, SEED_HISTORY)
DATABASE_SIZE = "SELECT pg_database_size(current_database())"


def seed(server_url: str, orders: int) -> str:
    from scripts.migrate import migrate_up
    from scripts.seed_catalog import seed_catalog

    drop_database(server_url, DATABASE)
    url = create_database(server_url, DATABASE)
    migrate_up(url)
    seed_catalog(url, products=CATALOG_PRODUCTS)
    say(f"seeding {orders:,} orders (two items, two history rows each)")
    with psycopg.connect(url) as conn:
        for statement in SEED_STATEMENTS:
            conn.execute(statement.format(users=max(1, orders // 5), orders=orders))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return url


def database_bytes(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(DATABASE_SIZE).fetchone()
    return int(row[0]) if row else 0


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


async def timed_backup(url: str, container: str) -> tuple[float, str, int]:
    from shared.backups import service
    from shared.storage import close_storage_clients

    started = time.perf_counter()
    result = await service.create_backup(database_url=url, container=container)
    elapsed = time.perf_counter() - started
    await close_storage_clients()  # each asyncio.run has its own loop: the next one makes new clients
    assert result.manifest is not None, result
    return elapsed, result.manifest.backup_id, result.manifest.stored_bytes


async def timed_restore(backup_id: str, target_url: str, container: str) -> float:
    from shared.backups import service
    from shared.storage import close_storage_clients

    started = time.perf_counter()
    await service.restore_backup(backup_id, target_url, container=container)
    elapsed = time.perf_counter() - started
    await close_storage_clients()
    return elapsed


async def delete_container(container: str) -> None:
    from shared.storage import blob_service_client, close_storage_clients

    await blob_service_client().delete_container(container)
    await close_storage_clients()


def configure(url: str) -> None:
    from shared.platform.config import reset_settings

    os.environ.update({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    reset_settings()


def measure(url: str, server_url: str, scratch: Path) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    container, dump = f"bench-backups-{run}", scratch / "bench.dump"
    restored_pg, restored_ours = f"souq_bench_pgrestore_{run}", f"souq_bench_restore_{run}"
    configure(url)
    figures: dict[str, float] = {}
    try:
        say("pg_dump -Fc …")
        figures["pg_dump"] = timed(["pg_dump", "-Fc", "-f", str(dump), url])
        figures["pg_dump_bytes"] = dump.stat().st_size
        say(f"pg_dump -Fc: {figures['pg_dump']:.1f} s")
        say("backup …")
        figures["backup"], backup_id, figures["backup_bytes"] = asyncio.run(timed_backup(url, container))
        say(f"backup: {figures['backup']:.1f} s")
        say("pg_restore …")
        target = create_database(server_url, restored_pg)
        figures["pg_restore"] = timed(["pg_restore", "--no-owner", "-d", target, str(dump)])
        say(f"pg_restore: {figures['pg_restore']:.1f} s")
        say("restore …")
        target = create_database(server_url, restored_ours)
        figures["restore"] = asyncio.run(timed_restore(backup_id, target, container))
    finally:
        for name in (restored_pg, restored_ours):
            drop_database(server_url, name)
        asyncio.run(delete_container(container))
    return figures


def report(size: int, figures: dict[str, float]) -> int:
    backup_ratio = figures["backup"] / figures["pg_dump"]
    restore_ratio = figures["restore"] / figures["pg_restore"]
    print(f"\ndatabase: {size / 2**30:.2f} GiB ({DATABASE})")
    print(f"{'':24}{'seconds':>10}{'MiB written':>14}")
    print(f"{'pg_dump -Fc':24}{figures['pg_dump']:>10.1f}{figures['pg_dump_bytes'] / 2**20:>14.1f}")
    print(f"{'backup (Blob, gzip)':24}{figures['backup']:>10.1f}{figures['backup_bytes'] / 2**20:>14.1f}")
    print(f"{'pg_restore':24}{figures['pg_restore']:>10.1f}")
    print(f"{'restore (checked)':24}{figures['restore']:>10.1f}")
    verdict = lambda ratio: "met" if ratio <= TARGET_RATIO else "NOT met"  # noqa: E731
    print(f"\nbackup ÷ pg_dump -Fc:  {backup_ratio:.2f}  (target ≤ {TARGET_RATIO})  {verdict(backup_ratio)}")
    print(f"restore ÷ pg_restore:  {restore_ratio:.2f}  (target ≤ {TARGET_RATIO})  {verdict(restore_ratio)}")
    return 0  # a measurement, not a test (bench/README.md): a missed target is printed, not failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=600_000, help="orders to seed (default 600,000: over 1 GB)")
    parser.add_argument("--reuse", action="store_true", help=f"use the existing {DATABASE} as it is")
    args = parser.parse_args(argv)
    provision()
    server_url = os.environ["DATABASE_URL"]
    url = with_database(server_url, DATABASE) if args.reuse else seed(server_url, args.orders)
    size = database_bytes(url)
    say(f"{DATABASE}: {size / 2**30:.2f} GiB")
    with tempfile.TemporaryDirectory() as scratch:
        figures = measure(url, server_url, Path(scratch))
    return report(size, figures)


if __name__ == "__main__":
    run_cli(main, "the bench databases and container are dropped")
