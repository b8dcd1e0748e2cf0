"""OpenAPI 3.1 generated from the registered HTTP functions and their `@endpoint` models."""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel, TypeAdapter

from shared.platform.base_model import NO_NUL, TEXT_CHAR
from shared.platform.errors import error_code_catalog
from shared.platform.http import ENDPOINTS, EndpointSpec, HeaderParam
from shared.platform.routes import RouteTemplate, Segment, split_path

# JSON schema of a path parameter by its first inline constraint; others are strings.
CONSTRAINT_SCHEMAS = {
    "guid": {"type": "string", "format": "uuid"},
    "int": {"type": "integer"},
    "long": {"type": "integer"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
}
# Path parameters by name: slugs (English or Arabic) are documented with their shape.
NAMED_PARAMETER_SCHEMAS = {
    "slug": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[^/?#\s]+$"},
}
REF_TEMPLATE = "#/components/schemas/{model}"
# Codes the host itself answers with (a missing function key), before the app runs.
HOST_CODES = ("function_key_required",)
ERROR_DESCRIPTIONS = {
    400: "Malformed request (body not JSON, or missing)",
    401: "No valid bearer token",
    403: "The token's role may not call this operation",
    404: "No such resource (or not yours)",
    409: "Conflict with the current state (stale version, illegal transition, stock)",
    413: "Request body too large",
    415: "Request body is not application/json",
    422: "Invalid parameters or body (the field errors say which)",
    428: "A version is required (If-Match or the body's version)",
    429: "Sending faster than the limit allows (retry after Retry-After seconds)",
    503: "A dependency is unavailable (named in the problem)",
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Entra ID / B2C token; the operation's `x-roles` (and the security requirement's "
        "list) name the roles it accepts; absent: any signed-in caller.",
    },
    "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "invocation_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}, "code": {"type": "string"}},
            },
        },
    },
}


@functools.cache
def registered_functions(app: Any) -> tuple[Any, ...]:
    """The app's functions, from the SDK's public `app.get_functions()`. That call also records
    each name in `app.functions_bindings` to reject duplicates, so once the worker (or the dev
    host) has indexed the app a second call would raise: the record is set aside for our call."""
    indexed = app.functions_bindings
    app.functions_bindings = None
    try:
        return tuple(app.get_functions())
    finally:
        app.functions_bindings = indexed


def http_routes(app: Any) -> list[tuple[str, str, str, str]]:
    """(function name, method, route, auth level) for every HTTP-triggered function."""
    routes = []
    for function in registered_functions(app):
        trigger = function.get_trigger().get_dict_repr()
        if trigger["type"] != "httpTrigger":
            continue
        methods = [str(getattr(m, "value", m)) for m in trigger.get("methods") or ["GET"]]
        level = str(getattr(trigger.get("authLevel"), "value", trigger.get("authLevel") or "anonymous"))
        for method in methods:
            routes.append(
                (
                    function.get_function_name(),
                    method.upper(),
                    trigger.get("route") or function.get_function_name(),
                    level,
                )
            )
    return routes


@functools.cache
def documented_templates(app: Any) -> tuple[tuple[str, RouteTemplate], ...]:
    """(method, parsed route) of every documented operation, parsed once per app."""
    return tuple(
        (method, RouteTemplate.parse(route)) for name, method, route, _ in http_routes(app) if documented(name)
    )


def methods_for_path(app: Any, path: str) -> list[str]:
    """The methods some documented route accepts at `path` (after /api/; empty: no such route)."""
    parts = split_path(path)
    return sorted({method for method, template in documented_templates(app) if template.match(parts) is not None})


def documented(name: str) -> bool:
    spec = ENDPOINTS.get(name)
    return spec is None or spec.in_schema


def problem_schema() -> dict[str, Any]:
    """The problem+json shape, its `code` listing every code the API answers with (the
    platform's and each domain's `errors.py`), grouped by enum in `x-error-codes`."""
    catalog = error_code_catalog()
    codes = {c for codes in catalog.values() for c in codes} | set(HOST_CODES)
    code = {"type": "string", "enum": sorted(codes)}
    return {**PROBLEM_SCHEMA, "properties": {**PROBLEM_SCHEMA["properties"], "code": code}, "x-error-codes": catalog}


def build_openapi(app: Any) -> dict[str, Any]:
    components: dict[str, Any] = {"Problem": problem_schema()}
    paths: dict[str, dict[str, Any]] = {}
    for name, method, route, level in http_routes(app):
        if not documented(name):
            continue
        path = "/api/" + "/".join(openapi_segment(s) for s in RouteTemplate.parse(route).segments)
        spec = ENDPOINTS.get(name)
        paths.setdefault(path, {})[method.lower()] = operation(name, route, level, spec, components)
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "Souq API",
            "version": "0.1.0",
            "description": f"Multi-vendor pharmacy and health marketplace backend. {TEXT_RULE}",
        },
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }
    document_text_rule(document)
    return document


# Every text the API reads refuses NUL (shared.platform.http answers 422 invalid_text), so
# every string and object key of the document says so: a plain string gets this pattern, a
# field's own pattern refuses NUL in each negated class (tests/unit/test_openapi.py draws texts
# from every pattern and checks), an object with free keys gets it as `propertyNames`.
TEXT_WITHOUT_NUL = f"^{TEXT_CHAR}*$"
TEXT_RULE = (
    "Every text is I-JSON (RFC 7493): no lone surrogates (\\ud800-\\udfff), and no NUL; either is "
    "refused with 422 `invalid_text` naming the field."
)
NEGATED_CLASS = re.compile(r"(?<!\\)\[\^(?!\\u0000)")  # one that does not refuse NUL yet


def document_text_rule(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            document_text_rule(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not ({"format", "enum", "const"} & node.keys()):
        pattern = node.get("pattern")
        if pattern is None:
            node["pattern"] = TEXT_WITHOUT_NUL
        else:
            node["pattern"] = NEGATED_CLASS.sub(lambda _: f"[^{NO_NUL}", pattern)
    if node.get("type") == "object" and "additionalProperties" in node:
        node.setdefault("propertyNames", {"pattern": TEXT_WITHOUT_NUL})
    for value in node.values():
        document_text_rule(value)


def operation(
    name: str, route: str, level: str, spec: EndpointSpec | None, components: dict[str, Any]
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": name,
        "parameters": path_parameters(route),
        "responses": {"default": problem_response("Error (problem+json)")},
    }
    if spec is None:
        return op
    op.update(summary=spec.summary, tags=list(spec.tags))
    op["parameters"] += [header_parameter(header) for header in spec.headers]
    if spec.query is not None:
        op["parameters"] += query_parameters(spec.query)
    if spec.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema_ref(spec.body, components)}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": schema_ref(spec.response, components)}}
    if spec.links:
        ok["links"] = {
            link: {"operationId": target, "parameters": {parameter: "$response.body#/id"}}
            for link, (target, parameter) in spec.links
        }
    for status in (spec.status, *spec.also):
        op["responses"][str(status)] = ok
    for status in error_statuses(route, spec):
        op["responses"][str(status)] = problem_response(ERROR_DESCRIPTIONS.get(status, "Error"))
    security: dict[str, list[str]] = {}
    if spec.authenticated:
        security["bearer"] = sorted(spec.roles or ())
        op["x-roles"] = sorted(spec.roles) if spec.roles is not None else ["any signed-in caller"]
    if level != "anonymous":
        security["functionKey"] = []
    if security:
        op["security"] = [security]
    return op


def error_statuses(route: str, spec: EndpointSpec) -> list[int]:
    """The problem statuses an operation can answer: derived from what the endpoint declares
    (token, roles, route ids, query, body), plus the extras it names (409, 428 …)."""
    statuses = set(spec.errors)
    if spec.authenticated:
        statuses.add(401)
    if spec.roles is not None:
        statuses.add(403)
    if path_parameters(route):
        statuses.add(404)
    if spec.query is not None:
        statuses.add(422)
    if spec.body is not None:
        statuses |= {400, 413, 415, 422}
    return sorted(statuses)


def header_parameter(header: HeaderParam) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if header.pattern is not None:
        schema["pattern"] = header.pattern
    if header.max_length is not None:
        schema["maxLength"] = header.max_length
    return {
        "name": header.name,
        "in": "header",
        "required": header.required,
        "description": header.description,
        "schema": schema,
    }


def openapi_segment(segment: Segment) -> str:
    return segment.text if segment.kind == "literal" else "{" + segment.text + "}"


def path_parameters(route: str) -> list[dict[str, Any]]:
    return [
        {"name": segment.text, "in": "path", "required": True, "schema": parameter_schema(segment)}
        for segment in RouteTemplate.parse(route).segments
        if segment.kind != "literal"
    ]


def parameter_schema(segment: Segment) -> dict[str, Any]:
    if not segment.constraints and segment.text in NAMED_PARAMETER_SCHEMAS:
        return NAMED_PARAMETER_SCHEMAS[segment.text]
    first = segment.constraints[0].partition("(")[0].lower() if segment.constraints else ""
    return CONSTRAINT_SCHEMAS.get(first, {"type": "string"})


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": field, "in": "query", "required": field in required, "schema": without_null(prop)}
        for field, prop in schema.get("properties", {}).items()
    ]


def without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: `X | None` is documented as X alone."""
    branches = [branch for branch in prop.get("anyOf", []) if branch != {"type": "null"}]
    if len(branches) != 1 or len(prop["anyOf"]) != 2:
        return prop
    rest = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
    return {**rest, **branches[0]}


def schema_ref(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(annotation).json_schema(ref_template=REF_TEMPLATE)
    components.update(schema.pop("$defs", {}))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        components[annotation.__name__] = schema
        return {"$ref": REF_TEMPLATE.format(model=annotation.__name__)}
    return schema


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": REF_TEMPLATE.format(model="Problem")}}},
    }
