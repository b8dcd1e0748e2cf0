"""At catalog scale, search and listing statements read products, variants and offers through
indexes (a benchmark check, not part of `make test`: pytest's testpaths is tests/).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/souq_bench_catalog \\
        .venv/bin/python -m pytest bench/test_plans_at_scale.py

The database must hold a seeded catalog (`python -m bench.catalog` or `scripts.seed_catalog
--products 200000`): on a small one the planner rightly prefers sequential scans, so the check
refuses to run below BENCH_MIN_PRODUCTS (default 100,000).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from bench import plans

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
MIN_PRODUCTS = int(os.environ.get("BENCH_MIN_PRODUCTS", "100000"))

pytestmark = pytest.mark.skipif(not DATABASE_URL, reason="BENCH_DATABASE_URL is not set")


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    with psycopg.connect(DATABASE_URL) as connection:
        row = connection.execute("SELECT count(*) FROM products").fetchone()
        products = row[0] if row else 0
        if products < MIN_PRODUCTS:
            pytest.fail(
                f"{products:,} products in BENCH_DATABASE_URL; the plans mean something from "
                f"{MIN_PRODUCTS:,} (seed with python -m bench.catalog)",
                pytrace=False,
            )
        yield connection


@pytest.mark.parametrize("name, params", list(plans.plan_cases().items()), ids=list(plans.plan_cases()))
def test_statement_reads_big_tables_through_indexes(conn, name, params):
    plan = plans.explain(conn, params)
    assert plans.seq_scans(plan) == [], f"{name}:\n{plans.render(plan)}"
