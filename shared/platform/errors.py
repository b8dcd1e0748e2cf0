"""Domain errors with a stable `code` and an HTTP status; `shared.platform.http` renders them as
RFC 9457 problem+json. Domain packages raise these and never import azure.functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One validation problem: a JSON-pointer-ish path (`mobile`, `lines/2/quantity`)."""

    path: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    status: int = 400
    title: str = "Bad Request"
    code: str = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = errors or []
        self.extra = extra or {}


class MalformedRequest(DomainError):
    status, title, code = 400, "Bad Request", "malformed_request"


class ValidationFailed(DomainError):
    status, title, code = 422, "Unprocessable Content", "validation_failed"


class Unauthorized(DomainError):
    status, title, code = 401, "Unauthorized", "unauthorized"


class Forbidden(DomainError):
    status, title, code = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, code = 404, "Not Found", "not_found"


class MethodNotAllowed(DomainError):
    status, title, code = 405, "Method Not Allowed", "method_not_allowed"

    def __init__(self, detail: str, *, allowed: list[str]) -> None:
        super().__init__(detail)
        self.allowed = allowed


class Conflict(DomainError):
    status, title, code = 409, "Conflict", "conflict"


class PreconditionRequired(DomainError):
    """An update without the version it was based on (optimistic locking needs it)."""

    status, title, code = 428, "Precondition Required", "version_required"


class RateLimited(DomainError):
    status, title, code = 429, "Too Many Requests", "rate_limited"

    def __init__(self, detail: str, *, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class DependencyUnavailable(DomainError):
    """PostgreSQL, Redis or Storage cannot be reached: the client should retry later."""

    status, title, code = 503, "Service Unavailable", "dependency_unavailable"

    def __init__(self, dependency: str, *, retry_after: int = 5, detail: str | None = None) -> None:
        super().__init__(
            detail or f"{dependency} is unavailable; retry shortly",
            extra={"dependency": dependency},
        )
        self.dependency = dependency
        self.retry_after = retry_after
