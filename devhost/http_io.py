"""ASGI request/response plumbing: reading requests, problem+json, function keys, responses."""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func

log = logging.getLogger("devhost.http")

MAX_BODY_BYTES = 100 * 1024 * 1024  # the host's default request size limit (~100 MB)
TEXT_PLAIN = "text/plain; charset=utf-8"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    path: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _joined_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    # repeated headers fold into one comma-joined value, as the host's StringValues do
    headers: dict[str, str] = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        headers[name] = f"{headers[name]},{text}" if name in headers else text
    return headers


def _query(raw: bytes) -> dict[str, str]:
    # the host joins repeated query keys with a comma
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    return query


async def _read_body(receive: Receive, declared: str | None) -> bytes:
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def read_request(scope: Scope, receive: Receive) -> IncomingRequest:
    headers = _joined_headers(scope.get("headers", []))
    raw_query: bytes = scope.get("query_string", b"")
    host = headers.get("host") or "{}:{}".format(*(scope.get("server") or ("localhost", 80)))
    # raw_path keeps the percent-encoding the client sent, as the host's request URL does
    path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    url = f"{scope.get('scheme', 'http')}://{host}{path}"
    if raw_query:
        url += "?" + raw_query.decode("latin-1")
    return IncomingRequest(
        method=scope["method"].upper(),
        path=scope["path"],
        url=url,
        headers=headers,
        query=_query(raw_query),
        body=await _read_body(receive, headers.get("content-length")),
    )


@dataclass
class OutgoingResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    async def send(self, send: Send) -> None:
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        if not any(k == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def problem(status: int, code: str, detail: str, extra_headers: Mapping[str, str] | None = None) -> OutgoingResponse:
    """An RFC 9457 problem+json response with a fresh x-request-id."""
    document = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    headers = [("content-type", "application/problem+json"), ("x-request-id", str(uuid.uuid4()))]
    headers += list((extra_headers or {}).items())
    return OutgoingResponse(status, headers, json.dumps(document).encode("utf-8"))


def json_response(document: Any, status: int = 200) -> OutgoingResponse:
    body = json.dumps(document).encode("utf-8")
    return OutgoingResponse(status, [("content-type", "application/json")], body)


@dataclass(frozen=True)
class FunctionKeys:
    function_key: str | None
    master_key: str | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> FunctionKeys:
        # an empty value means "no key", never "the empty key"
        function_key = environ.get("DEVHOST_FUNCTION_KEY") or None
        return cls(function_key, environ.get("DEVHOST_MASTER_KEY") or None)

    def allows(self, level: str, request: IncomingRequest) -> bool:
        """Whether the request carries a key good enough for `level`."""
        if level == "anonymous":
            return True
        presented = request.header("x-functions-key") or request.query.get("code") or ""
        valid = [self.master_key]
        if level not in ("admin", "system"):
            valid.append(self.function_key)
        matches = [_same(presented, key) for key in valid if key]  # no short-circuit
        return any(matches)


def _same(presented: str, expected: str) -> bool:
    # bytes: compare_digest refuses non-ASCII str, and a caller controls `presented`
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def function_request(request: IncomingRequest, route_params: Mapping[str, str]) -> func.HttpRequest:
    return func.HttpRequest(
        method=request.method,
        url=request.url,
        headers=request.headers,
        params=request.query,
        route_params=dict(route_params),
        body=request.body,
    )


def from_function_result(value: Any) -> OutgoingResponse:
    """What the worker's HttpResponseConverter does with a function's return value."""
    if isinstance(value, str):
        return OutgoingResponse(200, [("content-type", TEXT_PLAIN)], value.encode("utf-8"))
    if not isinstance(value, func.HttpResponse):
        kind = type(value).__name__
        raise TypeError(f"an HTTP function must return HttpResponse or str, got {kind}")
    headers = [(str(k), str(v)) for k, v in value.headers.items()]
    if not any(k.lower() == "content-type" for k, _ in headers):
        mimetype = value.mimetype
        charset = f"; charset={value.charset}" if mimetype.startswith("text/") else ""
        headers.append(("content-type", mimetype + charset))  # the worker's rule
    # the host computes the length itself; a stale user-supplied one would corrupt the stream
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    return OutgoingResponse(int(value.status_code), headers, value.get_body() or b"")
