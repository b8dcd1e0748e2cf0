"""Offers: what each seller has of a variant, as shoppers see it on the product page, and as
the seller sets and lists its own (`/api/sellers/{seller_id}/offers`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import Field

from shared.catalog import rules
from shared.catalog.models import Lang, ProductDetail
from shared.catalog.models_admin import Strict
from shared.platform.base_model import WHOLE, AppModel, PositiveMoney


class SellerView(AppModel):
    id: UUID
    slug: str
    name: str


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

    @classmethod
    def from_row(cls, row: OfferAvailabilityRow, lang: Lang) -> SellerOffer:
        name = rules.pick(lang, row.seller_name_en, row.seller_name_ar)
        available, in_stock, low_stock = rules.offer_stock(row.available, row.low_stock_threshold)
        return cls(
            variant_id=row.variant_id,
            seller=SellerView(id=row.seller_id, slug=row.seller_slug, name=name),
            price=row.price,
            available=available,
            in_stock=in_stock,
            low_stock=low_stock,
        )


class ProductWithOffers(ProductDetail):
    offers: list[SellerOffer]  # the page as served: the cached product, its offers read fresh


# --- a seller's own offers ---------------------------------------------------------------


class OfferPut(Strict):
    price: PositiveMoney | None = Field(
        default=None, description="the seller's price; null sells at the variant's price"
    )
    on_hand: Annotated[int, Field(ge=0, le=1_000_000), WHOLE] = Field(
        description="units on the shelf; never below what is reserved"
    )
    low_stock_threshold: Annotated[int, Field(ge=0, le=100_000), WHOLE] = 5
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
    cursor: str | None = Field(
        default=None, max_length=300, json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"}
    )
    limit: int = Field(default=50, ge=1, le=100)


class OfferPage(AppModel):
    items: list[OfferRow]
    next_cursor: str | None
