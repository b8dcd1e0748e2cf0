"""Bodies the catalog management API accepts (admins) and the seller offer API (sellers).

Create bodies (`*Fields`) require both languages; patch bodies (`*Patch`) take any subset
plus the `version` the client last read (or an `If-Match` header instead).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.platform.base_model import AppModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10000)]
SlugEn = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
# Arabic slugs: Arabic letters, Latin lower-case letters and digits, joined by hyphens.
SlugAr = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=120,
        pattern=r"^[\u0621-\u064Aa-z0-9\u0660-\u0669]+(-[\u0621-\u064Aa-z0-9\u0660-\u0669]+)*$",
    ),
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://\S+$")]
Price = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Barcode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{8,14}$")]
Version = Annotated[int, Field(ge=1, description="the version last read; or send it as If-Match")]


class Strict(AppModel):
    model_config = ConfigDict(extra="forbid")


class CategoryFields(Strict):
    parent_id: UUID | None = None
    name_en: Name
    name_ar: Name
    slug_en: SlugEn
    slug_ar: SlugAr
    description_en: Annotated[str, StringConstraints(max_length=2000)] | None = None
    description_ar: Annotated[str, StringConstraints(max_length=2000)] | None = None
    image_url: Url | None = None
    sort_order: int = 0
    is_active: bool = True


class CategoryPatch(Strict):
    parent_id: UUID | None = None
    name_en: Name | None = None
    name_ar: Name | None = None
    slug_en: SlugEn | None = None
    slug_ar: SlugAr | None = None
    description_en: Annotated[str, StringConstraints(max_length=2000)] | None = None
    description_ar: Annotated[str, StringConstraints(max_length=2000)] | None = None
    image_url: Url | None = None
    sort_order: int | None = None
    is_active: bool | None = None
    version: Version | None = None


class BrandFields(Strict):
    name_en: Name
    name_ar: Name
    slug: SlugEn
    logo_url: Url | None = None
    is_active: bool = True


class BrandPatch(Strict):
    name_en: Name | None = None
    name_ar: Name | None = None
    slug: SlugEn | None = None
    logo_url: Url | None = None
    is_active: bool | None = None
    version: Version | None = None


class ProductFields(Strict):
    name_en: ProductName
    name_ar: ProductName
    description_en: Description | None = None
    description_ar: Description | None = None
    slug_en: SlugEn
    slug_ar: SlugAr
    meta_title_en: Annotated[str, StringConstraints(max_length=70)] | None = None
    meta_title_ar: Annotated[str, StringConstraints(max_length=70)] | None = None
    meta_description_en: Annotated[str, StringConstraints(max_length=160)] | None = None
    meta_description_ar: Annotated[str, StringConstraints(max_length=160)] | None = None
    category_id: UUID
    brand_id: UUID | None = None
    requires_prescription: bool = False
    is_active: bool = True
    attributes: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="dosage_form, strength, active_ingredient(_ar), generic_name(_ar), manufacturer, pack_size …",
        max_length=50,
    )
    erp_product_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None


class ProductPatch(Strict):
    name_en: ProductName | None = None
    name_ar: ProductName | None = None
    description_en: Description | None = None
    description_ar: Description | None = None
    slug_en: SlugEn | None = None
    slug_ar: SlugAr | None = None
    meta_title_en: Annotated[str, StringConstraints(max_length=70)] | None = None
    meta_title_ar: Annotated[str, StringConstraints(max_length=70)] | None = None
    meta_description_en: Annotated[str, StringConstraints(max_length=160)] | None = None
    meta_description_ar: Annotated[str, StringConstraints(max_length=160)] | None = None
    category_id: UUID | None = None
    brand_id: UUID | None = None
    requires_prescription: bool | None = None
    is_active: bool | None = None
    attributes: dict[str, str | int | float | bool] | None = Field(default=None, max_length=50)
    erp_product_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    version: Version | None = None


class VariantFields(Strict):
    sku: Sku
    options: dict[str, str] = Field(default_factory=dict, max_length=10)
    barcode: Barcode | None = None
    price: Price
    sale_price: Price | None = None
    is_active: bool = True
    sort_order: int = 0

    @model_validator(mode="after")
    def _sale_below_price(self) -> VariantFields:
        if self.sale_price is not None and self.sale_price >= self.price:
            raise ValueError("sale_price must be lower than price")
        return self


class VariantPatch(Strict):
    sku: Sku | None = None
    options: dict[str, str] | None = Field(default=None, max_length=10)
    barcode: Barcode | None = None
    price: Price | None = None
    sale_price: Price | None = None
    is_active: bool | None = None
    sort_order: int | None = None
    version: Version | None = None


class ImageFields(Strict):
    url: Url
    alt_en: Annotated[str, StringConstraints(max_length=200)] | None = None
    alt_ar: Annotated[str, StringConstraints(max_length=200)] | None = None
    sort_order: int = 0


class OfferPut(Strict):
    price: Price | None = Field(default=None, description="the seller's price; null sells at the variant's price")
    on_hand: int = Field(ge=0, le=1_000_000, description="units on the shelf; never below what is reserved")
    low_stock_threshold: int = Field(default=5, ge=0, le=100_000)
    is_active: bool = True


class OfferRow(AppModel):
    id: UUID
    variant_id: UUID
    seller_id: UUID
    sku: str
    product_id: UUID
    product_name_en: str
    product_name_ar: str
    price: Decimal | None
    effective_price: Decimal
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int
    low_stock: bool
    is_active: bool
    version: int
    updated_at: datetime


class OfferQuery(Strict):
    low_stock: bool | None = None
    cursor: str | None = Field(default=None, max_length=300)
    limit: int = Field(default=50, ge=1, le=100)


class OfferPage(AppModel):
    items: list[OfferRow]
    next_cursor: str | None


def changes_of(patch: BaseModel) -> dict[str, Any]:
    """The fields the client sent, without the version (that goes to the WHERE clause)."""
    return {k: v for k, v in patch.model_dump(exclude_unset=True).items() if k != "version"}
