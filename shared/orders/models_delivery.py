"""How an order is delivered, shared by every body that places one (`PlaceOrder`, and an order
request accepted in a thread, shared.thread_orders)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

DeliveryMethod = Literal["delivery", "pickup"]

# Every body that places an order (PlaceOrder, an accepted order request): delivery needs an address.
DELIVERY_ONE_OF: dict[str, Any] = {
    "oneOf": [
        {
            "required": ["address_id"],
            "properties": {"delivery_method": {"const": "delivery"}, "address_id": {"type": "string"}},
        },
        {"properties": {"delivery_method": {"const": "pickup"}, "address_id": {"type": "null"}}},
    ]
}


def check_address_matches_method(delivery_method: DeliveryMethod, address_id: UUID | None) -> None:
    if delivery_method == "delivery" and address_id is None:
        raise ValueError("delivery orders need an address_id")
    if delivery_method == "pickup" and address_id is not None:
        raise ValueError("pickup orders take no address_id")
