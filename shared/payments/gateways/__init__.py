"""Payment gateways: `gateway_for(name)` picks the adapter for a gateway name (KeyError when
there is none). Provisional registry until the adapters land (branch h-pay-gw)."""

from __future__ import annotations

from shared.payments.gateways.base import PaymentGateway

_GATEWAYS: dict[str, PaymentGateway] = {}


def gateway_for(name: str) -> PaymentGateway:
    return _GATEWAYS[name]
