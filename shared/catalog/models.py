"""What the public catalog API reads: listing queries, localized views, and the rows behind them.

Rows (`*Row`) carry both languages as stored; `localize(lang)` turns them into the views the
shopper API returns (one `name`, one `description`, in the language asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shared.catalog import rules
from shared.platform.base_model import AppModel, Money, PositiveMoney

Lang = Literal["en", "ar"]
Sort = Literal["relevance", "price_asc", "price_desc", "newest"]


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
    min_price: Money | None = None
    max_price: PositiveMoney | None = None
    in_stock: bool | None = None
    rx: Literal["only", "exclude"] | None = None
    sort: Sort | None = None
    cursor: str | None = Field(
        default=None, max_length=300, json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"}
    )
    limit: int = Field(default=20, ge=1, le=100)
    lang: Lang | None = None
    # `attr.<key>=<value>` parameters, documented as an exploded object with those names
    attributes: dict[str, str] = Field(
        default_factory=dict,
        json_schema_extra={
            "propertyNames": {"pattern": rules.ATTRIBUTE_PARAM.pattern},
            "maxProperties": rules.MAX_ATTRIBUTE_FILTERS,
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 100},
        },
    )

    @model_validator(mode="before")
    @classmethod
    def _collect_attribute_filters(cls, data: Any) -> Any:
        return rules.collect_attribute_filters(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _consistent(self) -> ProductQuery:
        unknown = sorted(set(self.model_extra or {}))
        if unknown:
            raise ValueError(f"unknown query parameter(s): {', '.join(unknown)}")
        return self

    # Rules across two parameters (OpenAPI has none): named codes, which the contract suite
    # knows are beyond any schema (tests/contract/test_fuzz.py CROSS_PARAMETER_CODES).
    @field_validator("max_price")
    @classmethod
    def _not_below_min_price(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        minimum = info.data.get("min_price")
        if value is not None and minimum is not None and minimum > value:
            raise PydanticCustomError("invalid_price_range", "must not be below min_price")
        return value

    @field_validator("sort")
    @classmethod
    def _relevance_needs_a_query(cls, value: Sort | None, info: ValidationInfo) -> Sort | None:
        if value == "relevance" and not info.data.get("q"):
            raise PydanticCustomError("relevance_needs_query", "sort=relevance needs a search query q")
        return value

    @property
    def effective_sort(self) -> Sort:
        return rules.effective_sort(self.sort, self.q)


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
    def from_row(cls, row: CategoryRow, lang: Lang, children: list[CategoryNode], **extra: Any) -> Self:
        return cls(
            id=row.id,
            slug=rules.pick(lang, row.slug_en, row.slug_ar),
            name=rules.pick(lang, row.name_en, row.name_ar),
            description=rules.pick(lang, row.description_en, row.description_ar),
            image_url=row.image_url,
            children=children,
            **extra,
        )

    @staticmethod
    def tree(
        children: Mapping[UUID | None, list[CategoryRow]], lang: Lang, parent: UUID | None = None
    ) -> list[CategoryNode]:
        """The categories under `parent` (None: the roots), each with its own subtree
        (`children` comes from rules.children_by_parent)."""
        return [
            CategoryNode.from_row(row, lang, CategoryNode.tree(children, lang, row.id))
            for row in children.get(parent, [])
        ]


class CategoryLink(AppModel):
    id: UUID
    slug: str
    name: str

    @classmethod
    def from_row(cls, row: CategoryRow, lang: Lang) -> CategoryLink:
        return cls(
            id=row.id, slug=rules.pick(lang, row.slug_en, row.slug_ar), name=rules.pick(lang, row.name_en, row.name_ar)
        )


class CategoryDetail(CategoryNode):
    slug_en: str
    slug_ar: str
    path: list[CategoryLink] = Field(description="ancestors from the root down to this category")

    @classmethod
    def from_path(
        cls, path: list[CategoryRow], children: Mapping[UUID | None, list[CategoryRow]], lang: Lang
    ) -> CategoryDetail:
        """The last category of a root-to-category `path`, with its subtree."""
        row = path[-1]
        links = [CategoryLink.from_row(link, lang) for link in path]
        subtree = CategoryNode.tree(children, lang, row.id)
        return cls.from_row(row, lang, subtree, slug_en=row.slug_en, slug_ar=row.slug_ar, path=links)


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
        return cls(id=row.id, slug=row.slug, name=rules.pick(lang, row.name_en, row.name_ar), logo_url=row.logo_url)


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
                id=row.brand_id, slug=row.brand_slug, name=rules.pick(lang, row.brand_name_en, row.brand_name_ar)
            )
        return cls(
            id=row.id,
            slug=rules.pick(lang, row.slug_en, row.slug_ar),
            name=rules.pick(lang, row.name_en, row.name_ar),
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

    @classmethod
    def from_row(cls, row: VariantRow) -> VariantView:
        price = rules.effective_price(row.price, row.sale_price)
        return cls(
            id=row.id,
            sku=row.sku,
            options=row.options,
            barcode=row.barcode,
            price=row.price,
            sale_price=row.sale_price,
            effective_price=price,
        )


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

    @classmethod
    def from_row(cls, row: ImageRow, lang: Lang) -> ImageView:
        return cls(id=row.id, url=row.url, alt=rules.pick(lang, row.alt_en, row.alt_ar))


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

    @classmethod
    def from_rows(
        cls,
        product: ProductRow,
        brand: BrandRow | None,
        path: list[CategoryRow],
        variants: list[VariantRow],
        images: list[ImageRow],
        lang: Lang,
    ) -> ProductDetail:
        """The product page in one language; an inactive brand is left out."""
        return cls(
            id=product.id,
            lang=lang,
            slug=rules.pick(lang, product.slug_en, product.slug_ar),
            slug_en=product.slug_en,
            slug_ar=product.slug_ar,
            name=rules.pick(lang, product.name_en, product.name_ar),
            description=rules.pick(lang, product.description_en, product.description_ar),
            meta_title=rules.pick(lang, product.meta_title_en, product.meta_title_ar),
            meta_description=rules.pick(lang, product.meta_description_en, product.meta_description_ar),
            requires_prescription=product.requires_prescription,
            attributes=product.attributes,
            price_from=product.min_price,
            brand=BrandView.from_row(brand, lang) if brand and brand.is_active else None,
            category_path=[CategoryLink.from_row(c, lang) for c in path],
            variants=[VariantView.from_row(v) for v in variants],
            images=[ImageView.from_row(i, lang) for i in images],
            version=product.version,
            updated_at=product.updated_at,
        )
