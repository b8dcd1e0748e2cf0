"""The database's own floor for the spread orders: pgbench (a C client, no HTTP, no Python)
sending the app's own placement statements for the same 3-line orders, then the four queries
of the reply: what PostgreSQL alone gives for them at the same number of clients.

The script is generated from the app's SQL constants, so it cannot drift from what the app
sends: claim the idempotency key, create the profile if absent, resolve the lines (with the pricing of
shared.orders.rules.quote done in SQL around it), write the whole order, reserve every offer,
COMMIT, then read the order back in one pipeline (shared.orders.repo_reads.load_order). It leaves out the
outbox relay, which the app batches after the response, and the `user.registered` event the
app records once per new shopper.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

from bench.orders_data import Offer
from shared.orders import repo_placement, repo_reads, repo_stock
from shared.users.repo import INSERT_USER_IF_ABSENT

FLOOR_USER = "bench-floor-"  # || pgbench's client id: one shopper per client, as in the HTTP load

# One row per order: the next three offers of the shuffled spread list, as the app's line
# document (jsonb_to_recordset input) and its offer -> units map (the reserve's input).
CREATE_FLOOR_ORDERS = """
DROP TABLE IF EXISTS bench_floor_orders;
CREATE TABLE bench_floor_orders (n int PRIMARY KEY, lines jsonb NOT NULL, wanted jsonb NOT NULL);
"""
INSERT_FLOOR_ORDER = "INSERT INTO bench_floor_orders (n, lines, wanted) VALUES (%s, %s, %s)"

PICK_ORDER = f"""
SELECT lines, wanted, '{FLOOR_USER}' || :client_id AS user_id, :key::text AS idempotency_key
FROM bench_floor_orders WHERE n = :n \\gset"""

# shared.orders.rules.quote in SQL: children numbered by first appearance, VAT per child on
# subtotal + fee rounded half-up to the halala (pickup: no fee), parent = sums of the children.
PRICE_LINES = """
WITH resolved AS ({resolve}),
sums AS (SELECT seller_id, min(line_no) AS first_line, sum(round(unit_price * quantity, 2)) AS subtotal
         FROM resolved GROUP BY seller_id),
children AS (SELECT seller_id, row_number() OVER (ORDER BY first_line) AS idx, subtotal,
                    round(subtotal * :vat, 2) AS tax, 0 AS fee FROM sums)
SELECT (SELECT jsonb_agg(to_jsonb(children)) FROM children) AS children,
       (SELECT jsonb_agg(jsonb_build_object(
            'line_no', line_no, 'seller_id', seller_id, 'offer_id', offer_id, 'variant_id', variant_id,
            'product_id', product_id, 'name_en', product_name_en, 'name_ar', product_name_ar, 'sku', sku,
            'rx', requires_prescription, 'unit_price', unit_price, 'quantity', quantity,
            'line_total', round(unit_price * quantity, 2))) FROM resolved) AS items,
       sum(subtotal) AS subtotal, sum(tax) AS tax, 0 AS delivery_fee, sum(subtotal + tax) AS total,
       now() + make_interval(mins => :window) AS expires_at
FROM children \\gset"""

# Every offer reserved, or the transaction fails loudly (division by zero) instead of leaving
# reservations without their units: the spread offers have stock to spare, so it never should.
RESERVE_ALL = """
WITH reserved AS ({reserve})
SELECT 1 / (count(*) = (SELECT count(*) FROM jsonb_object_keys(:wanted)))::int FROM reserved;"""

# Placeholders the floor's pickup orders fill with constants (no address, notes or prescriptions).
PICKUP_ORDER = {
    "delivery_method": "'pickup'",
    "delivery_address": "NULL",
    "customer_notes": "NULL",
    "prescription_ids": "'{}'::uuid[]",
    "email": "NULL",
    "full_name": "NULL",
    "id": ":user_id",
    "hash": "'bench-floor'",
    "expires_at": ":expires_at::timestamptz",
}


def as_pgbench(query: str, constants: dict[str, str] | None = None) -> str:
    """psycopg's %(name)s placeholders as pgbench :name variables (prepared as parameters)."""
    for name, literal in (constants or {}).items():
        query = query.replace(f"%({name})s", literal)
    return re.sub(r"%\((\w+)\)s", r":\1", query.strip())


def floor_script(currency: str) -> str:
    fill = PICKUP_ORDER | {"currency": f"'{currency}'"}
    reply = [
        as_pgbench(query, {"id": ":order_id"}) + ";"
        for query in (
            repo_reads.SELECT_ORDER,
            repo_reads.SELECT_CHILDREN,
            repo_reads.SELECT_ITEMS,
            repo_reads.SELECT_HISTORY,
        )
    ]
    return "\n".join(
        [
            "\\set n random(1, :orders)",
            "\\set key random(1, 9000000000000000000)",
            PICK_ORDER,
            "BEGIN;",
            as_pgbench(repo_placement.CLAIM_IDEMPOTENCY_KEY, fill) + ";",
            as_pgbench(INSERT_USER_IF_ABSENT, fill) + ";",
            PRICE_LINES.format(resolve=as_pgbench(repo_placement.RESOLVE_LINES)),
            as_pgbench(repo_placement.INSERT_ORDER, fill) + " \\gset order_",
            RESERVE_ALL.format(reserve=as_pgbench(repo_stock.RESERVE_OFFERS)),
            "COMMIT;",
            "\\startpipeline",
            *reply,
            "\\endpipeline",
            "",
        ]
    )


def write_floor_script(directory: Path, currency: str) -> Path:
    path = directory / "floor.pgbench"
    path.write_text(floor_script(currency))
    return path


def prepare_floor_orders(database_url: str, offers: list[Offer]) -> int:
    """The orders pgbench picks from (1..n): offers 3k, 3k+1, 3k+2 of the list, as the HTTP load walks it."""
    from psycopg.types.json import Jsonb

    groups = [offers[i : i + 3] for i in range(0, len(offers) - 2, 3)]
    rows = [
        (
            n,
            Jsonb([offer.line() | {"line_no": i + 1} for i, offer in enumerate(group)]),
            Jsonb({offer.id: 1 for offer in group}),
        )
        for n, group in enumerate(groups, start=1)
    ]
    with psycopg.connect(database_url) as conn:
        conn.execute(CREATE_FLOOR_ORDERS)
        with conn.cursor() as cur:
            cur.executemany(INSERT_FLOOR_ORDER, rows)
    return len(rows)
