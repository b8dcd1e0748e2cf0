"""Orders: the checkout body, the rows read back, and the views the API returns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from shared.platform.base_model import AppModel

DeliveryMethod = Literal["delivery", "pickup"]
ChildStatus = Literal[
    "PENDING", "CONFIRMED", "PROCESSING", "READY_FOR_PICKUP", "OUT_FOR_DELIVERY", "DELIVERED", "CANCELLED", "REFUNDED"
]
DeliveryStatus = Literal[
    "PENDING", "ASSIGNED", "PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "FAILED", "RETURNED"
]
ParentStatus = Literal["PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED", "REFUNDED"]
PaymentStatus = Literal["PENDING", "PROCESSING", "PAID", "FAILED", "REFUNDED", "PARTIALLY_REFUNDED"]


class OrderLineIn(AppModel):
    model_config = ConfigDict(extra="forbid")

    variant_id: UUID
    quantity: int = Field(ge=1, description="at most ORDER_MAX_QUANTITY_PER_LINE")
    seller_id: UUID | None = Field(default=None, description="omit: the cheapest active offer with enough stock")


class PlaceOrder(AppModel):
    """Nothing price-like is accepted: the server prices every line from the offers."""

    model_config = ConfigDict(extra="forbid")

    lines: list[OrderLineIn] = Field(min_length=1)
    delivery_method: DeliveryMethod
    address_id: UUID | None = Field(default=None, description="one of my addresses; required for delivery")
    customer_notes: str | None = Field(default=None, max_length=1000)
    prescription_ids: list[UUID] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _address_matches_method(self) -> PlaceOrder:
        if self.delivery_method == "delivery" and self.address_id is None:
            raise ValueError("delivery orders need an address_id")
        if self.delivery_method == "pickup" and self.address_id is not None:
            raise ValueError("pickup orders take no address_id")
        return self


class ResolvedLine(AppModel):
    """A requested line matched to one offer, priced from the catalog."""

    line_no: int
    variant_id: UUID
    quantity: int
    offer_id: UUID | None
    seller_id: UUID | None
    product_id: UUID | None
    product_name_en: str | None
    product_name_ar: str | None
    sku: str | None
    requires_prescription: bool | None
    unit_price: Decimal | None
    available: int | None
    variant_active: bool


class OrderItem(AppModel):
    id: UUID
    line_no: int
    variant_id: UUID
    product_id: UUID
    product_name_en: str
    product_name_ar: str
    sku: str
    requires_prescription: bool
    unit_price: Decimal
    quantity: int
    line_total: Decimal


class SellerOrder(AppModel):
    id: UUID
    order_id: UUID
    seller_id: UUID
    number: str
    status: ChildStatus
    delivery_status: DeliveryStatus
    subtotal: Decimal
    tax: Decimal
    delivery_fee: Decimal
    total: Decimal
    version: int
    created_at: datetime
    updated_at: datetime
    items: list[OrderItem] = Field(default_factory=list)


class HistoryEntry(AppModel):
    seller_order_id: UUID | None
    field: str
    from_status: str | None
    to_status: str
    actor_role: str
    reason: str | None
    created_at: datetime


class Order(AppModel):
    id: UUID
    number: str
    user_id: str
    status: ParentStatus
    payment_status: PaymentStatus
    delivery_method: DeliveryMethod
    delivery_address: dict[str, Any] | None
    customer_notes: str | None
    prescription_ids: list[UUID]
    currency: str
    subtotal: Decimal
    tax: Decimal
    delivery_fee: Decimal
    total: Decimal
    expires_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    children: list[SellerOrder] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)


class ShortLine(AppModel):
    line_no: int
    variant_id: UUID
    requested: int
    available: int
