"""OpenAPI 3.1 generated from the registered HTTP functions and their `@endpoint` models."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, TypeAdapter

from shared.platform.errors import error_code_catalog
from shared.platform.http import ENDPOINTS, EndpointSpec
from shared.platform.routes import RouteTemplate, Segment, split_path

# JSON schema of a path parameter by its first inline constraint; others are strings.
CONSTRAINT_SCHEMAS = {
    "guid": {"type": "string", "format": "uuid"},
    "int": {"type": "integer"},
    "long": {"type": "integer"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
}
REF_TEMPLATE = "#/components/schemas/{model}"
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
    code = {"type": "string", "enum": sorted({c for codes in catalog.values() for c in codes})}
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
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Souq API",
            "version": "0.1.0",
            "description": "Multi-vendor pharmacy and health marketplace backend.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
            },
        },
    }


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
    op["responses"][str(spec.status)] = ok
    security: dict[str, list[str]] = {}
    if spec.authenticated:
        security["bearer"] = []
    if level != "anonymous":
        security["functionKey"] = []
    if security:
        op["security"] = [security]
    return op


def openapi_segment(segment: Segment) -> str:
    return segment.text if segment.kind == "literal" else "{" + segment.text + "}"


def path_parameters(route: str) -> list[dict[str, Any]]:
    return [
        {"name": segment.text, "in": "path", "required": True, "schema": parameter_schema(segment)}
        for segment in RouteTemplate.parse(route).segments
        if segment.kind != "literal"
    ]


def parameter_schema(segment: Segment) -> dict[str, Any]:
    first = segment.constraints[0].partition("(")[0].lower() if segment.constraints else ""
    return CONSTRAINT_SCHEMAS.get(first, {"type": "string"})


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": field, "in": "query", "required": field in required, "schema": prop}
        for field, prop in schema.get("properties", {}).items()
    ]


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
