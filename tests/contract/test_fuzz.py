"""Property-based contract tests: schemathesis generates requests from `/api/openapi.json`, valid
and invalid ones, for each role, and checks every answer against the document:

- no 5xx;
- every 4xx is problem+json;
- status, content type and body conform to the document;
- a request the document allows is not refused (positive_data_acceptance, 400/422/428 fail);
- a request the document forbids is refused (negative_data_rejection);
- a missing required header is refused.

Each role runs the operations its token may call (the document's `x-roles`); the others are
checked once each in test_denied_roles. New endpoints are covered the day they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.conftest import CASES, ROLES, load_schema, may_call, role_headers

PROBLEM_JSON = "application/problem+json"


def problem_json_on_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])
        value = content_type[0] if isinstance(content_type, list) else content_type
        assert value.startswith(PROBLEM_JSON), f"{response.status_code} answered as {value!r}, not {PROBLEM_JSON}"
        body = response.json()
        assert body.get("status") == response.status_code and body.get("code"), body
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    missing_required_header,
    problem_json_on_4xx,
]


API = load_schema()


def role_schema(role: str):
    return API.include(func=lambda ctx: may_call(ctx.operation.definition.raw, role))


@pytest.fixture(scope="module")
def credentials() -> dict[str, dict[str, str]]:
    return {role: role_headers(role) for role in ROLES}


@pytest.fixture(scope="module")
def keep_alive() -> Iterator[requests.Session]:
    """One connection for every case: schemathesis otherwise opens one per request and reads
    the environment's proxy settings each time (the same 21,269 cases: 4.2 min → 3.6)."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


# Refusals that no schema can express: a variant or category that does not exist (stored
# state), a `from` more than 366 days before today (the clock), or `from` after `to` (OpenAPI
# has no rule across query parameters). A 422 with these codes is not a schema-valid rejection.
STATE_CODES = {
    "unknown_reference",
    "invalid_lines",
    "date_range_too_long",
    "invalid_date_range",
    "invalid_prescriptions",  # an order line naming a prescription that is not the caller's
    "invalid_offers",  # an order request's line naming an offer that is not the seller's
    "invalid_prescription_lines",  # an acceptance naming a line the order request does not have
    "attachment_not_found",  # a post naming an attachment the caller did not upload to that thread
}
# Field codes of rules between two fields, which JSON Schema cannot compare: min_price above
# max_price, sort=relevance without q (query parameters), sale_price not below price (a body).
CROSS_FIELD_CODES = {"invalid_price_range", "relevance_needs_query", "sale_price_not_lower"}

CURSOR = re.compile(r"[A-Za-z0-9_-]*")


def beyond_any_schema(problem: dict[str, Any]) -> bool:
    field_codes = {error.get("code") for error in problem.get("errors") or []}
    return problem.get("code") in STATE_CODES or bool(field_codes & CROSS_FIELD_CODES)


def exercise(case, role: str, credentials, devhost, keep_alive) -> None:
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and isinstance(case.query, dict) and CURSOR.fullmatch(str(case.query.get("cursor", "!"))):
        case.query["cursor"] = ""  # opaque: only cursors the API issued are valid; "" is the first page
    excluded = []
    response = case.call(base_url=devhost.base_url, session=keep_alive, headers=credentials[role], timeout=30)
    CASES[role] += 1
    if response.status_code == 422 and beyond_any_schema(response.json()):
        excluded.append(positive_data_acceptance)
    case.validate_response(response, checks=[c for c in CHECKS if c not in excluded], headers=credentials[role])


@role_schema("anonymous").parametrize()
def test_anonymous(case, credentials, devhost, keep_alive):
    exercise(case, "anonymous", credentials, devhost, keep_alive)


@role_schema("customer").parametrize()
def test_customer(case, credentials, devhost, keep_alive):
    exercise(case, "customer", credentials, devhost, keep_alive)


@role_schema("seller").parametrize()
def test_seller(case, credentials, devhost, keep_alive):
    exercise(case, "seller", credentials, devhost, keep_alive)


@role_schema("pharmacist").parametrize()
def test_pharmacist(case, credentials, devhost, keep_alive):
    exercise(case, "pharmacist", credentials, devhost, keep_alive)


@role_schema("admin").parametrize()
def test_admin_with_function_key(case, credentials, devhost, keep_alive):
    exercise(case, "admin", credentials, devhost, keep_alive)


def example_path(path: str, operations: dict) -> str:
    """The path with each parameter filled by a value of its documented type (a uuid, an int)."""
    examples = {"integer": "1", "uuid": "00000000-0000-4000-8000-000000000000"}
    for operation in operations.values():
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path":
                schema = parameter.get("schema", {})
                value = examples.get(schema.get("format") or schema.get("type"), "x")
                path = path.replace("{" + parameter["name"] + "}", value)
    return path


def test_denied_roles_get_401_or_403_problems(devhost, credentials):
    """Every operation a role may not call answers 401 (no token) or 403 (wrong role) as problem+json."""
    document = httpx.get(f"{devhost.base_url}/api/openapi.json").json()
    checked = 0
    with httpx.Client(base_url=devhost.base_url, timeout=30) as client:
        for path, operations in document["paths"].items():
            url = example_path(path, operations)
            for method, operation in operations.items():
                for role in ROLES:
                    if may_call(operation, role):
                        continue
                    response = client.request(method.upper(), url, headers=credentials[role], json={})
                    expected = 401 if role == "anonymous" else 403
                    assert response.status_code in (expected, 401), (method, path, role, response.status_code)
                    assert response.headers["content-type"].startswith(PROBLEM_JSON)
                    checked += 1
    assert checked
