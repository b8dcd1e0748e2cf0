"""What the public catalog API reads: listing queries, localized views, and the rows behind them.

Rows (`*Row`) carry both languages as stored; `localize(lang)` turns them into the views the
shopper API returns (one `name`, one `description`, in the language asked for).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from shared.platform.base_model import AppModel

Lang = Literal["en", "ar"]
Sort = Literal["relevance", "price_asc", "price_desc", "newest"]
ATTRIBUTE_PARAM = re.compile(r"^attr\.([a-z][a-z0-9_]{0,39})$")
MAX_ATTRIBUTE_FILTERS = 5


def pick(lang: Lang, en: Any, ar: Any) -> Any:
    """The value in the asked language, the other one when it is missing."""
    return (ar or en) if lang == "ar" else (en or ar)


class LangQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    lang: Lang | None = None


class ProductQuery(AppModel):
    """`GET /products` filters; `attr.<key>=<value>` parameters land in `attributes`."""

    model_config = ConfigDict(extra="allow")

    q: str | None = Field(default=None, min_length=1, max_length=100)
    category: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(default=None, max_length=200)
    seller: str | None = Field(default=None, max_length=200)
    min_price: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    max_price: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    in_stock: bool | None = None
    rx: Literal["only", "exclude"] | None = None
    sort: Sort | None = None
    cursor: str | None = Field(default=None, max_length=300)
    limit: int = Field(default=20, ge=1, le=100)
    lang: Lang | None = None
    attributes: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_attribute_filters(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        plain = {k: v for k, v in data.items() if not k.startswith("attr.")}
        attributes = {}
        for name, value in data.items():
            if not name.startswith("attr."):
                continue
            match = ATTRIBUTE_PARAM.match(name)
            if match is None or not isinstance(value, str) or not 0 < len(value) <= 100:
                raise ValueError(f"{name}: attribute filters are attr.<lowercase_key>=<1-100 chars>")
            attributes[match.group(1)] = value
        if len(attributes) > MAX_ATTRIBUTE_FILTERS:
            raise ValueError(f"at most {MAX_ATTRIBUTE_FILTERS} attribute filters")
        return plain | {"attributes": attributes}

    @model_validator(mode="after")
    def _consistent(self) -> ProductQuery:
        unknown = sorted(set(self.model_extra or {}))
        if unknown:
            raise ValueError(f"unknown query parameter(s): {', '.join(unknown)}")
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price must not exceed max_price")
        if self.sort == "relevance" and not self.q:
            raise ValueError("sort=relevance needs a search query q")
        return self

    @property
    def effective_sort(self) -> Sort:
        return self.sort or ("relevance" if self.q else "newest")


class CategoryRow(AppModel):
    id: UUID
    parent_id: UUID | None
    name_en: str
    name_ar: str
    slug_en: str
    slug_ar: str
    description_en: str | None
    description_ar: str | None
    image_url: str | None
    sort_order: int
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CategoryNode(AppModel):
    id: UUID
    slug: str
    name: str
    description: str | None
    image_url: str | None
    children: list[CategoryNode] = Field(default_factory=list)

    @classmethod
    def from_row(cls, row: CategoryRow, lang: Lang) -> CategoryNode:
        return cls(
            id=row.id,
            slug=pick(lang, row.slug_en, row.slug_ar),
            name=pick(lang, row.name_en, row.name_ar),
            description=pick(lang, row.description_en, row.description_ar),
            image_url=row.image_url,
        )


class CategoryLink(AppModel):
    id: UUID
    slug: str
    name: str

    @classmethod
    def from_row(cls, row: CategoryRow, lang: Lang) -> CategoryLink:
        return cls(id=row.id, slug=pick(lang, row.slug_en, row.slug_ar), name=pick(lang, row.name_en, row.name_ar))


class CategoryDetail(CategoryNode):
    slug_en: str
    slug_ar: str
    path: list[CategoryLink] = Field(description="ancestors from the root down to this category")


class CategoryTree(AppModel):
    lang: Lang
    items: list[CategoryNode]


class BrandRow(AppModel):
    id: UUID
    name_en: str
    name_ar: str
    slug: str
    logo_url: str | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class BrandView(AppModel):
    id: UUID
    slug: str
    name: str
    logo_url: str | None = None

    @classmethod
    def from_row(cls, row: BrandRow, lang: Lang) -> BrandView:
        return cls(id=row.id, slug=row.slug, name=pick(lang, row.name_en, row.name_ar), logo_url=row.logo_url)


class SellerView(AppModel):
    id: UUID
    slug: str
    name: str


class BrandList(AppModel):
    lang: Lang
    items: list[BrandView]


class ProductSummaryRow(AppModel):
    id: UUID
    name_en: str
    name_ar: str
    slug_en: str
    slug_ar: str
    requires_prescription: bool
    min_price: Decimal
    created_at: datetime
    brand_id: UUID | None
    brand_slug: str | None
    brand_name_en: str | None
    brand_name_ar: str | None
    image_url: str | None
    in_stock: bool
    rank: float | None = None


class ProductSummary(AppModel):
    id: UUID
    slug: str
    name: str
    brand: BrandView | None
    requires_prescription: bool
    price_from: Decimal = Field(description="lowest price over the product's variants and seller offers")
    in_stock: bool = Field(description="some seller has units available (may lag up to a minute)")
    image_url: str | None

    @classmethod
    def from_row(cls, row: ProductSummaryRow, lang: Lang) -> ProductSummary:
        brand = None
        if row.brand_id and row.brand_slug:
            brand = BrandView(
                id=row.brand_id, slug=row.brand_slug, name=pick(lang, row.brand_name_en, row.brand_name_ar)
            )
        return cls(
            id=row.id,
            slug=pick(lang, row.slug_en, row.slug_ar),
            name=pick(lang, row.name_en, row.name_ar),
            brand=brand,
            requires_prescription=row.requires_prescription,
            price_from=row.min_price,
            in_stock=row.in_stock,
            image_url=row.image_url,
        )


class ProductPage(AppModel):
    lang: Lang
    items: list[ProductSummary]
    next_cursor: str | None


class ProductRow(AppModel):
    id: UUID
    name_en: str
    name_ar: str
    description_en: str | None
    description_ar: str | None
    slug_en: str
    slug_ar: str
    meta_title_en: str | None
    meta_title_ar: str | None
    meta_description_en: str | None
    meta_description_ar: str | None
    category_id: UUID
    brand_id: UUID | None
    requires_prescription: bool
    is_active: bool
    attributes: dict[str, Any]
    erp_product_id: str | None
    min_price: Decimal | None
    version: int
    created_at: datetime
    updated_at: datetime


class VariantRow(AppModel):
    id: UUID
    product_id: UUID
    sku: str
    options: dict[str, Any]
    barcode: str | None
    price: Decimal
    sale_price: Decimal | None
    is_active: bool
    sort_order: int
    version: int
    created_at: datetime
    updated_at: datetime


class VariantView(AppModel):
    id: UUID
    sku: str
    options: dict[str, Any]
    barcode: str | None
    price: Decimal
    sale_price: Decimal | None
    effective_price: Decimal


class ImageRow(AppModel):
    id: UUID
    product_id: UUID
    url: str
    alt_en: str | None
    alt_ar: str | None
    sort_order: int
    created_at: datetime


class ImageView(AppModel):
    id: UUID
    url: str
    alt: str | None


class OfferAvailabilityRow(AppModel):
    variant_id: UUID
    seller_id: UUID
    seller_slug: str
    seller_name_en: str
    seller_name_ar: str
    price: Decimal
    available: int
    low_stock_threshold: int


class SellerOffer(AppModel):
    variant_id: UUID
    seller: SellerView
    price: Decimal = Field(description="what this seller charges: its own price, else the variant's (sale) price")
    available: int
    in_stock: bool
    low_stock: bool


class ProductDetail(AppModel):
    """The product without its offers: offers change often and are cached separately."""

    id: UUID
    lang: Lang
    slug: str
    slug_en: str
    slug_ar: str
    name: str
    description: str | None
    meta_title: str | None
    meta_description: str | None
    requires_prescription: bool
    attributes: dict[str, Any]
    price_from: Decimal | None
    brand: BrandView | None
    category_path: list[CategoryLink]
    variants: list[VariantView]
    images: list[ImageView]
    version: int
    updated_at: datetime
