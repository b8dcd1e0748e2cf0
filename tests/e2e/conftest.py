"""One dev host per module, serving the real function_app over HTTP with its own database,
queue and Redis prefix. Timers are off (the tests run them on demand); queue polling is on,
with host.json overridden through app settings exactly as in Azure (2 dequeues, no delay)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from devhost.process import start_devhost
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER
from tests.conftest import TEST_CHANNEL_SECRETS_KEY
from tests.support import create_database, drop_database, free_port, unique

FUNCTION_KEY = "e2e-function-key"
MASTER_KEY = "e2e-master-key"


@pytest.fixture(scope="module")
def e2e_database(server_url, template_database):
    name = f"souq_e2e_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_database)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def host_settings(e2e_database) -> dict[str, str]:
    port = free_port()
    return {
        "PORT": str(port),
        "SOUQ_ENV": "test",
        "DATABASE_URL": e2e_database,
        "REDIS_KEY_PREFIX": f"e2e:{uuid.uuid4().hex[:8]}:",
        "DOMAIN_EVENTS_QUEUE": unique("e2e-events"),
        "ORDER_EVENTS_QUEUE": unique("e2e-order-events"),
        "PAYMENT_EVENTS_QUEUE": unique("e2e-payment-events"),
        "CHANNEL_INBOUND_QUEUE": unique("e2e-channel-inbound"),
        "CHANNEL_OUTBOUND_QUEUE": unique("e2e-channel-outbound"),
        "CHANNEL_SECRETS_KEY": TEST_CHANNEL_SECRETS_KEY,
        "AUTH_ISSUER": DEV_ISSUER,
        "AUTH_AUDIENCE": DEV_AUDIENCE,
        "AUTH_JWKS_URL": f"http://127.0.0.1:{port}/.dev/jwks.json",
        "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
        "DEVHOST_MASTER_KEY": MASTER_KEY,
        "LOG_LEVEL": "WARNING",
        "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "2",
        "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:00",
        "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.5",
    }


@pytest.fixture(scope="module")
def devhost(host_settings, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("devhost") / "devhost.log"
    host = start_devhost(host_settings, port=int(host_settings["PORT"]), log_path=log_path, extra_args=("--no-timers",))
    yield host
    host.stop()


@pytest.fixture
def client(devhost):
    with httpx.Client(base_url=devhost.base_url, timeout=10) as session:
        yield session
