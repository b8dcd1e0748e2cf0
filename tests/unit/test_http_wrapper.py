"""The endpoint wrapper without any I/O: error shapes, request ids, no stack traces."""

import json
import logging

import azure.functions as func
import pytest
from pydantic import BaseModel

from shared.platform import http
from shared.platform.errors import Conflict, DependencyUnavailable
from tests.support import FakeContext, http_request


class Thing(BaseModel):
    name: str
    count: int


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    from shared.platform.config import reset_settings

    for name, value in {
        "DATABASE_URL": "postgresql://x",
        "REDIS_URL": "redis://x",
        "AUTH_ISSUER": "i",
        "AUTH_AUDIENCE": "a",
        "AUTH_JWKS_URL": "https://idp.example/keys",
        "LOG_FORMAT": "json",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield
    reset_settings()


def handler_raising(error: Exception):
    @http.endpoint(summary="test")
    async def failing(call):
        raise error

    return failing


async def invoke(function, request: func.HttpRequest) -> tuple[func.HttpResponse, dict]:
    response = await function(request, FakeContext())
    return response, json.loads(response.get_body() or b"null")


async def test_unexpected_error_is_a_500_without_stack_trace_and_is_logged(caplog):
    caplog.set_level(logging.ERROR, logger="souq")
    response, body = await invoke(handler_raising(KeyError("secret detail")), http_request("GET", "x"))
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert body["code"] == "internal_error" and "secret detail" not in json.dumps(body)
    assert body["invocation_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    "error,status,retry_after",
    [
        (Conflict("stale"), 409, None),
        (DependencyUnavailable("redis", retry_after=7), 503, "7"),
        (DependencyUnavailable("postgresql"), 503, "5"),
    ],
)
async def test_domain_errors_map_to_status_and_retry_after(error, status, retry_after):
    response, body = await invoke(handler_raising(error), http_request("GET", "x"))
    assert response.status_code == status and body["status"] == status
    assert response.headers.get("Retry-After") == retry_after


async def test_body_validation_gives_field_paths_and_the_handler_is_not_called():
    calls = []

    @http.endpoint(summary="test", body=Thing)
    async def create(call):
        calls.append(call)

    response, body = await invoke(create, http_request("POST", "x", body={"name": 5, "count": "many"}))
    assert response.status_code == 422 and calls == []
    assert sorted(e["path"] for e in body["errors"]) == ["count", "name"]


async def test_worker_binds_req_and_context_not_the_handler_signature():
    import inspect

    @http.endpoint(summary="test", response=Thing)
    async def show(call):
        return Thing(name="a", count=1)

    assert list(inspect.signature(show).parameters) == ["req", "context"]
    response, body = await invoke(show, http_request("GET", "x"))
    assert response.status_code == 200 and body == {"name": "a", "count": 1}
