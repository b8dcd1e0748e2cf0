"""Child-order status and delivery-status transitions: one table says which from → to is allowed
and for whom. Every transition is a conditional write on the version the caller read, writes a
history row and an outbox event in the same transaction, and re-derives the parent's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from shared.platform.auth import ADMIN_ROLES, Principal
from shared.platform.base_model import AppModel

Actor = Literal["customer", "seller", "admin"]
SELLER_OR_ADMIN: frozenset[Actor] = frozenset({"seller", "admin"})
ADMIN: frozenset[Actor] = frozenset({"admin"})
ANYONE: frozenset[Actor] = frozenset({"customer", "seller", "admin"})

# field → from → {to: who may}. The customer may cancel only before PROCESSING.
TRANSITIONS: dict[str, dict[str, dict[str, frozenset[Actor]]]] = {
    "status": {
        "PENDING": {"CONFIRMED": SELLER_OR_ADMIN, "CANCELLED": ANYONE},
        "CONFIRMED": {"PROCESSING": SELLER_OR_ADMIN, "CANCELLED": ANYONE},
        "PROCESSING": {
            "READY_FOR_PICKUP": SELLER_OR_ADMIN,
            "OUT_FOR_DELIVERY": SELLER_OR_ADMIN,
            "CANCELLED": SELLER_OR_ADMIN,
        },
        "READY_FOR_PICKUP": {"DELIVERED": SELLER_OR_ADMIN, "CANCELLED": ADMIN},
        "OUT_FOR_DELIVERY": {"DELIVERED": SELLER_OR_ADMIN, "CANCELLED": ADMIN},
        "DELIVERED": {"REFUNDED": ADMIN},
        "CANCELLED": {"REFUNDED": ADMIN},
        "REFUNDED": {},
    },
    "delivery_status": {
        "PENDING": {"ASSIGNED": SELLER_OR_ADMIN},
        "ASSIGNED": {"PICKED_UP": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "PICKED_UP": {"IN_TRANSIT": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "IN_TRANSIT": {"OUT_FOR_DELIVERY": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "OUT_FOR_DELIVERY": {"DELIVERED": SELLER_OR_ADMIN, "FAILED": SELLER_OR_ADMIN},
        "FAILED": {"ASSIGNED": SELLER_OR_ADMIN, "RETURNED": SELLER_OR_ADMIN},
        "DELIVERED": {},
        "RETURNED": {},
    },
}
# A pickup order is never out for delivery; a delivery order is never ready for pickup.
NOT_FOR_METHOD = {"pickup": {"OUT_FOR_DELIVERY"}, "delivery": {"READY_FOR_PICKUP"}}


class TransitionRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal["status", "delivery_status"] = "status"
    to: str = Field(min_length=1, max_length=30)
    version: int = Field(ge=1, description="the child order's version you last read")
    reason: str | None = Field(default=None, max_length=500)


class CancelRequest(AppModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="the order's version you last read")
    reason: str | None = Field(default=None, max_length=500)


@dataclass(frozen=True)
class Party:
    """Who is acting, as the transition table knows them."""

    actor: Actor
    actor_id: str
    seller_id: UUID | None = None

    @classmethod
    def of(cls, principal: Principal, *, as_seller: bool) -> Party:
        if principal.has_any_role(ADMIN_ROLES):
            return cls("admin", principal.user_id)
        if as_seller:
            return cls("seller", principal.user_id, UUID(principal.seller_id) if principal.seller_id else None)
        return cls("customer", principal.user_id)


def allowed_targets(field: str, current: str, actor: Actor, delivery_method: str) -> list[str]:
    targets = TRANSITIONS[field].get(current, {})
    excluded = NOT_FOR_METHOD[delivery_method] if field == "status" else set()
    return sorted(to for to, who in targets.items() if actor in who and to not in excluded)


def derive_parent_status(child_statuses: list[str]) -> str:
    """The parent's status from its children's."""
    live = [s for s in child_statuses if s not in ("CANCELLED", "REFUNDED")]
    if not live:
        return "REFUNDED" if child_statuses and all(s == "REFUNDED" for s in child_statuses) else "CANCELLED"
    if all(s == "DELIVERED" for s in live):
        return "COMPLETED"
    return "PENDING" if all(s == "PENDING" for s in live) else "IN_PROGRESS"


class TransitionResult(AppModel):
    seller_order_id: UUID
    status: str
    delivery_status: str
    version: int
