"""Domain errors with a stable `code` and an HTTP status; `shared.platform.http` renders them
as RFC 9457 problem+json. Domain packages raise these and never import azure.functions.

Codes are members of a `StrEnum`: the platform's below, and each domain's in its
`errors.py`. `error_code_catalog()` finds them all for the OpenAPI document, so a code that
is raised is a code that is documented.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PlatformError(StrEnum):
    """Codes any endpoint may answer with, whatever its domain."""

    BAD_REQUEST = "bad_request"
    MALFORMED_REQUEST = "malformed_request"
    VALIDATION_FAILED = "validation_failed"
    INVALID_CURSOR = "invalid_cursor"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    VERSION_REQUIRED = "version_required"
    DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
    INTERNAL_ERROR = "internal_error"
    MISSING_BODY = "missing_body"
    MALFORMED_JSON = "malformed_json"
    MISSING_TOKEN = "missing_token"
    INVALID_TOKEN = "invalid_token"
    TOKEN_EXPIRED = "token_expired"
    UNKNOWN_SIGNING_KEY = "unknown_signing_key"
    ROUTE_NOT_FOUND = "route_not_found"
    TRANSACTION_CONFLICT = "transaction_conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_TEXT = "invalid_text"
    NOTHING_TO_CHANGE = "nothing_to_change"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class FieldError:
    """One validation problem: a JSON-pointer-ish path (`mobile`, `lines/2/quantity`).
    `code` is a domain code, or pydantic's error type for schema validation."""

    path: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    status: int = 400
    title: str = "Bad Request"
    code: StrEnum = PlatformError.BAD_REQUEST

    def __init__(
        self,
        detail: str,
        *,
        code: StrEnum | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors or []
        self.extra = extra or {}


class MalformedRequest(DomainError):
    status, title, code = 400, "Bad Request", PlatformError.MALFORMED_REQUEST


class ValidationFailed(DomainError):
    status, title, code = 422, "Unprocessable Content", PlatformError.VALIDATION_FAILED


class PayloadTooLarge(DomainError):
    status, title, code = 413, "Content Too Large", PlatformError.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(DomainError):
    status, title, code = 415, "Unsupported Media Type", PlatformError.UNSUPPORTED_MEDIA_TYPE


class Unauthorized(DomainError):
    status, title, code = 401, "Unauthorized", PlatformError.UNAUTHORIZED


class Forbidden(DomainError):
    status, title, code = 403, "Forbidden", PlatformError.FORBIDDEN


class NotFound(DomainError):
    status, title, code = 404, "Not Found", PlatformError.NOT_FOUND


class MethodNotAllowed(DomainError):
    status, title, code = 405, "Method Not Allowed", PlatformError.METHOD_NOT_ALLOWED

    def __init__(self, detail: str, *, allowed: list[str]) -> None:
        super().__init__(detail)
        self.allowed = allowed


class Conflict(DomainError):
    status, title, code = 409, "Conflict", PlatformError.CONFLICT


class PreconditionRequired(DomainError):
    """An update without the version it was based on (optimistic locking needs it)."""

    status, title, code = 428, "Precondition Required", PlatformError.VERSION_REQUIRED


class TooManyRequests(DomainError):
    """The caller sends faster than its limit allows: 429 with `Retry-After` in seconds."""

    status, title, code = 429, "Too Many Requests", PlatformError.RATE_LIMITED

    def __init__(self, detail: str, *, retry_after: int, code: StrEnum | None = None) -> None:
        super().__init__(detail, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after


# Letters, spaces, parentheses, commas, hyphens and underscores: "postgresql",
# "identity provider (JWKS)", "postgresql, storage". Nothing an address or a message needs.
DEPENDENCY_NAME = re.compile(r"[A-Za-z][A-Za-z ()_,-]{0,63}")
GENERIC_DEPENDENCY = "a dependency"


class DependencyUnavailable(DomainError):
    """PostgreSQL, Redis or Storage cannot be reached: the client should retry later.

    The problem names the dependency and nothing else: never an address, a driver's message or
    an exception text (raise it `from` the driver's error; the 503 rendering logs that cause).
    A name that looks like more than a name (digits, dots, colons, slashes: an address or a
    message) is replaced by a generic one, so a careless caller cannot leak through it."""

    status, title, code = 503, "Service Unavailable", PlatformError.DEPENDENCY_UNAVAILABLE

    def __init__(self, dependency: str, *, retry_after: int = 5) -> None:
        name = dependency if DEPENDENCY_NAME.fullmatch(dependency) else GENERIC_DEPENDENCY
        super().__init__(f"{name} is unavailable; retry shortly", extra={"dependency": name})
        self.dependency = name
        self.retry_after = retry_after


def error_code_catalog() -> dict[str, list[str]]:
    """Every error code the API can answer with, by the enum that defines it: the platform's
    and each `shared.<package>.errors` (and `errors_<part>`) module's StrEnums (found, not
    listed, so a new domain cannot forget to register)."""
    import shared

    enums: list[type[StrEnum]] = [PlatformError]
    for name in _error_modules(shared.__path__):
        if importlib.util.find_spec(name) is not None:
            module = importlib.import_module(name)
            enums += [
                v
                for v in vars(module).values()
                if isinstance(v, type)
                and issubclass(v, StrEnum)
                and v is not StrEnum
                and v.__module__ == module.__name__
            ]
    return {enum.__name__: [member.value for member in enum] for enum in enums}


def _error_modules(paths: Any) -> list[str]:
    """`shared.<package>.errors`, and its `errors_<part>` siblings (a part of a large domain)."""
    names = []
    for package in pkgutil.iter_modules(paths):
        if package.ispkg:
            names.append(f"shared.{package.name}.errors")
            inner = importlib.util.find_spec(f"shared.{package.name}")
            locations = inner.submodule_search_locations if inner is not None else None
            names += [
                f"shared.{package.name}.{module.name}"
                for module in pkgutil.iter_modules(locations or [])
                if module.name.startswith("errors_")
            ]
    return names
