"""The OpenAPI document covers exactly the HTTP functions the worker indexes."""

import json
import subprocess
import sys

import azure.functions as func
import pytest

from function_app import app
from shared.platform.http import ENDPOINTS
from shared.platform.openapi import build_openapi, registered_functions

# What the worker does at indexing time, in a fresh interpreter (get_functions runs once per app).
INDEX_SCRIPT = """
import json, function_app
out = []
for f in function_app.app.get_functions():
    t = f.get_trigger().get_dict_repr()
    if t["type"] == "httpTrigger":
        out.append([f.get_function_name(), [str(getattr(m, "value", m)) for m in t.get("methods") or ["GET"]]])
print(json.dumps(out))
"""


def indexed_http_functions() -> dict[str, list[str]]:
    output = subprocess.run([sys.executable, "-c", INDEX_SCRIPT], capture_output=True, text=True, check=True)
    return dict(json.loads(output.stdout))


def test_every_indexed_http_function_is_documented_once_with_its_methods():
    document = build_openapi(app)
    operations = {
        op["operationId"]: method.upper() for path in document["paths"].values() for method, op in path.items()
    }
    indexed = indexed_http_functions()
    indexed.pop("route_fallback")  # the catch-all for unknown routes is no API operation
    assert set(operations) == set(indexed)
    for name, methods in indexed.items():
        assert [operations[name]] == [m.upper() for m in methods]
        assert name in ENDPOINTS, f"{name} is not declared with @endpoint"


def test_schemas_resolve_and_guid_routes_are_uuid_parameters():
    document = build_openapi(app)
    assert document["openapi"] == "3.1.0"
    refs = {v for v in _walk(document) if isinstance(v, str) and v.startswith("#/components/schemas/")}
    assert refs and all(ref.rsplit("/", 1)[1] in document["components"]["schemas"] for ref in refs)
    patch = document["paths"]["/api/me/addresses/{id}"]["patch"]
    assert patch["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
    assert patch["security"] == [{"bearer": []}]
    assert document["paths"]["/api/ops/outbox/relay"]["post"]["security"] == [{"bearer": [], "functionKey": []}]


def _walk(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
    else:
        yield node


def test_fallback_knows_which_methods_a_path_allows():
    from shared.platform.openapi import methods_for_path

    assert methods_for_path(app, "me/addresses") == ["GET", "POST"]
    assert methods_for_path(app, "me/addresses/6f1c1a2e-0000-4000-8000-000000000001") == ["DELETE", "PATCH"]
    assert methods_for_path(app, "me/addresses/not-a-guid") == []
    assert methods_for_path(app, "HEALTH") == ["GET"]
    assert methods_for_path(app, "nothing") == []


def test_no_route_starts_with_the_hosts_reserved_admin_prefix():
    # The Functions host refuses routes starting with "admin", even under /api; hence /api/ops
    # and /api/catalog for what admins use.
    from shared.platform.openapi import http_routes

    routes = {route for _, _, route, _ in http_routes(app)}
    assert "ops/orders" in routes and "catalog/products" in routes
    assert not [route for route in routes if route.lower().lstrip("/").startswith("admin")]


def test_functions_are_listed_after_the_worker_indexed_the_app_and_its_name_check_still_holds():
    probe = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @probe.route(route="ping")
    def ping(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("pong")

    indexed = [f.get_function_name() for f in probe.get_functions()]  # what the worker does first
    assert [f.get_function_name() for f in registered_functions(probe)] == indexed == ["ping"]
    with pytest.raises(ValueError, match="unique"):  # the SDK's own record is intact
        probe.get_functions()
