"""What the order lists, the seller's view of a child order and the dashboards return, and the
queries they accept. Lists carry summaries; a whole order is `models.Order` (shopper, admin) or
`SellerOrderView` (a seller sees its own child order and nothing of the other sellers')."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import ConfigDict, Field

from shared.orders.models import (
    ChildStatus,
    DeliveryMethod,
    DeliveryStatus,
    HistoryEntry,
    ParentStatus,
    PaymentStatus,
    SellerOrder,
)
from shared.platform.base_model import AppModel

PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100


class Query(AppModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Page(Query):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)


class DateRange(Query):
    """Whole days in UTC: `from` 00:00 up to the end of `to` (both ISO dates, both inclusive)."""

    from_: date | None = Field(default=None, alias="from", description="first day (YYYY-MM-DD, UTC)")
    to: date | None = Field(default=None, description="last day, inclusive (YYYY-MM-DD, UTC)")


class MyOrdersQuery(Page):
    status: ParentStatus | None = None


class SellerOrdersQuery(Page):
    status: ChildStatus | None = None
    seller: UUID | None = Field(default=None, description="admins only: one seller's child orders")


class OpsOrdersQuery(Page, DateRange):
    status: ParentStatus | None = None
    seller: str | None = Field(
        default=None, min_length=1, max_length=100, description="orders with a child order of this seller (id or slug)"
    )


class StatsQuery(DateRange):
    pass


class SellerStatsQuery(DateRange):
    seller: UUID | None = Field(default=None, description="admins: the seller (sellers get their own)")


class OrderSummary(AppModel):
    id: UUID
    number: str
    status: ParentStatus
    payment_status: PaymentStatus
    total: Decimal
    currency: str
    created_at: datetime
    item_count: int = Field(description="order lines")
    seller_count: int


class OpsOrderSummary(OrderSummary):
    user_id: str
    delivery_method: DeliveryMethod


class OrderPage(AppModel):
    items: list[OrderSummary]
    next_cursor: str | None


class OpsOrderPage(AppModel):
    items: list[OpsOrderSummary]
    next_cursor: str | None


class SellerOrderSummary(AppModel):
    id: UUID
    order_id: UUID
    seller_id: UUID
    number: str
    order_number: str
    status: ChildStatus
    delivery_status: DeliveryStatus
    payment_status: PaymentStatus
    delivery_method: DeliveryMethod
    total: Decimal
    currency: str
    created_at: datetime
    item_count: int = Field(description="order lines")


class SellerOrderPage(AppModel):
    items: list[SellerOrderSummary]
    next_cursor: str | None


class DeliveryAddress(AppModel):
    """Where the seller delivers: the address snapshot without the shopper's address id."""

    label: str | None = None
    first_name: str
    last_name: str
    mobile: str
    street: str
    building: str | None = None
    floor: str | None = None
    apartment: str | None = None
    district: str | None = None
    city: str
    region: str | None = None
    postal_code: str | None = None
    country: str


class SellerOrderView(SellerOrder):
    """One seller's child order: its items, totals and history, the parent's number, payment and
    delivery method, and the delivery address. No shopper id, email, notes or other sellers' lines."""

    order_number: str
    payment_status: PaymentStatus
    delivery_method: DeliveryMethod
    delivery_address: DeliveryAddress | None
    currency: str
    history: list[HistoryEntry] = Field(default_factory=list)


class TopProduct(AppModel):
    product_id: UUID
    name_en: str
    name_ar: str
    units: int
    revenue: Decimal = Field(description="sum of the line totals (before VAT and delivery)")


class OrderStats(AppModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: date = Field(alias="from")
    to: date
    currency: str
    orders: int = Field(description="orders not cancelled")
    revenue: Decimal = Field(description="sum of totals of paid orders")
    average_order_value: Decimal | None = Field(description="mean total of the orders not cancelled")
    orders_by_status: dict[str, int]
    top_products: list[TopProduct] = Field(description="top 10 by units, orders not cancelled")


class SellerStats(OrderStats):
    seller_id: UUID
