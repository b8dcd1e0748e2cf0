"""Orders: what the API takes and returns (placing, the whole order, transitions, lists, the
seller's view, the dashboards) and the typed rows the repos read.

Lists carry summaries; a whole order is `Order` (shopper, admin) or `SellerOrderView`
(models_seller: a seller sees its own child order and nothing of the other sellers')."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import ConfigDict, Field, computed_field, model_validator

from shared.orders.models_delivery import DELIVERY_ONE_OF, DeliveryMethod, check_address_matches_method
from shared.platform.base_model import WHOLE, AppModel, IsoDate, Version, configured

# AWAITING_PRESCRIPTION: paid, with a line whose prescription a pharmacist has not approved yet.
EarlyChildStatus = Literal["PENDING", "AWAITING_PRESCRIPTION", "CONFIRMED", "PROCESSING"]
ChildStatus = Literal[EarlyChildStatus, "READY_FOR_PICKUP", "OUT_FOR_DELIVERY", "DELIVERED", "CANCELLED", "REFUNDED"]
DeliveryStatus = Literal[
    "PENDING", "ASSIGNED", "PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "FAILED", "RETURNED"
]
ParentStatus = Literal["PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED", "REFUNDED"]
PaymentStatus = Literal["PENDING", "PROCESSING", "PAID", "FAILED", "REFUNDED", "PARTIALLY_REFUNDED"]


# The ceilings ORDER_MAX_LINES and ORDER_MAX_QUANTITY_PER_LINE may be set to (settings_model):
# validation stops there, before any line is looked at; the configured limits are checked after.
MAX_LINES_CEILING = 200
MAX_QUANTITY_CEILING = 10_000


class OrderLineIn(AppModel):
    model_config = ConfigDict(extra="forbid")

    variant_id: UUID
    quantity: Annotated[
        int,
        Field(ge=1, le=MAX_QUANTITY_CEILING, json_schema_extra=configured("maximum", "order_max_quantity_per_line")),
        WHOLE,
    ]
    seller_id: UUID | None = Field(default=None, description="omit: the cheapest active offer with enough stock")
    prescription_id: UUID | None = Field(
        default=None, description="required for prescription-only products: one of my APPROVED or PENDING prescriptions"
    )


class PlaceOrder(AppModel):
    """Nothing price-like is accepted: the server prices every line from the offers."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=DELIVERY_ONE_OF)

    lines: list[OrderLineIn] = Field(
        min_length=1, max_length=MAX_LINES_CEILING, json_schema_extra=configured("maxItems", "order_max_lines")
    )
    delivery_method: DeliveryMethod
    address_id: UUID | None = Field(default=None, description="one of my addresses; required for delivery")
    customer_notes: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _address_matches_method(self) -> PlaceOrder:
        check_address_matches_method(self.delivery_method, self.address_id)
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
    prescription_id: UUID | None = None
    prescription_status: str | None = None  # of the shopper's own prescription the line names, read under lock
    prescription_expires_on: date | None = None


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
    prescription_id: UUID | None = None
    cancelled_at: datetime | None = Field(default=None, description="set when this line alone was cancelled")
    refunded_quantity: int = Field(default=0, description="units of this line refunded so far")


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
    refunded_amount: Decimal = Field(default=Decimal(0), description="money of this child order refunded so far")
    version: int
    created_at: datetime
    updated_at: datetime
    items: list[OrderItem] = Field(default_factory=list)

    @computed_field(description="this child order's thread with its seller (messages about delivery)")  # type: ignore[prop-decorator]
    @property
    def thread_url(self) -> str:
        return f"/api/orders/{self.id}/thread"


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


# --- lists, the seller's view and the dashboards -----------------------------------------

PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100


class Query(AppModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Page(Query):
    cursor: str | None = Field(
        default=None, max_length=200, json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"}
    )
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)


class DateRange(Query):
    """Whole days in UTC: `from` 00:00 up to the end of `to` (both ISO dates, both inclusive)."""

    from_: IsoDate | None = Field(default=None, alias="from", description="first day (YYYY-MM-DD, UTC)")
    to: IsoDate | None = Field(default=None, description="last day, inclusive (YYYY-MM-DD, UTC)")


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


# --- transitions ---------------------------------------------------------------------------


TARGETS, DELIVERY_TARGETS = get_args(ChildStatus), get_args(DeliveryStatus)


class TransitionRequest(AppModel):
    # `to` is a value of the field moved: a child status, or a delivery status.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"properties": {"field": {"const": "status"}, "to": {"enum": list(TARGETS)}}},
                {
                    "required": ["field"],
                    "properties": {"field": {"const": "delivery_status"}, "to": {"enum": list(DELIVERY_TARGETS)}},
                },
            ]
        },
    )

    field: Literal["status", "delivery_status"] = "status"
    to: str = Field(min_length=1, max_length=30, json_schema_extra={"enum": sorted({*TARGETS, *DELIVERY_TARGETS})})
    version: Version = Field(description="the child order's version you last read")
    reason: str | None = Field(default=None, max_length=500)


class CancelRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = Field(description="the order's version you last read")
    reason: str | None = Field(default=None, max_length=500)


class TransitionResult(AppModel):
    seller_order_id: UUID
    status: str
    delivery_status: str
    version: int


# --- results of the use cases and rows the repos read ----------------------------------------


@dataclass(frozen=True)
class Placed:
    order_id: UUID
    replayed: bool  # True: an earlier request with this Idempotency-Key placed it


@dataclass
class ExpiryRun:
    orders: int = 0
    orphan_units: int = 0
    batches: int = 0


class LockedChild(AppModel):
    """A child order with its parent's fields that the transition rules need, read under lock."""

    id: UUID
    order_id: UUID
    seller_id: UUID
    number: str
    status: str
    delivery_status: str
    version: int
    user_id: str
    delivery_method: str
    payment_status: str
    order_version: int


class ItemRow(OrderItem):
    seller_order_id: UUID


class RxLine(AppModel):
    """Row: an order line with the state of the prescription it names (if any)."""

    id: UUID
    seller_order_id: UUID
    line_no: int
    quantity: int
    line_total: Decimal
    requires_prescription: bool
    prescription_id: UUID | None
    cancelled: bool
    prescription_status: str | None
    prescription_expires_on: date | None


class StatsRow(AppModel):
    orders: int
    revenue: Decimal
    average_order_value: Decimal | None
    orders_by_status: dict[str, int]
    top_products: list[TopProduct]
