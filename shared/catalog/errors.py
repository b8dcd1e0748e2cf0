"""Every error code the catalog answers with (listed in the OpenAPI problem schema)."""

from __future__ import annotations

from enum import StrEnum


class CatalogError(StrEnum):
    CATEGORY_NOT_FOUND = "category_not_found"
    BRAND_NOT_FOUND = "brand_not_found"
    PRODUCT_NOT_FOUND = "product_not_found"
    VARIANT_NOT_FOUND = "variant_not_found"
    IMAGE_NOT_FOUND = "image_not_found"
    SELLER_NOT_FOUND = "seller_not_found"
    VERSION_CONFLICT = "version_conflict"
    ALREADY_EXISTS = "already_exists"
    UNKNOWN_REFERENCE = "unknown_reference"
    CATEGORY_CYCLE = "category_cycle"
    BELOW_RESERVED = "below_reserved"  # also the field code of on_hand
    CONSTRAINT_VIOLATED = "constraint_violated"
    # field codes (FieldError.code) of the problems above
    TAKEN = "taken"
    CYCLE = "cycle"
