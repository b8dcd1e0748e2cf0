"""The sandbox gateway: the Moyasar adapter pointed at the dev host's Moyasar-compatible server.

`devhost/sandbox_gateway.py` answers Moyasar's JSON at `SANDBOX_GATEWAY_BASE_URL` and lets a
tester approve or decline a checkout, then delivers the webhook in Moyasar's shape with
`SANDBOX_WEBHOOK_SECRET` as its `secret_token`. So `make run` and the e2e tests take the real
path: the only differences from Moyasar are the name ("sandbox"), the base URL, the keys below
and the webhook secret. Never offered in production (`gateway_for` refuses the name there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.payments.gateways.moyasar import MoyasarGateway

if TYPE_CHECKING:
    from shared.platform.settings_model import Settings

# The sandbox server's own API keys: not secrets, they open only that local fake.
SANDBOX_SECRET_KEY = "sk_test_sandbox"
SANDBOX_PUBLISHABLE_KEY = "pk_test_sandbox"


def sandbox_gateway(settings: Settings) -> MoyasarGateway:
    return MoyasarGateway(
        name="sandbox",
        base_url=settings.sandbox_gateway_base_url,
        secret_key=SANDBOX_SECRET_KEY,
        publishable_key=SANDBOX_PUBLISHABLE_KEY,
        webhook_secret=settings.sandbox_webhook_secret,
        timeout_seconds=settings.payment_http_timeout_seconds,
    )
