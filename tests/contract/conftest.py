"""The contract suite's dev host: the real app over HTTP with its own database (the e2e
fixtures), its OpenAPI document loaded by schemathesis, and one credential set per role."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter

import schemathesis
from schemathesis import GenerationMode

from scripts.dev_tokens import mint_token
from tests.e2e.conftest import FUNCTION_KEY, devhost, e2e_database, host_settings  # noqa: F401 - fixtures
from tests.payments_support import sandbox, sandbox_server  # noqa: F401 - fixtures

# Examples per operation and role: small in `make test` (about a minute on 2 cores),
# large in `make fuzz` (CONTRACT_EXAMPLES=2000, random seeds).
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
DETERMINISTIC = os.environ.get("CONTRACT_RANDOM", "") != "1"
ROLES = ("anonymous", "customer", "seller", "pharmacist", "admin")
# Requests sent per role (test_fuzz.exercise counts them), printed at the end of the run.
CASES: Counter[str] = Counter()
STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter) -> None:
    if CASES:
        per_role = ", ".join(f"{role} {CASES[role]}" for role in ROLES if CASES[role])
        minutes = (time.monotonic() - STARTED) / 60
        terminalreporter.write_line(
            f"contract cases: {sum(CASES.values())} ({per_role}), {EXAMPLES} examples per operation and role, "
            f"{'deterministic' if DETERMINISTIC else 'random'}, {minutes:.1f} min"
        )


def role_headers(role: str) -> dict[str, str]:
    """What a caller of `role` sends: admins also carry the function key."""
    if role == "anonymous":
        return {}
    seller_id = str(uuid.uuid4()) if role == "seller" else None
    headers = {"Authorization": f"Bearer {mint_token(role=role, seller_id=seller_id, ttl_seconds=7200)}"}
    if role == "admin":
        headers["x-functions-key"] = FUNCTION_KEY
    return headers


def may_call(operation: dict, role: str) -> bool:
    """Whether the document says `role` may call the operation (x-roles; no security: anyone)."""
    security = operation.get("security") or [{}]
    if not any("bearer" in requirement for requirement in security):
        return True
    if role == "anonymous":
        return False
    roles = operation.get("x-roles", [])
    return "any signed-in caller" in roles or role in roles


def load_schema():
    """The document the dev host serves (`GET /api/openapi.json` returns this same build), loaded
    at collection so that each operation is a test item of its own."""
    from function_app import app
    from shared.platform.openapi import build_openapi

    schema = schemathesis.openapi.from_dict(build_openapi(app))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        deterministic=DETERMINISTIC,
        database="none",
        # The suite sends each role's credentials itself; test_denied_roles covers their absence.
        with_security_parameters=False,
    )
    # A missing If-Match is 428 Precondition Required (RFC 6585), the status for exactly that.
    schema.config.checks.missing_required_header.expected_statuses += ["428"]
    return schema
