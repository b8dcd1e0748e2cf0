"""What the orders domain gives the threads domain: a seller's own offers priced at the moment
(a proposal inside a thread) and the two parties of a child order (its ORDER thread)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from shared.platform.base_model import AppModel


class OfferLine(AppModel):
    """One line a seller proposes: one of its offers and how many units."""

    offer_id: UUID
    quantity: int


class PricedOfferLine(AppModel):
    """A proposed line priced like placement prices it (the offer's price, else the variant's
    sale or base price); `orderable` is False for an offer that is not the seller's, inactive,
    or whose product, variant or seller is not active."""

    line_no: int
    offer_id: UUID
    quantity: int
    orderable: bool
    variant_id: UUID | None
    product_id: UUID | None
    product_name_en: str | None
    product_name_ar: str | None
    sku: str | None
    requires_prescription: bool | None
    unit_price: Decimal | None
    available: int | None


class ChildParties(AppModel):
    """A child order's shopper and seller: who may talk in its ORDER thread."""

    id: UUID
    order_id: UUID
    number: str
    seller_id: UUID
    user_id: str
