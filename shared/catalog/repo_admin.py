"""Catalog writes (admins); each SQL constant sits next to the one function that runs it.

Updates are conditional on the version the client read (`WHERE id = … AND version = …`), so a
stale write changes nothing; `set_<column>` flags say which columns a patch touches, which keeps
one constant statement per table whatever subset a client sends. A write returns the row with
the columns repo.py reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.catalog.models import BrandRow, CategoryRow, ImageRow, ProductRow, VariantRow
from shared.catalog.repo import BRAND_COLUMNS, CATEGORY_COLUMNS, IMAGE_COLUMNS, PRODUCT_COLUMNS, VARIANT_COLUMNS
from shared.data import db

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# The columns a client may write, per table: the parameters each statement below takes.
CATEGORY_WRITABLE = (
    "parent_id", "name_en", "name_ar", "slug_en", "slug_ar", "description_en", "description_ar", "image_url",
    "sort_order", "is_active",
)  # fmt: skip
BRAND_WRITABLE = ("name_en", "name_ar", "slug", "logo_url", "is_active")
PRODUCT_WRITABLE = (
    "name_en", "name_ar", "description_en", "description_ar", "slug_en", "slug_ar", "meta_title_en",
    "meta_title_ar", "meta_description_en", "meta_description_ar", "category_id", "brand_id",
    "requires_prescription", "is_active", "attributes", "erp_product_id",
)  # fmt: skip
VARIANT_WRITABLE = ("product_id", "sku", "options", "barcode", "price", "sale_price", "is_active", "sort_order")
JSON_COLUMNS = frozenset({"attributes", "options"})


def _values(fields: dict[str, Any], writable: tuple[str, ...]) -> dict[str, Any]:
    """Every writable column's parameter (None when not given); JSON columns as jsonb."""
    from psycopg.types.json import Jsonb  # psycopg loads on first query, not at app import

    return {c: Jsonb(fields[c]) if c in JSON_COLUMNS and fields.get(c) is not None else fields.get(c) for c in writable}


def _patch(row_id: UUID, version: int, changes: dict[str, Any], writable: tuple[str, ...]) -> dict[str, Any]:
    """An update's parameters: the values, a `set_<column>` flag per column, the id and version."""
    flags = {f"set_{c}": c in changes for c in writable}
    return _values(changes, writable) | flags | {"id": row_id, "version": version}


async def _returned(conn: AsyncConnection, statement: str, params: dict[str, Any], model: type[Any]) -> Any:
    row = await db.fetch_one(conn, statement, params, model)
    assert row is not None  # INSERT … RETURNING always returns the row
    return row


INSERT_CATEGORY = f"""
INSERT INTO categories (parent_id, name_en, name_ar, slug_en, slug_ar, description_en, description_ar,
                        image_url, sort_order, is_active)
VALUES (%(parent_id)s, %(name_en)s, %(name_ar)s, %(slug_en)s, %(slug_ar)s, %(description_en)s,
        %(description_ar)s, %(image_url)s, %(sort_order)s, %(is_active)s)
RETURNING {CATEGORY_COLUMNS}
"""


async def insert_category(conn: AsyncConnection, fields: dict[str, Any]) -> CategoryRow:
    return await _returned(conn, INSERT_CATEGORY, _values(fields, CATEGORY_WRITABLE), CategoryRow)


UPDATE_CATEGORY = f"""
UPDATE categories SET
    parent_id = CASE WHEN %(set_parent_id)s THEN %(parent_id)s ELSE parent_id END,
    name_en = CASE WHEN %(set_name_en)s THEN %(name_en)s ELSE name_en END,
    name_ar = CASE WHEN %(set_name_ar)s THEN %(name_ar)s ELSE name_ar END,
    slug_en = CASE WHEN %(set_slug_en)s THEN %(slug_en)s ELSE slug_en END,
    slug_ar = CASE WHEN %(set_slug_ar)s THEN %(slug_ar)s ELSE slug_ar END,
    description_en = CASE WHEN %(set_description_en)s THEN %(description_en)s ELSE description_en END,
    description_ar = CASE WHEN %(set_description_ar)s THEN %(description_ar)s ELSE description_ar END,
    image_url = CASE WHEN %(set_image_url)s THEN %(image_url)s ELSE image_url END,
    sort_order = CASE WHEN %(set_sort_order)s THEN %(sort_order)s ELSE sort_order END,
    is_active = CASE WHEN %(set_is_active)s THEN %(is_active)s ELSE is_active END,
    version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s
RETURNING {CATEGORY_COLUMNS}
"""


async def update_category(
    conn: AsyncConnection, row_id: UUID, version: int, changes: dict[str, Any]
) -> CategoryRow | None:
    """The updated row, or None when no row has this id and version."""
    params = _patch(row_id, version, changes, CATEGORY_WRITABLE)
    return await db.fetch_one(conn, UPDATE_CATEGORY, params, CategoryRow)


INSERT_BRAND = f"""
INSERT INTO brands (name_en, name_ar, slug, logo_url, is_active)
VALUES (%(name_en)s, %(name_ar)s, %(slug)s, %(logo_url)s, %(is_active)s)
RETURNING {BRAND_COLUMNS}
"""


async def insert_brand(conn: AsyncConnection, fields: dict[str, Any]) -> BrandRow:
    return await _returned(conn, INSERT_BRAND, _values(fields, BRAND_WRITABLE), BrandRow)


UPDATE_BRAND = f"""
UPDATE brands SET
    name_en = CASE WHEN %(set_name_en)s THEN %(name_en)s ELSE name_en END,
    name_ar = CASE WHEN %(set_name_ar)s THEN %(name_ar)s ELSE name_ar END,
    slug = CASE WHEN %(set_slug)s THEN %(slug)s ELSE slug END,
    logo_url = CASE WHEN %(set_logo_url)s THEN %(logo_url)s ELSE logo_url END,
    is_active = CASE WHEN %(set_is_active)s THEN %(is_active)s ELSE is_active END,
    version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s
RETURNING {BRAND_COLUMNS}
"""


async def update_brand(conn: AsyncConnection, row_id: UUID, version: int, changes: dict[str, Any]) -> BrandRow | None:
    """The updated row, or None when no row has this id and version."""
    return await db.fetch_one(conn, UPDATE_BRAND, _patch(row_id, version, changes, BRAND_WRITABLE), BrandRow)


INSERT_PRODUCT = f"""
INSERT INTO products (name_en, name_ar, description_en, description_ar, slug_en, slug_ar, meta_title_en,
                      meta_title_ar, meta_description_en, meta_description_ar, category_id, brand_id,
                      requires_prescription, is_active, attributes, erp_product_id)
VALUES (%(name_en)s, %(name_ar)s, %(description_en)s, %(description_ar)s, %(slug_en)s, %(slug_ar)s,
        %(meta_title_en)s, %(meta_title_ar)s, %(meta_description_en)s, %(meta_description_ar)s,
        %(category_id)s, %(brand_id)s, %(requires_prescription)s, %(is_active)s, %(attributes)s,
        %(erp_product_id)s)
RETURNING {PRODUCT_COLUMNS}
"""


async def insert_product(conn: AsyncConnection, fields: dict[str, Any]) -> ProductRow:
    return await _returned(conn, INSERT_PRODUCT, _values(fields, PRODUCT_WRITABLE), ProductRow)


UPDATE_PRODUCT = f"""
UPDATE products SET
    name_en = CASE WHEN %(set_name_en)s THEN %(name_en)s ELSE name_en END,
    name_ar = CASE WHEN %(set_name_ar)s THEN %(name_ar)s ELSE name_ar END,
    description_en = CASE WHEN %(set_description_en)s THEN %(description_en)s ELSE description_en END,
    description_ar = CASE WHEN %(set_description_ar)s THEN %(description_ar)s ELSE description_ar END,
    slug_en = CASE WHEN %(set_slug_en)s THEN %(slug_en)s ELSE slug_en END,
    slug_ar = CASE WHEN %(set_slug_ar)s THEN %(slug_ar)s ELSE slug_ar END,
    meta_title_en = CASE WHEN %(set_meta_title_en)s THEN %(meta_title_en)s ELSE meta_title_en END,
    meta_title_ar = CASE WHEN %(set_meta_title_ar)s THEN %(meta_title_ar)s ELSE meta_title_ar END,
    meta_description_en = CASE WHEN %(set_meta_description_en)s THEN %(meta_description_en)s
                               ELSE meta_description_en END,
    meta_description_ar = CASE WHEN %(set_meta_description_ar)s THEN %(meta_description_ar)s
                               ELSE meta_description_ar END,
    category_id = CASE WHEN %(set_category_id)s THEN %(category_id)s ELSE category_id END,
    brand_id = CASE WHEN %(set_brand_id)s THEN %(brand_id)s ELSE brand_id END,
    requires_prescription = CASE WHEN %(set_requires_prescription)s THEN %(requires_prescription)s
                                 ELSE requires_prescription END,
    is_active = CASE WHEN %(set_is_active)s THEN %(is_active)s ELSE is_active END,
    attributes = CASE WHEN %(set_attributes)s THEN %(attributes)s ELSE attributes END,
    erp_product_id = CASE WHEN %(set_erp_product_id)s THEN %(erp_product_id)s ELSE erp_product_id END,
    version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s
RETURNING {PRODUCT_COLUMNS}
"""


async def update_product(
    conn: AsyncConnection, row_id: UUID, version: int, changes: dict[str, Any]
) -> ProductRow | None:
    """The updated row, or None when no row has this id and version."""
    return await db.fetch_one(conn, UPDATE_PRODUCT, _patch(row_id, version, changes, PRODUCT_WRITABLE), ProductRow)


INSERT_VARIANT = f"""
INSERT INTO variants (product_id, sku, options, barcode, price, sale_price, is_active, sort_order)
VALUES (%(product_id)s, %(sku)s, %(options)s, %(barcode)s, %(price)s, %(sale_price)s, %(is_active)s,
        %(sort_order)s)
RETURNING {VARIANT_COLUMNS}
"""


async def insert_variant(conn: AsyncConnection, fields: dict[str, Any]) -> VariantRow:
    return await _returned(conn, INSERT_VARIANT, _values(fields, VARIANT_WRITABLE), VariantRow)


UPDATE_VARIANT = f"""
UPDATE variants SET
    product_id = CASE WHEN %(set_product_id)s THEN %(product_id)s ELSE product_id END,
    sku = CASE WHEN %(set_sku)s THEN %(sku)s ELSE sku END,
    options = CASE WHEN %(set_options)s THEN %(options)s ELSE options END,
    barcode = CASE WHEN %(set_barcode)s THEN %(barcode)s ELSE barcode END,
    price = CASE WHEN %(set_price)s THEN %(price)s ELSE price END,
    sale_price = CASE WHEN %(set_sale_price)s THEN %(sale_price)s ELSE sale_price END,
    is_active = CASE WHEN %(set_is_active)s THEN %(is_active)s ELSE is_active END,
    sort_order = CASE WHEN %(set_sort_order)s THEN %(sort_order)s ELSE sort_order END,
    version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s
RETURNING {VARIANT_COLUMNS}
"""


async def update_variant(
    conn: AsyncConnection, row_id: UUID, version: int, changes: dict[str, Any]
) -> VariantRow | None:
    """The updated row, or None when no row has this id and version."""
    return await db.fetch_one(conn, UPDATE_VARIANT, _patch(row_id, version, changes, VARIANT_WRITABLE), VariantRow)


SELECT_VERSION = "SELECT version FROM {table} WHERE id = %(id)s"


async def current_version(conn: AsyncConnection, table: str, row_id: UUID) -> int | None:
    """The row's version now (after an update matched nothing); None when there is no row."""
    from psycopg import sql as pgsql

    statement = pgsql.SQL(SELECT_VERSION).format(table=pgsql.Identifier(table))
    return await db.fetch_value(conn, statement, {"id": row_id})


INSERT_IMAGE = f"""
INSERT INTO product_images (product_id, url, alt_en, alt_ar, sort_order)
VALUES (%(product_id)s, %(url)s, %(alt_en)s, %(alt_ar)s, %(sort_order)s)
RETURNING {IMAGE_COLUMNS}
"""


async def insert_image(conn: AsyncConnection, product_id: UUID, fields: dict[str, Any]) -> ImageRow:
    params = {"product_id": product_id} | {c: fields.get(c) for c in ("url", "alt_en", "alt_ar", "sort_order")}
    return await _returned(conn, INSERT_IMAGE, params, ImageRow)


DELETE_IMAGE = "DELETE FROM product_images WHERE id = %(id)s AND product_id = %(product_id)s"


async def delete_image(conn: AsyncConnection, product_id: UUID, image_id: UUID) -> bool:
    return await db.execute(conn, DELETE_IMAGE, {"id": image_id, "product_id": product_id}) == 1
