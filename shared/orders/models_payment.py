"""Orders: the typed rows and results of what payments do to an order (confirmation when paid,
refunded units and amounts, restocking)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from shared.platform.base_model import AppModel

# What a successful payment did to its order (shared.orders.payment_effects):
# confirmed: the children moved on; reserved_again: it had expired, the stock was free and is
# now the order's again; out_of_stock: it had expired and the stock is gone (refund it);
# not_payable: cancelled by someone, or already paid by another payment (a person decides).
PaidOutcome = Literal["confirmed", "reserved_again", "out_of_stock", "not_payable"]

# The event of paid lines the shop cancelled (a rejected prescription, an expired hold):
# recorded by rx_holds, consumed by shared.payments, which refunds them.
REFUND_DUE = "refund.due"


class PayableOrder(AppModel):
    """What taking a payment for an order needs to know of it."""

    id: UUID
    number: str
    user_id: str
    status: str
    payment_status: str
    currency: str
    total: Decimal
    expires_at: datetime | None


class OrderForPayment(AppModel):
    """The parent read under its row lock when a payment succeeds."""

    id: UUID
    user_id: str
    status: str
    payment_status: str
    expired_by_timer: bool


class RefundableItem(AppModel):
    """An item with its child order's money, as a refund computes its amount."""

    id: UUID
    order_id: UUID
    seller_order_id: UUID
    seller_id: UUID
    unit_price: Decimal
    quantity: int
    refunded_quantity: int
    line_total: Decimal
    child_subtotal: Decimal
    child_tax: Decimal
    child_delivery_fee: Decimal
    child_total: Decimal
    child_refunded_amount: Decimal


class RefundUnits(AppModel):
    """Units of one item a refund claims (or gives back when the refund failed)."""

    item_id: UUID
    quantity: int


class ChildClaim(AppModel):
    """Money of one child order a refund claims."""

    seller_order_id: UUID
    amount: Decimal
