"""Server-side pricing: line totals, per-seller delivery fee, VAT and totals (pure functions).

Catalog prices exclude VAT. VAT is charged on each child order's subtotal plus its delivery
fee (delivery is a taxable supply in KSA), rounded half-up to the halala per child order; the
parent's figures are the sums of its children's, so they always add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from shared.orders.models import ResolvedLine

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class ChildQuote:
    seller_id: UUID
    index: int
    lines: list[ResolvedLine] = field(default_factory=list)
    subtotal: Decimal = Decimal("0.00")
    delivery_fee: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.delivery_fee + self.tax


@dataclass
class Quote:
    children: list[ChildQuote]

    @property
    def subtotal(self) -> Decimal:
        return sum((c.subtotal for c in self.children), Decimal("0.00"))

    @property
    def delivery_fee(self) -> Decimal:
        return sum((c.delivery_fee for c in self.children), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((c.tax for c in self.children), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.delivery_fee + self.tax


def line_total(line: ResolvedLine) -> Decimal:
    assert line.unit_price is not None
    return money(line.unit_price * line.quantity)


def quote(
    lines: list[ResolvedLine],
    *,
    delivery: bool,
    vat_rate: Decimal,
    delivery_fee: Decimal,
    free_delivery_threshold: Decimal,
) -> Quote:
    """Group lines by seller (children numbered in order of first appearance) and price them."""
    children: dict[UUID, ChildQuote] = {}
    for line in lines:
        assert line.seller_id is not None
        child = children.setdefault(line.seller_id, ChildQuote(seller_id=line.seller_id, index=len(children) + 1))
        child.lines.append(line)
        child.subtotal += line_total(line)
    for child in children.values():
        if delivery and child.subtotal < free_delivery_threshold:
            child.delivery_fee = money(delivery_fee)
        child.tax = money((child.subtotal + child.delivery_fee) * vat_rate)
    return Quote(children=list(children.values()))
