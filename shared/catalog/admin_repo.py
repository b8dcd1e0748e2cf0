"""Catalog writes and seller offers; each SQL constant sits next to the one function that runs it.

Updates are conditional on the version the client read (`WHERE id = … AND version = …`), so a
stale write changes nothing; `set_<column>` flags say which columns a patch touches, which keeps
one constant statement per table whatever subset a client sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.catalog.admin_models import OfferRow
from shared.catalog.models import BrandRow, CategoryRow, ImageRow, ProductRow, VariantRow
from shared.data import db

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from pydantic import BaseModel

SYSTEM_COLUMNS = {"id", "version", "created_at", "updated_at", "min_price"}
CATEGORY_WRITABLE = tuple(c for c in CategoryRow.model_fields if c not in SYSTEM_COLUMNS)
BRAND_WRITABLE = tuple(c for c in BrandRow.model_fields if c not in SYSTEM_COLUMNS)
PRODUCT_WRITABLE = tuple(c for c in ProductRow.model_fields if c not in SYSTEM_COLUMNS)
VARIANT_WRITABLE = tuple(c for c in VariantRow.model_fields if c not in SYSTEM_COLUMNS)
IMAGE_WRITABLE = ("product_id", "url", "alt_en", "alt_ar", "sort_order")
JSON_COLUMNS = {"attributes", "options"}


def _insert(table: str, writable: tuple[str, ...], returning: type[BaseModel]) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(writable)}) VALUES ({', '.join(f'%({c})s' for c in writable)}) "
        f"RETURNING {', '.join(returning.model_fields)}"
    )


def _update(table: str, writable: tuple[str, ...], returning: type[BaseModel]) -> str:
    assignments = ", ".join(f"{c} = CASE WHEN %(set_{c})s THEN %({c})s ELSE {c} END" for c in writable)
    return (
        f"UPDATE {table} SET {assignments}, version = version + 1, updated_at = now() "
        f"WHERE id = %(id)s AND version = %(version)s RETURNING {', '.join(returning.model_fields)}"
    )


def _values(fields: dict[str, Any], writable: tuple[str, ...]) -> dict[str, Any]:
    from psycopg.types.json import Jsonb  # psycopg loads on first query, not at app import

    return {c: Jsonb(fields[c]) if c in JSON_COLUMNS and fields.get(c) is not None else fields.get(c) for c in writable}


def _flags(changes: dict[str, Any], writable: tuple[str, ...]) -> dict[str, Any]:
    return _values(changes, writable) | {f"set_{c}": c in changes for c in writable}


INSERT_CATEGORY = _insert("categories", CATEGORY_WRITABLE, CategoryRow)
UPDATE_CATEGORY = _update("categories", CATEGORY_WRITABLE, CategoryRow)
INSERT_BRAND = _insert("brands", BRAND_WRITABLE, BrandRow)
UPDATE_BRAND = _update("brands", BRAND_WRITABLE, BrandRow)
INSERT_PRODUCT = _insert("products", PRODUCT_WRITABLE, ProductRow)
UPDATE_PRODUCT = _update("products", PRODUCT_WRITABLE, ProductRow)
INSERT_VARIANT = _insert("variants", VARIANT_WRITABLE, VariantRow)
UPDATE_VARIANT = _update("variants", VARIANT_WRITABLE, VariantRow)
INSERT_IMAGE = _insert("product_images", IMAGE_WRITABLE, ImageRow)
ENTITIES: dict[str, tuple[str, str, tuple[str, ...], type[BaseModel]]] = {
    # kind: (insert, update, writable columns, row model)
    "categories": (INSERT_CATEGORY, UPDATE_CATEGORY, CATEGORY_WRITABLE, CategoryRow),
    "brands": (INSERT_BRAND, UPDATE_BRAND, BRAND_WRITABLE, BrandRow),
    "products": (INSERT_PRODUCT, UPDATE_PRODUCT, PRODUCT_WRITABLE, ProductRow),
    "variants": (INSERT_VARIANT, UPDATE_VARIANT, VARIANT_WRITABLE, VariantRow),
}


async def insert_row(conn: AsyncConnection, kind: str, fields: dict[str, Any]) -> Any:
    insert, _, writable, model = ENTITIES[kind]
    row = await db.fetch_one(conn, insert, _values(fields, writable), model)
    assert row is not None
    return row


async def update_row(
    conn: AsyncConnection, kind: str, row_id: UUID, version: int, changes: dict[str, Any]
) -> Any | None:
    """The updated row, or None when no row has this id and version."""
    _, update, writable, model = ENTITIES[kind]
    params = _flags(changes, writable) | {"id": row_id, "version": version}
    return await db.fetch_one(conn, update, params, model)


SELECT_VERSION = "SELECT version FROM {table} WHERE id = %(id)s"


async def current_version(conn: AsyncConnection, kind: str, row_id: UUID) -> int | None:
    from psycopg import sql as pgsql

    statement = pgsql.SQL(SELECT_VERSION).format(table=pgsql.Identifier(kind))
    return await db.fetch_value(conn, statement, {"id": row_id})


async def insert_image(conn: AsyncConnection, product_id: UUID, fields: dict[str, Any]) -> ImageRow:
    row = await db.fetch_one(conn, INSERT_IMAGE, _values(fields | {"product_id": product_id}, IMAGE_WRITABLE), ImageRow)
    assert row is not None
    return row


DELETE_IMAGE = "DELETE FROM product_images WHERE id = %(id)s AND product_id = %(product_id)s"


async def delete_image(conn: AsyncConnection, product_id: UUID, image_id: UUID) -> bool:
    return await db.execute(conn, DELETE_IMAGE, {"id": image_id, "product_id": product_id}) == 1


# --- seller offers -----------------------------------------------------------------------

OFFER_COLUMNS = """
    o.id, o.variant_id, o.seller_id, v.sku, v.product_id, p.name_en AS product_name_en,
    p.name_ar AS product_name_ar, o.price, coalesce(o.price, v.sale_price, v.price) AS effective_price,
    o.on_hand, o.reserved, o.on_hand - o.reserved AS available, o.low_stock_threshold,
    o.on_hand - o.reserved <= o.low_stock_threshold AS low_stock, o.is_active, o.version, o.updated_at"""

# Insert or update in one statement. The CHECK (reserved <= on_hand) refuses an on_hand below
# what unpaid orders hold; the caller turns that into 409. The version moves on every change.
UPSERT_OFFER = f"""
WITH saved AS (
    INSERT INTO offers AS o (variant_id, seller_id, price, on_hand, low_stock_threshold, is_active)
    VALUES (%(variant_id)s, %(seller_id)s, %(price)s, %(on_hand)s, %(low_stock_threshold)s, %(is_active)s)
    ON CONFLICT (variant_id, seller_id) DO UPDATE SET
        price = EXCLUDED.price, on_hand = EXCLUDED.on_hand, low_stock_threshold = EXCLUDED.low_stock_threshold,
        is_active = EXCLUDED.is_active, version = o.version + 1, updated_at = now()
    RETURNING *
)
SELECT {OFFER_COLUMNS}
FROM saved o JOIN variants v ON v.id = o.variant_id JOIN products p ON p.id = v.product_id
"""


async def upsert_offer(conn: AsyncConnection, seller_id: UUID, variant_id: UUID, fields: dict[str, Any]) -> OfferRow:
    params = fields | {"seller_id": seller_id, "variant_id": variant_id}
    row = await db.fetch_one(conn, UPSERT_OFFER, params, OfferRow)
    assert row is not None
    return row


LIST_SELLER_OFFERS = f"""
SELECT {OFFER_COLUMNS}
FROM offers o JOIN variants v ON v.id = o.variant_id JOIN products p ON p.id = v.product_id
WHERE o.seller_id = %(seller_id)s AND o.variant_id > %(after)s{{low_stock}}
ORDER BY o.variant_id
LIMIT %(limit)s
"""
# The low-stock view repeats offers_low_stock's predicate so that partial index serves it.
LIST_SELLER_OFFERS_ALL = LIST_SELLER_OFFERS.format(low_stock="")
LIST_SELLER_OFFERS_LOW = LIST_SELLER_OFFERS.format(low_stock=" AND o.on_hand - o.reserved <= o.low_stock_threshold")


async def list_seller_offers(
    conn: AsyncConnection, seller_id: UUID, *, low_stock_only: bool, after: UUID | None, limit: int
) -> list[OfferRow]:
    params = {"seller_id": seller_id, "after": after or UUID(int=0), "limit": limit}
    statement = LIST_SELLER_OFFERS_LOW if low_stock_only else LIST_SELLER_OFFERS_ALL
    return await db.fetch_all(conn, statement, params, OfferRow)


SELECT_SELLER_EXISTS = "SELECT 1 FROM sellers WHERE id = %(id)s"


async def seller_exists(conn: AsyncConnection, seller_id: UUID) -> bool:
    return await db.fetch_value(conn, SELECT_SELLER_EXISTS, {"id": seller_id}) is not None
