"""The bulk load of a generated catalog (scripts.seed_catalog), on a synchronous connection;
never called by the app. Each SQL constant sits next to the one function that runs it; table,
trigger and index names are composed with psycopg.sql (names from pg_catalog come quoted by
format('%I.%I'))."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

CATALOG_TABLES = ("offers", "product_images", "variants", "products", "sellers", "brands", "categories")
BULK_TABLES = ("products", "variants", "product_images", "offers")
MIN_PRICE_TRIGGERS = (("variants", "variants_min_price"), ("offers", "offers_min_price"))

LOCK_CATALOG = (
    "LOCK TABLE categories, brands, products, variants, product_images, sellers, offers IN ACCESS EXCLUSIVE MODE"
)


def lock_catalog(conn: psycopg.Connection) -> None:
    """Readers wait until the load commits: nobody sees a half-loaded catalog."""
    conn.execute(LOCK_CATALOG)


CATALOG_EXISTS = """
SELECT EXISTS (SELECT 1 FROM products) OR EXISTS (SELECT 1 FROM categories)
    OR EXISTS (SELECT 1 FROM brands) OR EXISTS (SELECT 1 FROM sellers)
"""


def catalog_exists(conn: psycopg.Connection) -> bool:
    row = conn.execute(CATALOG_EXISTS).fetchone()
    return bool(row and row[0])


# Tables outside the catalog with a foreign key into the given tables.
REFERENCING_TABLES = """
SELECT DISTINCT format('%%I.%%I', n.nspname, t.relname)
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE k.contype = 'f' AND k.confrelid = ANY (%s::regclass[]) AND NOT k.conrelid = ANY (%s::regclass[])
"""


def referencing_tables(conn: psycopg.Connection, tables: list[str], known: list[str]) -> list[str]:
    """Quoted names of the tables, not in `known`, with a foreign key into `tables`."""
    return [row[0] for row in conn.execute(REFERENCING_TABLES, (tables, known))]


LOCK_TABLE = "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE"
TABLE_HAS_ROWS = "SELECT EXISTS (SELECT 1 FROM {})"


def lock_has_rows(conn: psycopg.Connection, quoted_name: str) -> bool:
    """Lock a table (quoted name, from referencing_tables) and say whether it has rows."""
    table = sql.SQL(quoted_name)
    conn.execute(sql.SQL(LOCK_TABLE).format(table))
    row = conn.execute(sql.SQL(TABLE_HAS_ROWS).format(table)).fetchone()
    return bool(row and row[0])


TRUNCATE = "TRUNCATE {}"


def truncate_catalog(conn: psycopg.Connection, dependents: list[str]) -> None:
    """Empty the catalog tables and the (empty, locked) quoted tables that refer to them."""
    tables = [sql.Identifier(table) for table in CATALOG_TABLES] + [sql.SQL(name) for name in dependents]
    conn.execute(sql.SQL(TRUNCATE).format(sql.SQL(", ").join(tables)))


SET_TRIGGER = "ALTER TABLE {} {} TRIGGER {}"


def set_min_price_triggers(conn: psycopg.Connection, *, enabled: bool) -> None:
    """Off during the load (refresh_all_min_prices does their work once at the end)."""
    action = sql.SQL("ENABLE" if enabled else "DISABLE")
    for table, trigger in MIN_PRICE_TRIGGERS:
        conn.execute(sql.SQL(SET_TRIGGER).format(sql.Identifier(table), action, sql.Identifier(trigger)))


# Indexes not backing a constraint (primary keys and UNIQUE stay in place during the load).
SECONDARY_INDEXES = """
SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indrelid = ANY (%s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 1
"""


def secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(quoted name, CREATE INDEX statement) of the bulk tables' secondary indexes."""
    return [(row[0], row[1]) for row in conn.execute(SECONDARY_INDEXES, (list(BULK_TABLES),))]


DROP_INDEX = "DROP INDEX {}"


def drop_indexes(conn: psycopg.Connection, indexes: list[tuple[str, str]]) -> None:
    for name, _ in indexes:
        conn.execute(sql.SQL(DROP_INDEX).format(sql.SQL(name)))  # name comes quoted from format('%I.%I')


MAINTENANCE_MEMORY = "SET LOCAL maintenance_work_mem = '256MB'"  # GIN builds sort in memory


def create_indexes(conn: psycopg.Connection, indexes: list[tuple[str, str]]) -> None:
    """Build the dropped indexes again from their definitions (pg_get_indexdef)."""
    conn.execute(MAINTENANCE_MEMORY)
    for _, definition in indexes:
        conn.execute(definition)


# The definition of products_refresh_min_price (migrations/0002), for every product at once.
REFRESH_ALL_MIN_PRICES = """
UPDATE products p SET min_price = m.min_price
FROM (SELECT v.product_id, min(coalesce(o.price, v.sale_price, v.price)) AS min_price
      FROM variants v LEFT JOIN offers o ON o.variant_id = v.id AND o.is_active
      WHERE v.is_active GROUP BY v.product_id) m
WHERE p.id = m.product_id
"""


def refresh_all_min_prices(conn: psycopg.Connection) -> None:
    conn.execute(REFRESH_ALL_MIN_PRICES)


VACUUM_ANALYZE = "VACUUM (ANALYZE) {}"


def vacuum_analyze(conn: psycopg.Connection) -> None:
    """Fresh statistics for the planner; the connection must be in autocommit."""
    for table in CATALOG_TABLES:
        conn.execute(sql.SQL(VACUUM_ANALYZE).format(sql.Identifier(table)))


# --- COPY: rows are tuples in each statement's column order (scripts/catalog_rows.py) --------


def _copy(cursor: psycopg.Cursor, statement: str, rows: Iterable[tuple]) -> int:
    count = 0
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


COPY_CATEGORIES = (
    "COPY categories (id, parent_id, name_en, slug_en, name_ar, slug_ar, sort_order, created_at, updated_at) FROM STDIN"
)


def copy_categories(cursor: psycopg.Cursor, rows: Iterable[tuple]) -> int:
    return _copy(cursor, COPY_CATEGORIES, rows)


COPY_BRANDS = "COPY brands (id, name_en, name_ar, slug, logo_url, created_at, updated_at) FROM STDIN"


def copy_brands(cursor: psycopg.Cursor, rows: Iterable[tuple]) -> int:
    return _copy(cursor, COPY_BRANDS, rows)


COPY_SELLERS = "COPY sellers (id, name_en, name_ar, slug, created_at, updated_at) FROM STDIN"


def copy_sellers(cursor: psycopg.Cursor, rows: Iterable[tuple]) -> int:
    return _copy(cursor, COPY_SELLERS, rows)


COPY_PRODUCTS = (
    "COPY products (id, name_en, name_ar, description_en, description_ar, slug_en, slug_ar, category_id, "
    "brand_id, requires_prescription, is_active, attributes, erp_product_id, created_at, updated_at) FROM STDIN"
)


def copy_products(cursor: psycopg.Cursor, rows: Iterable[tuple]) -> int:
    return _copy(cursor, COPY_PRODUCTS, rows)


COPY_VARIANTS = (
    "COPY variants (id, product_id, sku, options, barcode, price, sale_price, sort_order, created_at, "
    "updated_at) FROM STDIN"
)


def copy_variants(cursor: psycopg.Cursor, rows: Iterable[tuple]) -> int:
    return _copy(cursor, COPY_VARIANTS, rows)


COPY_IMAGES = "COPY product_images (id, product_id, url, alt_en, alt_ar, sort_order, created_at) FROM STDIN"


def copy_images(cursor: psycopg.Cursor, rows: Iterable[tuple]) -> int:
    return _copy(cursor, COPY_IMAGES, rows)


COPY_OFFERS = (
    "COPY offers (id, variant_id, seller_id, price, on_hand, reserved, low_stock_threshold, is_active, "
    "created_at, updated_at) FROM STDIN"
)


def copy_offers(cursor: psycopg.Cursor, rows: Iterable[tuple]) -> int:
    return _copy(cursor, COPY_OFFERS, rows)
