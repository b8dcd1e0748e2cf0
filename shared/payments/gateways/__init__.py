"""Payment gateway adapters behind one interface (`base.py`); `gateway_for(name)` picks one.

- `moyasar`: Moyasar's API with the configured keys (`MOYASAR_*` settings).
- `sandbox`: the same adapter against the dev host's Moyasar-compatible server
  (`SANDBOX_GATEWAY_BASE_URL`, `SANDBOX_WEBHOOK_SECRET`); not offered when `SOUQ_ENV` is
  staging or production, so a sandbox webhook can never reach a real deployment's data.

`PAYMENT_GATEWAY` names the one new checkouts use (`default_gateway()`); webhooks and stored
payments name theirs, so a payment created under one keeps working after the setting changes.

Importing this package loads only the interface: the adapters (and httpx, tenacity) load on the
first `gateway_for`, so the app's cold start does not pay for them.
"""

from __future__ import annotations

from shared.payments.gateways.base import (
    Checkout,
    GatewayError,
    GatewayMisconfigured,
    GatewayPayment,
    GatewayRejected,
    GatewayUnavailable,
    PaymentGateway,
    WebhookEvent,
    WebhookUnauthenticated,
)
from shared.platform.config import get_settings

__all__ = [
    "Checkout",
    "GatewayError",
    "GatewayMisconfigured",
    "GatewayPayment",
    "GatewayRejected",
    "GatewayUnavailable",
    "PaymentGateway",
    "WebhookEvent",
    "WebhookUnauthenticated",
    "default_gateway",
    "gateway_for",
]

SANDBOX_ENVIRONMENTS = frozenset({"local", "test", "dev"})


def gateway_for(name: str) -> PaymentGateway:
    """The gateway called `name`; KeyError for an unknown one (the webhook route answers 404)."""
    from shared.payments.gateways.moyasar import MoyasarGateway
    from shared.payments.gateways.sandbox import sandbox_gateway

    settings = get_settings()
    if name == "moyasar":
        return MoyasarGateway(
            name="moyasar",
            base_url=settings.moyasar_base_url,
            secret_key=settings.moyasar_secret_key,
            publishable_key=settings.moyasar_publishable_key,
            webhook_secret=settings.moyasar_webhook_secret,
            timeout_seconds=settings.payment_http_timeout_seconds,
        )
    if name == "sandbox" and settings.souq_env in SANDBOX_ENVIRONMENTS:
        return sandbox_gateway(settings)
    raise KeyError(name)


def default_gateway() -> PaymentGateway:
    """The gateway new checkouts go to (`PAYMENT_GATEWAY`)."""
    return gateway_for(get_settings().payment_gateway)
