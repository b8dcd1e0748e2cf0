"""The catalog's decisions, pure (no I/O): localization, slugs and prices, listing queries and
their cursors, cache keys and the tags a write invalidates, the version a write is based on,
what a failed write or a broken constraint answers, seller scoping, and what the timer warms.

Models and services call these; tests/unit/test_catalog_rules.py checks them without a database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared.catalog.errors import CatalogError
from shared.platform.auth import ADMIN_ROLES
from shared.platform.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PlatformError,
    PreconditionRequired,
    ValidationFailed,
)
from shared.platform.pagination import decode_cursor

if TYPE_CHECKING:
    from pydantic import BaseModel

    from shared.catalog.models import CategoryRow, Lang, ProductQuery, ProductSummaryRow, Sort
    from shared.platform.auth import Principal

LANGS: tuple[Lang, ...] = ("en", "ar")
SearchMode = Literal["strict", "relaxed"]
Kind = Literal["categories", "brands", "products", "variants"]


def language(asked: Lang | None, accept_language: str | None) -> Lang:
    """`?lang=` when given, else the first English or Arabic tag of Accept-Language (in the
    header's order; q-values are not weighed), else English."""
    if asked:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag == "ar":
            return "ar"
        if tag == "en":
            return "en"
    return "en"


def pick(lang: Lang, en: Any, ar: Any) -> Any:
    """The value in the asked language, the other one when it is missing."""
    return (ar or en) if lang == "ar" else (en or ar)


# --- slugs, prices, stock ------------------------------------------------------------------

SLUG_EN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# Arabic slugs: Arabic letters, Latin lower-case letters and digits, joined by hyphens.
SLUG_AR = r"^[\u0621-\u064Aa-z0-9\u0660-\u0669]+(-[\u0621-\u064Aa-z0-9\u0660-\u0669]+)*$"


def sale_price_ok(price: Decimal, sale_price: Decimal | None) -> bool:
    """A sale price, when there is one, is lower than the price."""
    return sale_price is None or sale_price < price


def effective_price(price: Decimal, sale_price: Decimal | None) -> Decimal:
    return sale_price or price


def offer_stock(available: int, low_stock_threshold: int) -> tuple[int, bool, bool]:
    """(available, in_stock, low_stock) as shoppers see them: never a negative count."""
    return max(available, 0), available > 0, 0 < available <= low_stock_threshold


# --- listing queries and their cursors ----------------------------------------------------

ATTRIBUTE_PARAM = re.compile(r"^attr\.([a-z][a-z0-9_]{0,39})$")
MAX_ATTRIBUTE_FILTERS = 5
ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def collect_attribute_filters(params: Mapping[str, Any]) -> dict[str, Any]:
    """`attr.<key>=<value>` parameters gathered into `attributes`; ValueError for a bad one."""
    plain = {k: v for k, v in params.items() if not k.startswith("attr.")}
    attributes = {}
    for name, value in params.items():
        if not name.startswith("attr."):
            continue
        match = ATTRIBUTE_PARAM.match(name)
        if match is None or not isinstance(value, str) or not 0 < len(value) <= 100:
            raise ValueError(f"{name}: attribute filters are attr.<lowercase_key>=<1-100 chars>")
        attributes[match.group(1)] = value
    if len(attributes) > MAX_ATTRIBUTE_FILTERS:
        raise ValueError(f"at most {MAX_ATTRIBUTE_FILTERS} attribute filters")
    return plain | {"attributes": attributes}


def effective_sort(sort: Sort | None, q: str | None) -> Sort:
    """Relevance when searching, newest when browsing, unless a sort was asked for."""
    return sort or ("relevance" if q else "newest")


def is_arabic(q: str | None) -> bool:
    """Arabic letters search the Arabic document (which also holds the Latin ingredient names)."""
    return bool(q and ARABIC_LETTER.search(q))


def cursor_order(query: ProductQuery, mode: SearchMode) -> str:
    """What a listing cursor is tagged with: the sort, and for a search whether it ran relaxed."""
    return f"{query.effective_sort}:{mode}" if query.q else query.effective_sort


def listing_start(query: ProductQuery) -> tuple[tuple[str, UUID] | None, SearchMode]:
    """Where the page starts, and whether the search ran relaxed (the cursor remembers it)."""
    if not query.cursor or not query.q:
        return _sort_key(query.cursor, query.effective_sort), "strict"
    for mode in ("strict", "relaxed"):
        try:
            return _sort_key(query.cursor, cursor_order(query, mode)), mode
        except ValidationFailed:
            continue
    return _sort_key(query.cursor, cursor_order(query, "strict")), "strict"  # raises the 422


def _sort_key(cursor: str | None, order: str) -> tuple[str, UUID] | None:
    key = decode_cursor(cursor, order)
    return (key[0], UUID(key[1])) if key else None


def sort_value(row: ProductSummaryRow, sort: Sort) -> str:
    """The row's sort key as the cursor keeps it (exact: repr of a float round-trips)."""
    if sort == "newest":
        return row.created_at.isoformat()
    return repr(row.rank) if sort == "relevance" else str(row.min_price)


def listing_cache_parts(query: ProductQuery, lang: Lang) -> tuple[str, ...]:
    """A first page's cache key: the filters in canonical form, hashed."""
    canonical = query.model_dump_json(exclude={"cursor", "lang"})
    return "listing", lang, hashlib.sha256(canonical.encode()).hexdigest()[:32]


# --- categories ---------------------------------------------------------------------------


def children_by_parent(rows: Iterable[CategoryRow]) -> dict[UUID | None, list[CategoryRow]]:
    """Active categories under their parent's id (None: the roots), in the rows' order. A tree
    grown from the roots leaves out a child of an inactive parent, hidden with it."""
    children: dict[UUID | None, list[CategoryRow]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    return children


def category_path(rows: list[CategoryRow], slug: str) -> list[CategoryRow] | None:
    """Root-to-category path of the active category with this English or Arabic slug; None when
    there is none or one of its ancestors is inactive (it is hidden with them)."""
    found = next((row for row in rows if slug in (row.slug_en, row.slug_ar)), None)
    if found is None:
        return None
    active = {row.id: row for row in rows}
    path = [found]
    while path[0].parent_id is not None:
        parent = active.get(path[0].parent_id)
        if parent is None:
            return None
        path.insert(0, parent)
    return path


def root_slugs(rows: Iterable[CategoryRow]) -> list[str]:
    return [row.slug_en for row in rows if row.parent_id is None]


# --- cache tags ---------------------------------------------------------------------------

TAG_CATEGORIES, TAG_BRANDS, TAG_LISTINGS = "categories", "brands", "listings"
# Product pages show brand and category names: renaming either invalidates every cached page.
TAG_STRUCTURE = "catalog-structure"


def product_tag(product_id: UUID) -> str:
    return f"product:{product_id}"


def product_write_tags(product_id: UUID) -> tuple[str, ...]:
    """A product, variant, image or offer changed: its pages and every listing."""
    return product_tag(product_id), TAG_LISTINGS


def write_tags(kind: Kind, row: Any) -> tuple[str, ...]:
    """What a write of this kind invalidates: a category or brand write changes the tree or
    brand list, every listing and every product page; a product or variant write its product."""
    if kind == "categories":
        return TAG_CATEGORIES, TAG_LISTINGS, TAG_STRUCTURE
    if kind == "brands":
        return TAG_BRANDS, TAG_LISTINGS, TAG_STRUCTURE
    return product_write_tags(row.id if kind == "products" else row.product_id)


# --- admin writes -------------------------------------------------------------------------

IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
KIND_LABEL: dict[Kind, str] = {
    "categories": "category",
    "brands": "brand",
    "products": "product",
    "variants": "variant",
}
KIND_NOT_FOUND: dict[Kind, CatalogError] = {
    "categories": CatalogError.CATEGORY_NOT_FOUND,
    "brands": CatalogError.BRAND_NOT_FOUND,
    "products": CatalogError.PRODUCT_NOT_FOUND,
    "variants": CatalogError.VARIANT_NOT_FOUND,
}
# A missing parent named by the URL (`/catalog/products/{id}/variants`) is a 404 of its own.
PATH_NOT_FOUND: dict[str, CatalogError] = {
    "product_id": CatalogError.PRODUCT_NOT_FOUND,
    "seller_id": CatalogError.SELLER_NOT_FOUND,
    "variant_id": CatalogError.VARIANT_NOT_FOUND,
}


def required_version(body_version: int | None, if_match: str | None) -> int:
    """The version the client read: the body's `version` or an `If-Match: "3"` header."""
    if body_version is not None:
        return body_version
    match = IF_MATCH.match(if_match or "")
    if match is None:
        raise PreconditionRequired("send the version you last read as If-Match or as the body's version field")
    return int(match.group(1))


def changes_of(patch: BaseModel) -> dict[str, Any]:
    """The fields the client sent, without the version (that goes to the WHERE clause)."""
    return {k: v for k, v in patch.model_dump(exclude_unset=True).items() if k != "version"}


def failed_update(kind: Kind, row_id: UUID, version: int, current_version: int | None) -> DomainError:
    """An update that matched no row: the row is gone (404) or another write came first (409)."""
    label = KIND_LABEL[kind]
    if current_version is None:
        return NotFound(f"no {label} {row_id}", code=KIND_NOT_FOUND[kind])
    return Conflict(
        f"the {label} changed since version {version}; read it again",
        code=CatalogError.VERSION_CONFLICT,
        extra={"current_version": current_version},
    )


def constraint_column(constraint: str | None, table: str | None, suffix: str) -> str:
    """The column PostgreSQL's default constraint name is about (`variants_product_id_fkey`)."""
    name, table = constraint or "", table or ""
    return name.removeprefix(f"{table}_").removesuffix(suffix) or "record"


def missing_reference(column: str, in_path: frozenset[str]) -> DomainError:
    """A foreign key to nothing: 404 when the URL named it, else 422 on the body's field."""
    if column in in_path:
        return NotFound(f"no such {column.removesuffix('_id')}", code=PATH_NOT_FOUND[column])
    return ValidationFailed(
        f"{column} does not refer to an existing record",
        code=CatalogError.UNKNOWN_REFERENCE,
        errors=[FieldError(path=column, message="no such record", code=PlatformError.NOT_FOUND)],
    )


def duplicate_value(column: str) -> DomainError:
    return Conflict(
        f"{column} is already used by another record",
        code=CatalogError.ALREADY_EXISTS,
        errors=[FieldError(path=column, message="already used", code=CatalogError.TAKEN)],
    )


def broken_check(constraint: str) -> DomainError:
    """A CHECK constraint the database refused, as the problem that explains it."""
    if constraint == "categories_no_cycle":
        return ValidationFailed(
            "a category cannot be moved under itself or one of its descendants",
            code=CatalogError.CATEGORY_CYCLE,
            errors=[FieldError("parent_id", "would create a cycle", CatalogError.CYCLE)],
        )
    if constraint == "offers_reserved_within_on_hand":
        return Conflict(
            "on_hand cannot go below the units reserved by unpaid orders",
            code=CatalogError.BELOW_RESERVED,
            errors=[FieldError("on_hand", "below reserved units", CatalogError.BELOW_RESERVED)],
        )
    return ValidationFailed(f"the record breaks the rule {constraint}", code=CatalogError.CONSTRAINT_VIOLATED)


# --- sellers ------------------------------------------------------------------------------

OFFER_ORDER = "variant_id"  # a seller's offers are listed by variant id
FIRST_OFFERS = UUID(int=0)  # below every variant id: where the first page starts


def offers_after(cursor: str | None) -> UUID:
    """The variant id a seller's page of offers starts after."""
    key = decode_cursor(cursor, OFFER_ORDER)
    return UUID(key[0]) if key else FIRST_OFFERS


def own_seller(principal: Principal, seller_id: UUID) -> None:
    """A seller sees only its own offers: another seller's id answers 404, like a missing one.
    Admins may act for any seller."""
    if principal.has_any_role(ADMIN_ROLES):
        return
    if principal.seller_id != str(seller_id):
        raise seller_not_found(seller_id)


def seller_not_found(seller_id: UUID) -> NotFound:
    return NotFound(f"no seller {seller_id}", code=CatalogError.SELLER_NOT_FOUND)


# --- the warm_cache timer -----------------------------------------------------------------

WarmKind = Literal["categories", "brands", "listings", "products"]
WARM_KINDS: tuple[WarmKind, ...] = ("categories", "brands", "listings", "products")


@dataclass(frozen=True)
class WarmStep:
    kind: WarmKind
    lang: Lang
    category: str | None = None  # a listing's category slug; None lists the whole catalog
    product_id: UUID | None = None


def warm_steps(product_ids: list[UUID], root_slugs: list[str]) -> list[WarmStep]:
    """The hot keys, per language: category tree, brands, the first listing page of the whole
    catalog and of each root category, then the top products' pages."""
    steps: list[WarmStep] = []
    for lang in LANGS:
        steps += [WarmStep("categories", lang), WarmStep("brands", lang), WarmStep("listings", lang)]
        steps += [WarmStep("listings", lang, category=slug) for slug in root_slugs]
        steps += [WarmStep("products", lang, product_id=product_id) for product_id in product_ids]
    return steps
