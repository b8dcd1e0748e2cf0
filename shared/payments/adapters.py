"""The gateway adapters, imported on first use: they bring httpx, which the app must not load
when the host imports it (cold start, tests/unit/test_cold_start.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.payments.gateways.base import PaymentGateway


def gateway_for(name: str) -> PaymentGateway:
    """The adapter called `name`; KeyError for an unknown one."""
    from shared.payments import gateways

    return gateways.gateway_for(name)
