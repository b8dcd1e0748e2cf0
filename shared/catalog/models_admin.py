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

from pydantic import ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared.catalog import rules
from shared.platform.base_model import (
    INT4_MAX,
    NOT_BLANK,
    NOT_SENT,
    TRIMMED,
    VISIBLE_CHAR,
    WHOLE,
    AppModel,
    Int4,
    PatchModel,
    PositiveMoney,
)

# Free text is trimmed; text with a pattern is taken exactly as the pattern says (no padding).
Name = Annotated[str, Field(max_length=120), NOT_BLANK]
ProductName = Annotated[str, Field(max_length=200), NOT_BLANK]
ErpId = Annotated[str, Field(max_length=100), NOT_BLANK]
Description = Annotated[str, Field(max_length=10000), TRIMMED]
SlugEn = Annotated[str, StringConstraints(max_length=120, pattern=rules.SLUG_EN)]
SlugAr = Annotated[str, StringConstraints(max_length=120, pattern=rules.SLUG_AR)]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=rf"^https?://{VISIBLE_CHAR}+$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Barcode = Annotated[str, StringConstraints(pattern=r"^[0-9]{8,14}$")]
Version = Annotated[int, Field(ge=1, le=INT4_MAX, description="the version last read; or send it as If-Match"), WHOLE]


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
    erp_product_id: ErpId | None = None


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
    erp_product_id: ErpId | None = None
    version: Version | None = None


class VariantFields(Strict):
    sku: Sku
    options: dict[str, str] = Field(default_factory=dict, max_length=10)
    barcode: Barcode | None = None
    price: PositiveMoney
    sale_price: PositiveMoney | None = None
    is_active: bool = True
    sort_order: Int4 = 0

    @field_validator("sale_price")
    @classmethod
    def _sale_below_price(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        # JSON Schema cannot compare two fields: a named code the contract suite knows
        if "price" in info.data and not rules.sale_price_ok(info.data["price"], value):
            raise PydanticCustomError("sale_price_not_lower", "sale_price must be lower than price")
        return value


class VariantPatch(PatchModel):
    model_config = ConfigDict(json_schema_extra=VERSION_DOCUMENTED_REQUIRED)

    sku: Sku = NOT_SENT
    options: dict[str, str] = Field(default=NOT_SENT, max_length=10)
    barcode: Barcode | None = None
    price: PositiveMoney = NOT_SENT
    sale_price: PositiveMoney | None = None
    is_active: bool = NOT_SENT
    sort_order: Int4 = NOT_SENT
    version: Version | None = None


class ImageFields(Strict):
    url: Url
    alt_en: Annotated[str, StringConstraints(max_length=200)] | None = None
    alt_ar: Annotated[str, StringConstraints(max_length=200)] | None = None
    sort_order: Int4 = 0
