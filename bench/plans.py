"""EXPLAIN of the statements `GET /api/products` runs, at scale (bench.catalog prints them,
bench/test_plans_at_scale.py asserts them): the SQL comes from
`shared.catalog.repo_listing.listing_sql`, resolved the way the service does (category subtree
first; a search that finds nothing as typed is explained again relaxed, with the words
corrected), so what is checked is what the endpoint runs. A plan passes when it reads products,
variants and offers through indexes: no sequential scan of those tables."""

from __future__ import annotations

import json
from typing import Any

import psycopg

# The headline queries of the benchmark: the same words shoppers type, typos included.
SEARCH_EN = ("paracetamol", "vitamin d3", "ibuprofen syrup", "paracetmol")
SEARCH_AR = ("باراسيتامول", "بنادول", "فيتامين د", "بندول")
# Listing filters (values from the vocabulary of scripts.seed_catalog).
LISTINGS = {
    "category+in_stock+price_asc": {"category": "pain-relief", "in_stock": "true", "sort": "price_asc"},
    # a pricey category: cheapest-first has to pass every cheaper product of other categories
    "category(pricey)+in_stock+price_asc": {"category": "multivitamins", "in_stock": "true", "sort": "price_asc"},
    "brand+rx=exclude": {"brand": "panadol", "rx": "exclude"},
    "price range+newest": {"min_price": "10", "max_price": "50", "sort": "newest"},
    "attr.dosage_form": {"attr.dosage_form": "tablet"},
}
BIG_TABLES = frozenset({"products", "variants", "offers"})


def plan_cases() -> dict[str, dict[str, str]]:
    """name -> query-string parameters of GET /api/products (first page, no cursor)."""
    cases = {f"search en q={q}": {"q": q, "lang": "en"} for q in SEARCH_EN}
    cases |= {f"search ar q={q}": {"q": q, "lang": "ar"} for q in SEARCH_AR}
    cases |= {f"listing {name}": params for name, params in LISTINGS.items()}
    return cases


def explain(conn: psycopg.Connection, params: dict[str, str]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of what the endpoint runs for these parameters."""
    from dataclasses import replace

    from shared.catalog import repo_listing
    from shared.catalog.models import ProductQuery

    query = ProductQuery.model_validate(params)
    category_ids = None
    if query.category:
        found = conn.execute(repo_listing.SELECT_CATEGORY_SUBTREE, {"slug": query.category}).fetchall()
        category_ids = [row[0] for row in found]
    plan = repo_listing.Listing(query, category_ids)
    explained = _explain(conn, plan)
    if query.q and explained["Plan"].get("Actual Rows") == 0:
        terms = [row[0] for row in conn.execute(repo_listing.CORRECT_WORDS, {"q": query.q}).fetchall() if row[0]]
        if terms:
            explained = _explain(conn, replace(plan, mode="relaxed", relaxed_terms=terms))
    return explained


def _explain(conn: psycopg.Connection, plan: Any) -> dict[str, Any]:
    from shared.catalog import repo_listing

    statement, values = repo_listing.listing_sql(plan)
    row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, values).fetchone()
    assert row is not None  # EXPLAIN always answers one row
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return document[0]


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found, stack = [], [plan["Plan"]]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.get("Plans", ()))
    return found


def seq_scans(plan: dict[str, Any]) -> list[str]:
    """Sequential scans of products, variants or offers ('Seq Scan on products p')."""
    return [
        f"{n['Node Type']} on {n['Relation Name']} {n.get('Alias', '')}".strip()
        for n in nodes(plan)
        if "Seq Scan" in n["Node Type"] and n.get("Relation Name") in BIG_TABLES
    ]


def render(plan: dict[str, Any]) -> str:
    """The JSON plan as indented text, close to EXPLAIN's own text format."""
    lines: list[str] = []
    _render_node(plan["Plan"], 0, lines)
    lines.append(f"Planning Time: {plan.get('Planning Time', float('nan')):.3f} ms")
    lines.append(f"Execution Time: {plan.get('Execution Time', float('nan')):.3f} ms")
    return "\n".join(lines)


def _render_node(node: dict[str, Any], depth: int, lines: list[str]) -> None:
    label = node["Node Type"]
    if "Index Name" in node:
        label += f" using {node['Index Name']}"
    if "Relation Name" in node:
        label += f" on {node['Relation Name']} {node.get('Alias', '')}".rstrip()
    indent = "  " * depth + ("->  " if depth else "")
    lines.append(
        f"{indent}{label}  (cost={node['Startup Cost']:.2f}..{node['Total Cost']:.2f} rows={node['Plan Rows']})"
        f" (actual time={node.get('Actual Startup Time', 0):.3f}..{node.get('Actual Total Time', 0):.3f}"
        f" rows={node.get('Actual Rows', 0)} loops={node.get('Actual Loops', 0)})"
    )
    detail = "  " * depth + "      "
    for key in ("Index Cond", "Recheck Cond", "Hash Cond", "Join Filter", "Filter", "Sort Key"):
        if key in node:
            value = ", ".join(node[key]) if isinstance(node[key], list) else node[key]
            lines.append(f"{detail}{key}: {value}")
    if node.get("Rows Removed by Filter"):
        lines.append(f"{detail}Rows Removed by Filter: {node['Rows Removed by Filter']}")
    buffers = [
        f"{kind}={node[f'Shared {kind.title()} Blocks']}"
        for kind in ("hit", "read")
        if node.get(f"Shared {kind.title()} Blocks")
    ]
    if buffers:
        lines.append(f"{detail}Buffers: shared {' '.join(buffers)}")
    for child in node.get("Plans", ()):
        _render_node(child, depth + 1, lines)
