"""The one wrapper every HTTP trigger goes through.

`@endpoint(...)` turns a handler `async def f(call: ApiCall) -> Reply | BaseModel | None`
into a Functions HTTP handler `(req, context) -> HttpResponse` that parses and validates the
body, authenticates the caller, renders every failure as problem+json, stamps `x-request-id`
with the invocation id and logs one line per request. The metadata it records feeds
`/api/openapi.json` (shared.platform.openapi).
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.platform import logs
from shared.platform.auth import Principal, authenticate, require_role
from shared.platform.errors import (
    DependencyUnavailable,
    DomainError,
    FieldError,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    PlatformError,
    UnsupportedMediaType,
    ValidationFailed,
)
from shared.platform.problems import PROBLEM_CONTENT_TYPE, field_errors_from_pydantic, problem_body, problem_from_error

log = logs.get_logger("http")
JSON = "application/json"
MAX_DEPTH = 32  # JSON nesting of any request body; the app's deepest model is 3


@dataclass
class ApiCall:
    request: func.HttpRequest
    invocation_id: str
    principal: Principal | None = None
    body: Any = None
    query: Any = None

    @property
    def route(self) -> dict[str, str]:
        return dict(self.request.route_params or {})

    @property
    def user(self) -> Principal:
        assert self.principal is not None, "endpoint declared without auth"
        return self.principal


@dataclass
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HeaderParam:
    """A request header an endpoint reads, for the OpenAPI document (the handler checks it)."""

    name: str
    description: str
    required: bool = True
    pattern: str | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class EndpointSpec:
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    roles: frozenset[str] | None
    authenticated: bool
    tags: tuple[str, ...]
    in_schema: bool = True
    # OpenAPI only: headers read, error statuses beyond those derived from the above, and
    # links {name: (operationId, its parameter)} from this operation's response `id`.
    headers: tuple[HeaderParam, ...] = ()
    errors: tuple[int, ...] = ()
    links: tuple[tuple[str, tuple[str, str]], ...] = ()
    # Other success statuses answered with the same body (200 when a find-or-create found it).
    also: tuple[int, ...] = ()
    # Called from other sites' pages (the chat widget): every answer, problems included, allows
    # any origin. Only for bearer-token routes without cookies, so `*` grants nothing extra.
    cross_origin: bool = False


CROSS_ORIGIN_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Retry-After, x-request-id",
}


ENDPOINTS: dict[str, EndpointSpec] = {}
Handler = Callable[[ApiCall], Awaitable[Any]]


def endpoint(
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    roles: frozenset[str] | None = None,
    authenticated: bool = False,
    tags: tuple[str, ...] = (),
    in_schema: bool = True,
    headers: tuple[HeaderParam, ...] = (),
    errors: tuple[int, ...] = (),
    links: dict[str, tuple[str, str]] | None = None,
    also: tuple[int, ...] = (),
    cross_origin: bool = False,
) -> Callable[[Handler], Callable[..., Awaitable[func.HttpResponse]]]:
    spec = EndpointSpec(
        summary, body, query, response, status, roles, authenticated or roles is not None, tags, in_schema, headers,
        errors, tuple((links or {}).items()), also, cross_origin,
    )  # fmt: skip

    def decorate(handler: Handler) -> Callable[..., Awaitable[func.HttpResponse]]:
        async def http_function(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
            return await _run(handler, spec, req, context)

        functools.update_wrapper(http_function, handler, updated=())
        delattr(http_function, "__wrapped__")  # the worker must bind (req, context), not the handler's args
        ENDPOINTS[handler.__name__] = spec
        return http_function

    return decorate


async def _run(handler: Handler, spec: EndpointSpec, req: func.HttpRequest, context: Any) -> func.HttpResponse:
    logs.configure_logging()
    invocation_id = getattr(context, "invocation_id", None) or str(uuid.uuid4())
    logs.invocation_id_var.set(invocation_id)
    logs.function_name_var.set(getattr(context, "function_name", handler.__name__))
    logs.user_id_var.set(None)
    started = time.perf_counter()
    try:
        call = await _build_call(spec, req, invocation_id)
        response = render_reply(await handler(call), spec.status)
    except DomainError as error:
        response = problem_response(error, invocation_id)
    except Exception as error:  # noqa: BLE001 - the last line: log it, never leak it
        response = _unexpected(error, invocation_id)
    response.headers["x-request-id"] = invocation_id
    if spec.cross_origin:
        response.headers.update(CROSS_ORIGIN_HEADERS)
    _log_request(req, response, started)
    return response


async def _build_call(spec: EndpointSpec, req: func.HttpRequest, invocation_id: str) -> ApiCall:
    call = ApiCall(request=req, invocation_id=invocation_id)
    if spec.authenticated:
        call.principal = await authenticate(req.headers.get("authorization"))
        logs.user_id_var.set(call.principal.user_id)
        if spec.roles is not None:
            require_role(call.principal, spec.roles)
    check_text(dict(req.route_params or {}), location="path")  # a slug with NUL would reach SQL
    if spec.query is not None:
        params = dict(req.params)
        check_text(params, location="query")
        call.query = parse_model(spec.query, params, location="query")
    if spec.body is not None:
        raw = read_json_body(req)
        check_text(parse_json_body(raw), location="body")
        call.body = parse_model(spec.body, raw, location="body")
    return call


def read_json_body(req: func.HttpRequest) -> bytes:
    """The raw body, refused before any parsing when it is too large (413) or declared as
    something other than JSON (415). No Content-Type at all is taken as JSON."""
    from shared.platform.config import get_settings

    raw = req.get_body() or b""
    limit = get_settings().max_request_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(
            f"the body has {len(raw)} bytes; at most {limit} are accepted (upload files to Blob storage)",
            extra={"max_bytes": limit},
        )
    media_type = (req.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media_type and media_type != JSON and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as {JSON}, not {media_type}", extra={"accepted": [JSON]})
    if not raw.strip():
        raise MalformedRequest("a JSON body is required", code=PlatformError.MISSING_BODY)
    return raw


def parse_json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise MalformedRequest("body is nested too deeply", code=PlatformError.MALFORMED_JSON) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRequest(f"body is not valid JSON: {error}", code=PlatformError.MALFORMED_JSON) from None


def check_text(data: Any, *, location: str) -> None:
    """No text of a request holds NUL (PostgreSQL text and jsonb refuse it) or a lone surrogate
    (not encodable as UTF-8), in values or keys: 422 naming every such path. JSON nested deeper
    than MAX_DEPTH is 400."""
    bad: list[str] = []
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            bad += [] if _clean_text(value) else [path or location]
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise MalformedRequest(
                    f"the {location} nests deeper than {MAX_DEPTH}", code=PlatformError.MALFORMED_JSON
                )
            for key, item in value.items() if isinstance(value, dict) else enumerate(value):
                name = str(key) if not isinstance(key, str) or _clean_text(key) else ascii(key)[1:-1]
                bad += [] if name == key or not isinstance(key, str) else [f"{path}/{name}".lstrip("/")]
                stack.append((f"{path}/{name}".lstrip("/"), item, depth + 1))
    if bad:
        message = "NUL characters and lone surrogates are not allowed"
        errors = [FieldError(p, message, PlatformError.INVALID_TEXT) for p in sorted(set(bad))]
        raise ValidationFailed(f"the {location} has {len(errors)} invalid text field(s)", errors=errors)


def _clean_text(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_model(model: type[BaseModel], data: Any, *, location: str) -> BaseModel:
    """A query (a dict of strings) is validated leniently, so "5" is an int; a body (raw JSON
    bytes) strictly, so a JSON type must be the field's own: no 0 for false, no "5" for 5."""
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data, strict=True)
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(
            f"the {location} has {error.error_count()} invalid field(s)",
            errors=field_errors_from_pydantic(error.errors(include_url=False)),
        ) from None


@dataclass(frozen=True)
class RawBody:
    """A body that is not JSON (a webhook's verification challenge, a script): sent as it is."""

    content: bytes
    media_type: str


def render_reply(result: Any, default_status: int) -> func.HttpResponse:
    reply = result if isinstance(result, Reply) else Reply(body=result, status=default_status)
    if isinstance(reply.body, RawBody):
        headers = dict(reply.headers)
        return func.HttpResponse(
            reply.body.content, status_code=reply.status, headers=headers, mimetype=reply.body.media_type
        )
    if reply.body is None:
        return func.HttpResponse(status_code=reply.status if reply.status != 200 else 204, headers=dict(reply.headers))
    return func.HttpResponse(
        body=to_json(reply.body), status_code=reply.status, headers=dict(reply.headers), mimetype=JSON
    )


class RawJson(bytes):
    """JSON rendered earlier (a cache hit): sent as it is, without parsing it again."""


def to_json(value: Any) -> bytes:
    if isinstance(value, RawJson):
        return bytes(value)
    if isinstance(value, BaseModel):
        return value.model_dump_json().encode()
    return TypeAdapter(type(value)).dump_json(value)


def problem_response(error: DomainError, invocation_id: str | None) -> func.HttpResponse:
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allowed)
    if isinstance(error, DependencyUnavailable):
        _log_unavailable(error)
    return func.HttpResponse(
        body=problem_from_error(error, invocation_id),
        status_code=error.status,
        headers=headers,
        mimetype=PROBLEM_CONTENT_TYPE,
    )


def _unexpected(error: Exception, invocation_id: str) -> func.HttpResponse:
    dependency = storage_dependency_error(error)
    if dependency is not None:
        return problem_response(dependency, invocation_id)
    log.exception("unhandled error", extra={"error_type": type(error).__name__})
    body = problem_body(
        status=500,
        title="Internal Server Error",
        code=PlatformError.INTERNAL_ERROR,
        detail="an unexpected error occurred; quote the invocation id",
        invocation_id=invocation_id,
    )
    return func.HttpResponse(body=body, status_code=500, mimetype=PROBLEM_CONTENT_TYPE)


def _log_unavailable(error: DependencyUnavailable) -> None:
    """The 503 names only the dependency; what the driver said (addresses, messages) is
    logged here, with the invocation id, and never sent."""
    cause = error.__cause__ or error.__context__
    log.warning(
        "%s unavailable: %s",
        error.dependency,
        f"{type(cause).__name__}: {cause}" if cause is not None else "no cause recorded",
        extra={"dependency": error.dependency},
    )


def storage_dependency_error(error: Exception) -> DependencyUnavailable | None:
    """Azure Storage unreachable (azure-core transport errors) → 503 naming `storage` only, not
    a bug; the transport error is kept as the cause, so it is logged and not sent."""
    from azure.core.exceptions import ServiceRequestError

    if not isinstance(error, ServiceRequestError):
        return None
    unavailable = DependencyUnavailable("storage")
    unavailable.__cause__ = error
    return unavailable


def _log_request(req: func.HttpRequest, response: func.HttpResponse, started: float) -> None:
    log.info(
        "%s %s -> %s",
        req.method,
        req.url.split("?", 1)[0],
        response.status_code,
        extra={"status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
    )
