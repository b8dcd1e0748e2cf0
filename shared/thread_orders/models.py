"""Order requests inside a thread and ORDER threads: what the API takes and returns, and the
typed rows the repo reads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from shared.orders.models import (
    DELIVERY_ONE_OF,
    MAX_QUANTITY_CEILING,
    DeliveryMethod,
    Order,
    check_address_matches_method,
)
from shared.platform.base_model import NOT_BLANK, WHOLE, AppModel
from shared.threads.models import BODY_MAX, PAGE_LIMIT_DEFAULT, MessageId, MessagePage, PageLimit

Status = Literal["PENDING", "ACCEPTED", "DECLINED", "CANCELLED", "EXPIRED"]
Decision = Literal["ACCEPTED", "DECLINED", "CANCELLED", "EXPIRED"]
MAX_LINES = 50
DEFAULT_VALID_HOURS = 48
MAX_VALID_HOURS = 24 * 14
CLIENT_ID = r"^[A-Za-z0-9._:-]{1,100}$"


# --- requests ------------------------------------------------------------------------------


class ProposedLine(AppModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: UUID = Field(description="one of my offers")
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY_CEILING), WHOLE]


class ProposeOrder(AppModel):
    """Nothing price-like is accepted: the server prices every line from the seller's offers."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ProposedLine] = Field(min_length=1, max_length=MAX_LINES)
    note: Annotated[str, Field(max_length=1000), NOT_BLANK] | None = None
    valid_for_hours: Annotated[int, Field(ge=1, le=MAX_VALID_HOURS), WHOLE] = Field(
        default=DEFAULT_VALID_HOURS, description="how long the shopper may accept it"
    )
    client_id: str | None = Field(
        default=None, pattern=CLIENT_ID, description="my id for this proposal: a retry with it finds the same request"
    )


class LinePrescription(AppModel):
    model_config = ConfigDict(extra="forbid")

    line_no: Annotated[int, Field(ge=1, le=MAX_LINES), WHOLE]
    prescription_id: UUID = Field(description="one of my APPROVED or PENDING prescriptions")


class AcceptOrderRequest(AppModel):
    """How the accepted order is delivered, as `POST /api/orders` takes it, and a prescription
    for each prescription-only line."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=DELIVERY_ONE_OF)

    delivery_method: DeliveryMethod
    address_id: UUID | None = Field(default=None, description="one of my addresses; required for delivery")
    customer_notes: str | None = Field(default=None, max_length=1000)
    prescriptions: list[LinePrescription] = Field(default_factory=list, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _address_matches_method(self) -> AcceptOrderRequest:
        check_address_matches_method(self.delivery_method, self.address_id)
        return self


# --- responses and rows --------------------------------------------------------------------


class RequestLine(AppModel):
    line_no: int
    offer_id: UUID
    variant_id: UUID
    product_id: UUID
    product_name_en: str
    product_name_ar: str
    sku: str
    requires_prescription: bool
    unit_price: Decimal = Field(description="the offer's price when proposed")
    quantity: int
    line_total: Decimal


class OrderRequest(AppModel):
    """Shown alike to the shopper and the seller: no user ids (a seller never learns the
    shopper's account id, as in its view of an order)."""

    id: UUID
    thread_id: UUID
    seller_id: UUID
    status: Status
    lines: list[RequestLine]
    subtotal: Decimal = Field(description="the lines' total when proposed, before VAT and delivery")
    currency: str
    note: str | None
    valid_until: datetime
    order_id: UUID | None = Field(description="the order its acceptance placed")
    decided_at: datetime | None = Field(description="when it left PENDING (who decided follows from the status)")
    version: int
    created_at: datetime
    updated_at: datetime


class AcceptedOrderRequest(AppModel):
    request: OrderRequest
    order: Order


class OrderRequestExpiryRun(AppModel):
    expired: int = 0
    batches: int = 0


# --- ORDER threads -------------------------------------------------------------------------


class PostOrderMessage(AppModel):
    """A message about a child order, into its ORDER thread (created by the first one). Replies
    and attachments go through the thread's own routes once it exists (`thread_id`)."""

    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, Field(min_length=1, max_length=BODY_MAX), NOT_BLANK] = Field(
        description="the text, up to 4,000 characters"
    )
    client_message_id: str | None = Field(
        default=None, pattern=CLIENT_ID, description="the client's id of this post: a retry returns the first post"
    )


class OrderThreadQuery(AppModel):
    """The latest messages, or those before a message id (keyset). Polling for newer ones
    (`after=`) is the thread's own route, at `thread_url`."""

    model_config = ConfigDict(extra="forbid")

    before: MessageId | None = None
    limit: PageLimit = PAGE_LIMIT_DEFAULT


class OrderThread(AppModel):
    """A child order's ORDER thread and its latest messages; no thread (and no messages) until
    the first message is posted."""

    thread_id: UUID | None
    thread_url: str | None = Field(
        description="the thread's messages under /api/threads (shopper) or /api/seller/threads"
    )
    messages: MessagePage


class DemoOffer(AppModel):
    """An offer the demo threads of `make run` talk about."""

    offer_id: UUID
    seller_id: UUID
    product_id: UUID
