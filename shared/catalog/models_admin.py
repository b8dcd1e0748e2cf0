"""Bodies the catalog management API accepts (admins); its responses are the rows of models.py.

Create bodies (`*Fields`) require both languages; patch bodies (`*Patch`) take any subset
plus the `version` the client last read (or an `If-Match` header instead). A patch field of a
NOT NULL column may be left out but not sent as null (422 naming it); a patch that changes
nothing is 422 `nothing_to_change` (shared.platform.base_model.PatchModel).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from shared.catalog import rules
from shared.platform.base_model import NOT_SENT, AppModel, Int4, PatchModel

# Whitespace alone is empty once trimmed: documented as "some non-blank character".
NON_WHITESPACE = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
NOT_BLANK = Field(json_schema_extra={"pattern": NON_WHITESPACE})
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), NOT_BLANK]
ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10000)]
SlugEn = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120, pattern=rules.SLUG_EN)]
SlugAr = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120, pattern=rules.SLUG_AR)]
# `\S` spelled out (Unicode White_Space, what pydantic's regex means by it), so that JSON
# Schema readers, whose `\s` differs (\x85, \ufeff), read the same set.
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://" + NON_WHITESPACE + "+$")
]
Price = Annotated[Decimal, Field(gt=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Barcode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{8,14}$")]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="the version last read; or send it as If-Match")]


# A patch needs the version last read, in the body or as If-Match; the document shows the body
# form as required (OpenAPI cannot say "this field or that header").
def VERSION_DOCUMENTED_REQUIRED(schema: dict) -> None:
    schema["required"] = ["version"]
    version = schema["properties"]["version"]
    version.pop("default", None)
    version.update(next(b for b in version.pop("anyOf") if b != {"type": "null"}))


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
    sort_order: Int4 = 0
    is_active: bool = True


class CategoryPatch(PatchModel):
    model_config = ConfigDict(json_schema_extra=VERSION_DOCUMENTED_REQUIRED)

    parent_id: UUID | None = None
    name_en: Name = NOT_SENT
    name_ar: Name = NOT_SENT
    slug_en: SlugEn = NOT_SENT
    slug_ar: SlugAr = NOT_SENT
    description_en: Annotated[str, StringConstraints(max_length=2000)] | None = None
    description_ar: Annotated[str, StringConstraints(max_length=2000)] | None = None
    image_url: Url | None = None
    sort_order: Int4 = NOT_SENT
    is_active: bool = NOT_SENT
    version: Version | None = None


class BrandFields(Strict):
    name_en: Name
    name_ar: Name
    slug: SlugEn
    logo_url: Url | None = None
    is_active: bool = True


class BrandPatch(PatchModel):
    model_config = ConfigDict(json_schema_extra=VERSION_DOCUMENTED_REQUIRED)

    name_en: Name = NOT_SENT
    name_ar: Name = NOT_SENT
    slug: SlugEn = NOT_SENT
    logo_url: Url | None = None
    is_active: bool = NOT_SENT
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


class ProductPatch(PatchModel):
    model_config = ConfigDict(json_schema_extra=VERSION_DOCUMENTED_REQUIRED)

    name_en: ProductName = NOT_SENT
    name_ar: ProductName = NOT_SENT
    description_en: Description | None = None
    description_ar: Description | None = None
    slug_en: SlugEn = NOT_SENT
    slug_ar: SlugAr = NOT_SENT
    meta_title_en: Annotated[str, StringConstraints(max_length=70)] | None = None
    meta_title_ar: Annotated[str, StringConstraints(max_length=70)] | None = None
    meta_description_en: Annotated[str, StringConstraints(max_length=160)] | None = None
    meta_description_ar: Annotated[str, StringConstraints(max_length=160)] | None = None
    category_id: UUID = NOT_SENT
    brand_id: UUID | None = None
    requires_prescription: bool = NOT_SENT
    is_active: bool = NOT_SENT
    attributes: dict[str, str | int | float | bool] = Field(default=NOT_SENT, max_length=50)
    erp_product_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    version: Version | None = None


class VariantFields(Strict):
    sku: Sku
    options: dict[str, str] = Field(default_factory=dict, max_length=10)
    barcode: Barcode | None = None
    price: Price
    sale_price: Price | None = None
    is_active: bool = True
    sort_order: Int4 = 0

    @model_validator(mode="after")
    def _sale_below_price(self) -> VariantFields:
        if not rules.sale_price_ok(self.price, self.sale_price):
            raise ValueError("sale_price must be lower than price")
        return self


class VariantPatch(PatchModel):
    model_config = ConfigDict(json_schema_extra=VERSION_DOCUMENTED_REQUIRED)

    sku: Sku = NOT_SENT
    options: dict[str, str] = Field(default=NOT_SENT, max_length=10)
    barcode: Barcode | None = None
    price: Price = NOT_SENT
    sale_price: Price | None = None
    is_active: bool = NOT_SENT
    sort_order: Int4 = NOT_SENT
    version: Version | None = None


class ImageFields(Strict):
    url: Url
    alt_en: Annotated[str, StringConstraints(max_length=200)] | None = None
    alt_ar: Annotated[str, StringConstraints(max_length=200)] | None = None
    sort_order: Int4 = 0
