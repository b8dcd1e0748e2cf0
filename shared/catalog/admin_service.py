"""Catalog management (admins) and seller offers: rules, transactions and cache invalidation.

Every write commits first and invalidates the cache after, so a read that follows a successful
write never sees the old value (shared.cache.store refuses to store a value loaded before the
invalidation). Constraint violations become 409/422 problems naming the field.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from shared.catalog import admin_repo, service
from shared.catalog.admin_models import ImageFields, OfferPage, OfferPut, OfferQuery, OfferRow, changes_of
from shared.catalog.models import ImageRow
from shared.data import db
from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.errors import Conflict, FieldError, NotFound, PreconditionRequired, ValidationFailed
from shared.platform.pagination import cut_page, decode_cursor, fetch_size

OFFER_ORDER = "variant_id"  # a seller's offers are listed by variant id
IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
KIND_LABEL = {"categories": "category", "brands": "brand", "products": "product", "variants": "variant"}


def required_version(body_version: int | None, if_match: str | None) -> int:
    """The version the client read: the body's `version` or an `If-Match: "3"` header."""
    if body_version is not None:
        return body_version
    match = IF_MATCH.match(if_match or "")
    if match is None:
        raise PreconditionRequired("send the version you last read as If-Match or as the body's version field")
    return int(match.group(1))


@asynccontextmanager
async def integrity_errors(in_path: frozenset[str] = frozenset()) -> AsyncIterator[None]:
    """Constraint violations → problems that name the offending field. A missing reference
    named by the URL (`in_path`, e.g. the product of `/catalog/products/{id}/variants`) is a 404,
    one named in the body a 422."""
    from psycopg import errors

    try:
        yield
    except errors.ForeignKeyViolation as error:
        column = _column_of(error, "_fkey")
        if column in in_path:
            kind = column.removesuffix("_id")
            raise NotFound(f"no such {kind}", code=f"{kind}_not_found") from None
        raise ValidationFailed(
            f"{column} does not refer to an existing record",
            code="unknown_reference",
            errors=[FieldError(path=column, message="no such record", code="not_found")],
        ) from None
    except errors.UniqueViolation as error:
        column = _column_of(error, "_key")
        raise Conflict(
            f"{column} is already used by another record",
            code="already_exists",
            errors=[FieldError(path=column, message="already used", code="taken")],
        ) from None
    except errors.CheckViolation as error:
        raise _check_problem(error.diag.constraint_name or "") from None


def _column_of(error: Any, suffix: str) -> str:
    name, table = error.diag.constraint_name or "", error.diag.table_name or ""
    return name.removeprefix(f"{table}_").removesuffix(suffix) or "record"


def _check_problem(constraint: str) -> Exception:
    if constraint == "categories_no_cycle":
        return ValidationFailed(
            "a category cannot be moved under itself or one of its descendants",
            code="category_cycle",
            errors=[FieldError("parent_id", "would create a cycle", "cycle")],
        )
    if constraint == "offers_reserved_within_on_hand":
        return Conflict(
            "on_hand cannot go below the units reserved by unpaid orders",
            code="below_reserved",
            errors=[FieldError("on_hand", "below reserved units", "below_reserved")],
        )
    return ValidationFailed(f"the record breaks the rule {constraint}", code="constraint_violated")


async def create(kind: str, fields: dict[str, Any], *, in_path: frozenset[str] = frozenset()) -> Any:
    async with integrity_errors(in_path), db.transaction() as conn:
        row = await admin_repo.insert_row(conn, kind, fields)
    await _invalidate(kind, row)
    return row


async def update(kind: str, row_id: UUID, version: int, changes: dict[str, Any]) -> Any:
    async with integrity_errors(), db.transaction() as conn:
        row = await admin_repo.update_row(conn, kind, row_id, version, changes)
        if row is None:
            current = await admin_repo.current_version(conn, kind, row_id)
            if current is None:
                raise NotFound(f"no {KIND_LABEL[kind]} {row_id}", code=f"{KIND_LABEL[kind]}_not_found")
            raise Conflict(
                f"the {KIND_LABEL[kind]} changed since version {version}; read it again",
                code="version_conflict",
                extra={"current_version": current},
            )
    await _invalidate(kind, row)
    return row


async def patch(kind: str, row_id: UUID, body: Any, if_match: str | None) -> Any:
    return await update(kind, row_id, required_version(body.version, if_match), changes_of(body))


async def deactivate(kind: str, row_id: UUID, if_match: str | None) -> Any:
    """Soft delete: the row stays (orders refer to it) but leaves every public read."""
    return await update(kind, row_id, required_version(None, if_match), {"is_active": False})


async def _invalidate(kind: str, row: Any) -> None:
    if kind == "categories":
        await service.invalidate_structure(service.TAG_CATEGORIES)
    elif kind == "brands":
        await service.invalidate_structure(service.TAG_BRANDS)
    elif kind == "products":
        await service.invalidate_product(row.id)
    elif kind == "variants":
        await service.invalidate_product(row.product_id)


async def create_variant(product_id: UUID, fields: dict[str, Any]) -> Any:
    return await create("variants", fields | {"product_id": product_id}, in_path=frozenset({"product_id"}))


async def add_image(product_id: UUID, fields: ImageFields) -> ImageRow:
    async with integrity_errors(frozenset({"product_id"})), db.transaction() as conn:
        image = await admin_repo.insert_image(conn, product_id, fields.model_dump())
    await service.invalidate_product(product_id)
    return image


async def remove_image(product_id: UUID, image_id: UUID) -> None:
    async with db.transaction() as conn:
        if not await admin_repo.delete_image(conn, product_id, image_id):
            raise NotFound(f"no image {image_id} on product {product_id}", code="image_not_found")
    await service.invalidate_product(product_id)


# --- seller offers -----------------------------------------------------------------------


def own_seller(principal: Principal, seller_id: UUID) -> None:
    """A seller sees only its own offers: another seller's id answers 404, like a missing one."""
    if principal.has_any_role(ADMIN_ROLES):
        return
    if principal.seller_id != str(seller_id):
        raise NotFound(f"no seller {seller_id}", code="seller_not_found")


async def put_offer(principal: Principal, seller_id: UUID, variant_id: UUID, body: OfferPut) -> OfferRow:
    own_seller(principal, seller_id)
    async with integrity_errors(frozenset({"seller_id", "variant_id"})), db.transaction() as conn:
        offer = await admin_repo.upsert_offer(conn, seller_id, variant_id, body.model_dump())
    await service.invalidate_product(offer.product_id)
    return offer


async def list_offers(principal: Principal, seller_id: UUID, query: OfferQuery) -> OfferPage:
    own_seller(principal, seller_id)
    after = decode_cursor(query.cursor, OFFER_ORDER)
    async with db.connection(read_only=True) as conn:
        if not await admin_repo.seller_exists(conn, seller_id):
            raise NotFound(f"no seller {seller_id}", code="seller_not_found")
        rows = await admin_repo.list_seller_offers(
            conn,
            seller_id,
            low_stock_only=bool(query.low_stock),
            after=UUID(after[0]) if after else None,
            limit=fetch_size(query.limit),
        )
    items, next_cursor = cut_page(rows, query.limit, order=OFFER_ORDER, key_of=lambda last: (str(last.variant_id),))
    return OfferPage(items=items, next_cursor=next_cursor)
