"""Every registered HTTP operation against every kind of caller (tests/integration/authz_matrix.py).

The requests go through the dev host's ASGI app in-process: its router and function-key check
in front of the real function_app, like `make run`. One database for the whole module."""

from __future__ import annotations

import contextlib
import os
import uuid

import httpx
import pytest
import pytest_asyncio

from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER
from tests.conftest import TEST_CHANNEL_SECRETS_KEY
from tests.integration.authz_matrix import (
    COLUMNS,
    DOC,
    KEY_MISSING,
    MATRIX,
    Operation,
    document_with_table,
)
from tests.integration.authz_world import BUILDERS, FUNCTION_KEY, World, build, build_world
from tests.integration.conftest import violations_in
from tests.order_support import stocked_catalog
from tests.payments_support import running_sandbox
from tests.support import bearer, create_database, drop_database, unique


def test_every_registered_route_is_in_the_matrix_once():
    """A new endpoint fails here until its row is added (and docs/security.md regenerated)."""
    from function_app import app
    from shared.platform.openapi import http_routes

    registered = {(name, method, route): level for name, method, route, level in http_routes(app)}
    declared = [(op.name, op.method, op.route) for op in MATRIX]
    assert len(declared) == len(set(declared)), "a row is declared twice"
    assert sorted(set(registered) - set(declared)) == [], "registered but not in authz_matrix.py"
    assert sorted(set(declared) - set(registered)) == [], "in authz_matrix.py but not registered"
    assert {op.name: op.key for op in MATRIX} == {
        name: level == "function" for (name, _, _), level in registered.items()
    }
    assert sorted(BUILDERS) == sorted(op.name for op in MATRIX), "every row needs a request in authz_world.py"


def test_docs_security_md_shows_the_matrix():
    text = DOC.read_text(encoding="utf-8")
    assert text == document_with_table(text), "run: python -m tests.integration.authz_matrix --write"


def _dev_host():
    from devhost.host import DevHost
    from function_app import app
    from shared.platform.hostjson import HOST_JSON, HostConfig

    # The dev host indexes with app.get_functions(), which records names to refuse duplicates:
    # set the record aside, as shared.platform.openapi.registered_functions does.
    indexed, app.functions_bindings = app.functions_bindings, None
    try:
        return DevHost(app, HostConfig.load(HOST_JSON), enable_timers=False, enable_queues=False)
    finally:
        app.functions_bindings = indexed


def _env(name: str) -> str:
    return os.environ[name]  # set by `make test` (scripts/dev.py)


def _settings(database_url: str, jwks_url: str, redis_url: str, storage: str) -> dict[str, str]:
    return {
        "PAYMENT_EVENTS_QUEUE": unique("matrix-payment-events"),
        "SOUQ_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"matrix:{uuid.uuid4().hex[:10]}:",
        "REDIS_TIMEOUT_MS": "1000",
        "REDIS_CONNECT_TIMEOUT_MS": "2000",
        "AzureWebJobsStorage": storage,
        "AUTH_ISSUER": DEV_ISSUER,
        "AUTH_AUDIENCE": DEV_AUDIENCE,
        "AUTH_JWKS_URL": jwks_url,
        "DOMAIN_EVENTS_QUEUE": unique("matrix-events"),
        "ORDER_EVENTS_QUEUE": unique("matrix-order-events"),
        "CHANNEL_INBOUND_QUEUE": unique("matrix-channel-inbound"),
        "CHANNEL_OUTBOUND_QUEUE": unique("matrix-channel-outbound"),
        "CHANNEL_SECRETS_KEY": TEST_CHANNEL_SECRETS_KEY,
        "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(server_url, template_database, jwks_url):
    from devhost.asgi import DevHostApp
    from shared import storage
    from shared.cache import store as cache
    from shared.data import db
    from shared.events import relay
    from shared.platform import auth
    from shared.platform.config import reset_settings
    from tests.catalog_support import put_offer

    name = f"souq_matrix_{uuid.uuid4().hex[:10]}"
    database_url = create_database(server_url, name, template=template_database)
    env = pytest.MonkeyPatch()
    settings = _settings(database_url, jwks_url, _env("REDIS_URL"), _env("AzureWebJobsStorage"))
    stack = contextlib.ExitStack()
    sandbox = stack.enter_context(running_sandbox())
    for key, value in (settings | sandbox.settings()).items():
        env.setenv(key, value)
    reset_settings()
    auth.reset_caches()
    try:
        catalog = await stocked_catalog(database_url)
        for seller, product in [("nahdi", "vitamin"), ("dawaa", "panadol")]:  # room for every cell's order
            status, body = await put_offer(catalog, seller, product, on_hand=500)
            assert status == 200, body
        host = _dev_host()
        transport = httpx.ASGITransport(app=DevHostApp(host))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            world = await build_world(client, host, catalog)
            world.sandbox, world.payment_queue = sandbox, settings["PAYMENT_EVENTS_QUEUE"]
            yield world
        await relay.wait_for_background_relay()
        violations = violations_in(database_url)
        assert not violations, f"consistency violations after the matrix: {violations}"
    finally:
        await relay.wait_for_background_relay()
        await db.close_pools()
        await cache.close_cache()
        await storage.close_storage_clients()
        env.undo()
        reset_settings()
        stack.close()
        drop_database(server_url, name)


def _outcome(response: httpx.Response) -> str:
    if response.status_code < 400:
        return str(response.status_code)
    return f"{response.status_code} {response.json().get('code')}"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("op", MATRIX, ids=[op.label for op in MATRIX])
async def test_each_caller_gets_the_declared_status(op: Operation, world: World):
    expected = {column: str(op.expect[column]) for column in COLUMNS}
    got = {}
    for column in COLUMNS:
        request = await build(op.name, world)
        assert world.routed_to(request) == op.name, f"{request.method} /api/{request.path} is not {op.label}"
        response = await world.send(request, column, key=op.key)
        outcome = _outcome(response)
        got[column] = outcome if outcome.split()[0] != expected[column] else expected[column]
        assert response.status_code < 400 or response.headers["content-type"] == "application/problem+json"
    if op.key:  # the same request from an admin, without the key
        response = await world.send(await build(op.name, world), "admin", key=False)
        expected["admin without the key"] = f"{KEY_MISSING} function_key_required"
        got["admin without the key"] = _outcome(response)
    assert got == expected


@pytest.mark.asyncio(loop_scope="module")
async def test_a_seller_token_with_a_malformed_seller_id_is_refused_on_every_seller_route(world: World):
    headers = bearer("seller", sub="matrix-odd-seller", seller_id="not-a-uuid")
    outcomes = {}
    for op in (op for op in MATRIX if op.expect["seller"] < 300 and op.expect["customer"] == 403):
        request = await build(op.name, world)
        response = await world.client.request(
            request.method, f"/api/{request.path}", json=request.body, params=request.params, headers=headers
        )
        outcomes[op.label] = _outcome(response)
    assert [label for label, outcome in outcomes.items() if not outcome.startswith("4")] == [], outcomes
