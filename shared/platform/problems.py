"""RFC 9457 problem details: the one body shape of every non-2xx answer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from shared.platform.errors import DomainError, FieldError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:souq:problem:"


def problem_body(
    *,
    status: int,
    title: str,
    detail: str,
    code: str,
    invocation_id: str | None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "invocation_id": invocation_id,
    }
    if errors:
        body["errors"] = [{"path": e.path, "message": e.message, "code": e.code} for e in errors]
    body.update(extra or {})
    return json.dumps(body, default=str)


def problem_from_error(error: DomainError, invocation_id: str | None) -> str:
    return problem_body(
        status=error.status,
        title=error.title,
        detail=error.detail,
        code=error.code,
        invocation_id=invocation_id,
        errors=error.errors,
        extra=error.extra,
    )


def field_errors_from_pydantic(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """pydantic's `loc` tuples become slash paths: ('lines', 2, 'quantity') → lines/2/quantity."""
    result = []
    for item in errors:
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "__root__")]
        path = "/".join(loc) or "body"
        code = item.get("type", "invalid")
        cleared = loc and "input" in item and item["input"] is None  # null for a field that takes none
        message = "cannot be null" if cleared else None
        result.append(FieldError(path=path, message=message or item.get("msg", "invalid"), code=code))
    return result
