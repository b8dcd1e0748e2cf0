"""The seller's view of its own child order: no shopper id, email, notes, prescriptions or other
sellers' lines. Of a prescription a seller learns only that a line's was approved, by whom and
until when (`RxApproval`); never its file, its notes or its id."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field, computed_field

from shared.orders.models import DeliveryMethod, HistoryEntry, OrderItem, PaymentStatus, SellerOrder
from shared.platform.base_model import AppModel


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
    items: list[SellerOrderItem] = Field(default_factory=list)  # type: ignore[assignment]

    @computed_field(description="this child order's thread with its shopper")  # type: ignore[prop-decorator]
    @property
    def thread_url(self) -> str:
        return f"/api/seller/orders/{self.id}/thread"


class RxApproval(AppModel):
    approved_by: str = Field(description="the reviewing pharmacist's name (else their account id)")
    approved_at: datetime
    valid_until: date = Field(description="the last day the prescription may be dispensed against")


class SellerOrderItem(OrderItem):
    prescription_id: UUID | None = Field(default=None, exclude=True)  # never shown to a seller
    prescription_approval: RxApproval | None = Field(
        default=None, description="set on a prescription-only line whose prescription a pharmacist approved"
    )


SellerOrderView.model_rebuild()
