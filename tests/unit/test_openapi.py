"""The OpenAPI document covers exactly the HTTP functions the worker indexes."""

import functools
import json
import re
import subprocess
import sys

import azure.functions as func
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from function_app import app
from shared.platform.base_model import NO_NUL, POSITIVE_MONEY
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
    relay = document["paths"]["/api/ops/outbox/relay"]["post"]
    assert relay["security"] == [{"bearer": ["admin", "super_admin"], "functionKey": []}]
    assert relay["x-roles"] == ["admin", "super_admin"]


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


def _operation(document, name):
    return next(op for path in document["paths"].values() for op in path.values() if op["operationId"] == name)


def _header(operation, name):
    return next(p for p in operation["parameters"] if p["in"] == "header" and p["name"] == name)


def test_required_headers_and_security_schemes_are_declared():
    document = build_openapi(app)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["bearerFormat"] == "JWT"
    assert schemes["functionKey"] == {"type": "apiKey", "in": "header", "name": "x-functions-key"}
    place = _operation(document, "place_order")
    assert _header(place, "Idempotency-Key")["required"] is True
    assert _header(place, "Idempotency-Key")["schema"]["maxLength"] == 255
    deactivate = _operation(document, "deactivate_brand")
    assert _header(deactivate, "If-Match")["required"] is True
    assert {"409", "428"} <= set(deactivate["responses"])
    # Updates: the version in the body (If-Match is the alternative the description names).
    assert document["components"]["schemas"]["BrandPatch"]["required"] == ["version"]
    assert _operation(document, "get_me")["x-roles"] == ["any signed-in caller"]
    assert "security" not in _operation(document, "list_products")


def test_error_statuses_follow_from_what_each_endpoint_declares():
    document = build_openapi(app)
    statuses = {
        name: set(_operation(document, name)["responses"])
        for name in ("list_products", "get_my_order", "transition_seller_order", "health")
    }
    assert statuses["list_products"] == {"default", "200", "422"}
    assert statuses["get_my_order"] == {"default", "200", "401", "404"}
    assert statuses["transition_seller_order"] == {
        "default",
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "415",
        "422",
    }
    assert statuses["health"] == {"default", "200"}
    problem = _operation(document, "place_order")["responses"]["422"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_links_lead_from_create_operations_to_operations_that_take_their_id():
    document = build_openapi(app)
    links = {
        (op["operationId"], link["operationId"], parameter, expression)
        for path in document["paths"].values()
        for op in path.values()
        for response in op["responses"].values()
        for link in response.get("links", {}).values()
        for parameter, expression in link["parameters"].items()
    }
    assert ("add_my_address", "update_my_address", "id", "$response.body#/id") in links
    assert ("place_order", "get_my_order", "id", "$response.body#/id") in links
    assert ("create_product", "create_variant", "id", "$response.body#/id") in links
    for _, target, parameter, _ in links:
        assert parameter in {p["name"] for p in _operation(document, target)["parameters"]}


def test_enums_patterns_bounds_and_cross_field_rules_are_in_the_schemas():
    schemas = build_openapi(app)["components"]["schemas"]
    transition = schemas["TransitionRequest"]
    assert "REFUNDED" in transition["properties"]["to"]["enum"] and "0" not in transition["properties"]["to"]["enum"]
    assert [branch["properties"]["field"]["const"] for branch in transition["oneOf"]] == ["status", "delivery_status"]
    place = schemas["PlaceOrder"]
    delivery = next(b for b in place["oneOf"] if b["properties"]["delivery_method"]["const"] == "delivery")
    assert delivery["required"] == ["address_id"]
    assert [sorted(branch["required"]) for branch in schemas["MarkRead"]["oneOf"]] == [["ids"], ["all"]]
    assert schemas["AddressFields"]["properties"]["mobile"]["pattern"].startswith("^(\\+966|0)5")
    assert {"required": ["city"]} in schemas["AddressPatch"]["anyOf"]  # at least one field to change
    assert schemas["AddressPatch"]["properties"]["city"]["type"] == "string"  # never null
    assert schemas["CategoryFields"]["properties"]["slug_en"]["pattern"]
    assert schemas["OfferPut"]["properties"]["on_hand"] == {
        "description": "units on the shelf; never below what is reserved",
        "maximum": 1000000,
        "minimum": 0,
        "title": "On Hand",
        "type": "integer",
    }
    orders = build_openapi(app)["paths"]["/api/orders"]["get"]["parameters"]
    cursor = next(p for p in orders if p["name"] == "cursor")["schema"]
    assert cursor["format"] == "cursor" and cursor["pattern"] == "^[A-Za-z0-9_-]*$" and cursor["type"] == "string"


def _string_patterns(node, found: set[str]) -> set[str]:
    if isinstance(node, list):
        for item in node:
            _string_patterns(item, found)
    elif isinstance(node, dict):
        if node.get("type") == "string" and "pattern" in node:
            found.add(node["pattern"])
        for value in node.values():
            _string_patterns(value, found)
    return found


def test_every_negated_class_of_every_pattern_refuses_nul():
    patterns = _string_patterns(build_openapi(app), set())
    assert len(patterns) > 10
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        for negated in re.finditer(r"(?<!\\)\[\^", pattern):
            assert pattern[negated.end() :].startswith(NO_NUL), pattern


@functools.cache
def _document_patterns() -> list[str]:
    """Built once: the document takes about half a second, hypothesis draws hundreds of times."""
    return sorted(_string_patterns(build_openapi(app), set()))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_pattern_admits_a_text_with_nul(data):
    """The request edge refuses NUL in every text (422 invalid_text), so must the document: a
    text the pattern admits, with NUL put anywhere, is admitted no more."""
    pattern = data.draw(st.sampled_from(_document_patterns()))
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    at = data.draw(st.integers(0, len(text)))
    assert not re.search(pattern, text[:at] + "\x00" + text[at:]), (pattern, text)


def test_the_order_limits_in_the_document_are_this_deployments_settings(minimal_settings):
    minimal_settings.setenv("ORDER_MAX_LINES", "7")
    minimal_settings.setenv("ORDER_MAX_QUANTITY_PER_LINE", "3")
    from shared.platform.config import reset_settings

    reset_settings()
    schemas = build_openapi(app)["components"]["schemas"]
    assert schemas["PlaceOrder"]["properties"]["lines"]["maxItems"] == 7
    assert schemas["OrderLineIn"]["properties"]["quantity"]["maximum"] == 3


def test_amounts_are_strings_with_a_pattern_never_numbers():
    schemas = build_openapi(app)["components"]["schemas"]
    price = schemas["OfferPut"]["properties"]["price"]["anyOf"][0]
    assert price["type"] == "string" and price["pattern"] == POSITIVE_MONEY
