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
def settings(minimal_settings):
    return minimal_settings


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


class Flags(BaseModel):
    name: str = "x"
    on: bool = False
    tags: list[str] = []


def recording(calls: list, *, body=Flags, query=None):
    @http.endpoint(summary="test", body=body, query=query)
    async def handle(call):
        calls.append(call)

    return handle


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/json; charset=utf-8", "application/merge-patch+json"]
)
async def test_json_bodies_are_read_with_or_without_a_json_content_type(content_type):
    calls: list = []
    headers = {"Content-Type": content_type} if content_type else {}
    response, _ = await invoke(recording(calls), http_request("POST", "x", body={"on": True}, headers=headers))
    assert response.status_code == 204 and calls[0].body.on is True


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
async def test_a_body_of_another_media_type_is_415_naming_json(content_type):
    calls: list = []
    request = http_request("POST", "x", body={"on": True}, headers={"Content-Type": content_type})
    response, body = await invoke(recording(calls), request)
    assert response.status_code == 415 and body["code"] == "unsupported_media_type" and calls == []
    assert body["accepted"] == ["application/json"] and "application/json" in body["detail"]


async def test_a_body_over_the_setting_is_413_and_never_parsed(monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("MAX_REQUEST_BODY_BYTES", "1024")
    reset_settings()
    calls: list = []
    raw = b"not even json " * 100  # over the limit: refused before the parser would say 400
    response, body = await invoke(recording(calls), http_request("POST", "x", raw=raw))
    assert response.status_code == 413 and body["code"] == "payload_too_large" and calls == []
    ok, _ = await invoke(recording(calls), http_request("POST", "x", body={"name": "y" * 900}))
    assert ok.status_code == 204


def test_the_default_body_limit_is_256_kib():
    from shared.platform.settings_model import Settings

    assert Settings.model_fields["max_request_body_bytes"].default == 262_144


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
async def test_deeply_nested_json_is_400_not_a_crash(depth):
    calls: list = []
    raw = b"[" * depth + b"]" * depth
    response, body = await invoke(recording(calls), http_request("POST", "x", raw=raw))
    assert response.status_code == 400 and body["code"] == "malformed_json" and calls == []


@pytest.mark.parametrize(
    "raw,path",
    [
        (b'{"name": "a\\u0000b"}', "name"),
        (b'{"name": "\\ud800"}', "name"),
        (b'{"name": "\\udfff tail"}', "name"),
        (b'{"tags": ["ok", "x\\u0000"]}', "tags/1"),
    ],
)
async def test_nul_and_lone_surrogates_are_422_naming_the_field(raw, path):
    calls: list = []
    response, body = await invoke(recording(calls), http_request("POST", "x", raw=raw))
    assert response.status_code == 422 and calls == []
    assert [(e["path"], e["code"]) for e in body["errors"]] == [(path, "invalid_text")]


async def test_a_surrogate_pair_is_text_like_any_other():
    calls: list = []
    response, _ = await invoke(recording(calls), http_request("POST", "x", raw=b'{"name": "\\ud83d\\ude00"}'))
    assert response.status_code == 204 and calls[0].body.name == "\U0001f600"


async def test_query_text_is_checked_too():
    class Search(BaseModel):
        q: str | None = None

    calls: list = []
    request = http_request("GET", "x", params={"q": "a\x00"})
    response, body = await invoke(recording(calls, body=None, query=Search), request)
    assert response.status_code == 422 and body["errors"][0]["path"] == "q" and calls == []


@pytest.mark.parametrize(
    "payload,path",
    [({"on": 0}, "on"), ({"on": "true"}, "on"), ({"name": 5}, "name"), ({"name": "a", "count": "5"}, "count")],
)
async def test_body_json_types_are_strict(payload, path):
    calls: list = []
    response, body = await invoke(
        recording(calls, body=Thing if "count" in payload else Flags), http_request("POST", "x", body=payload)
    )
    assert response.status_code == 422 and path in [e["path"] for e in body["errors"]] and calls == []


async def test_query_strings_still_parse_into_their_types():
    class Page(BaseModel):
        limit: int = 20
        unread: bool = False

    calls: list = []
    request = http_request("GET", "x", params={"limit": "5", "unread": "true"})
    response, _ = await invoke(recording(calls, body=None, query=Page), request)
    assert response.status_code == 204 and (calls[0].query.limit, calls[0].query.unread) == (5, True)


async def test_a_key_with_nul_is_named_printably():
    calls: list = []
    response, body = await invoke(
        recording(calls), http_request("POST", "x", raw=b'{"a\\u0000": 1, "name": "\\ud800"}')
    )
    assert response.status_code == 422 and calls == []
    assert [e["path"] for e in body["errors"]] == ["a\\x00", "name"]


async def test_route_parameters_are_checked_too():
    calls: list = []
    request = http_request("GET", "x", route_params={"slug": "pana\x00dol"})
    response, body = await invoke(recording(calls, body=None), request)
    assert response.status_code == 422 and body["errors"][0]["path"] == "slug" and calls == []
