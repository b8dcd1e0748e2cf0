"""Catalog management (admins): categories, brands, products and their variants and images.

Every write commits first and invalidates the cache after, so a read that follows a successful
write never sees the old value (shared.cache.store refuses to store a value loaded before the
invalidation). Constraint violations become 409/422 problems naming the field (rules.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.cache import store as cache
from shared.catalog import repo_admin, rules
from shared.catalog.errors import CatalogError
from shared.catalog.models import ImageRow
from shared.catalog.models_admin import ImageFields
from shared.data import db
from shared.platform.errors import NotFound

if TYPE_CHECKING:
    from psycopg import AsyncConnection

Insert = Callable[["AsyncConnection", dict[str, Any]], Awaitable[Any]]
Update = Callable[["AsyncConnection", UUID, int, dict[str, Any]], Awaitable[Any]]
INSERTS: dict[rules.Kind, Insert] = {
    "categories": repo_admin.insert_category,
    "brands": repo_admin.insert_brand,
    "products": repo_admin.insert_product,
    "variants": repo_admin.insert_variant,
}
UPDATES: dict[rules.Kind, Update] = {
    "categories": repo_admin.update_category,
    "brands": repo_admin.update_brand,
    "products": repo_admin.update_product,
    "variants": repo_admin.update_variant,
}


@asynccontextmanager
async def integrity_errors(in_path: frozenset[str] = frozenset()) -> AsyncIterator[None]:
    """Constraint violations → problems that name the offending field. A missing reference
    named by the URL (`in_path`, e.g. the product of `/catalog/products/{id}/variants`) is a 404,
    one named in the body a 422."""
    from psycopg import errors

    try:
        yield
    except errors.ForeignKeyViolation as error:
        column = rules.constraint_column(error.diag.constraint_name, error.diag.table_name, "_fkey")
        raise rules.missing_reference(column, in_path) from None
    except errors.UniqueViolation as error:
        column = rules.constraint_column(error.diag.constraint_name, error.diag.table_name, "_key")
        raise rules.duplicate_value(column) from None
    except errors.CheckViolation as error:
        raise rules.broken_check(error.diag.constraint_name or "") from None


async def create(kind: rules.Kind, fields: dict[str, Any], *, in_path: frozenset[str] = frozenset()) -> Any:
    async with integrity_errors(in_path), db.transaction() as conn:
        row = await INSERTS[kind](conn, fields)
    await cache.invalidate(*rules.write_tags(kind, row))
    return row


async def update(kind: rules.Kind, row_id: UUID, version: int, changes: dict[str, Any]) -> Any:
    async with integrity_errors(), db.transaction() as conn:
        row = await UPDATES[kind](conn, row_id, version, changes)
        if row is None:
            current = await repo_admin.current_version(conn, kind, row_id)
            raise rules.failed_update(kind, row_id, version, current)
    await cache.invalidate(*rules.write_tags(kind, row))
    return row


async def patch(kind: rules.Kind, row_id: UUID, body: Any, if_match: str | None) -> Any:
    """A partial update, based on the version in the body or in If-Match."""
    return await update(kind, row_id, rules.required_version(body.version, if_match), rules.changes_of(body))


async def deactivate(kind: rules.Kind, row_id: UUID, if_match: str | None) -> Any:
    """Soft delete: the row stays (orders refer to it) but leaves every public read."""
    return await update(kind, row_id, rules.required_version(None, if_match), {"is_active": False})


async def create_variant(product_id: UUID, fields: dict[str, Any]) -> Any:
    return await create("variants", fields | {"product_id": product_id}, in_path=frozenset({"product_id"}))


async def add_image(product_id: UUID, fields: ImageFields) -> ImageRow:
    async with integrity_errors(frozenset({"product_id"})), db.transaction() as conn:
        image = await repo_admin.insert_image(conn, product_id, fields.model_dump())
    await cache.invalidate(*rules.product_write_tags(product_id))
    return image


async def remove_image(product_id: UUID, image_id: UUID) -> None:
    async with db.transaction() as conn:
        if not await repo_admin.delete_image(conn, product_id, image_id):
            raise NotFound(f"no image {image_id} on product {product_id}", code=CatalogError.IMAGE_NOT_FOUND)
    await cache.invalidate(*rules.product_write_tags(product_id))
