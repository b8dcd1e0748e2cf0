"""Helpers shared by integration and e2e tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import azure.functions as func
import psycopg
from psycopg import sql

from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, mint_token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def token(role: str = "customer", *, sub: str | None = None, **claims: Any) -> str:
    return mint_token(role=role, sub=sub or unique("user"), issuer=DEV_ISSUER, audience=DEV_AUDIENCE, **claims)


def bearer(role: str = "customer", *, sub: str | None = None, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub=sub, **claims)}"}


def create_database(admin_url: str, name: str, *, template: str | None = None) -> str:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)
    return database_url_for(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_url_for(url: str, name: str) -> str:
    """The same server URL with another database name (URL form: yoyo needs one)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class FakeContext:
    """What the Functions worker passes as `context` (only what the app reads)."""

    def __init__(self, function_name: str = "test") -> None:
        self.invocation_id = str(uuid.uuid4())
        self.function_name = function_name


def http_request(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    route_params: dict[str, str] | None = None,
) -> func.HttpRequest:
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    return func.HttpRequest(
        method=method,
        url=f"http://localhost/api/{path}",
        headers=headers or {},
        params=params or {},
        route_params=route_params or {},
        body=payload,
    )


def app_function(name: str) -> Any:
    """The callable the worker would invoke for the registered function `name`."""
    from function_app import app
    from shared.platform.openapi import registered_functions

    return {f.get_function_name(): f.get_user_function() for f in registered_functions(app)}[name]


async def call(function: Any, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """Invoke an HTTP function in-process like the worker does; returns (status, headers, json).
    `function` is a registered function's name or the blueprint object its decorator returned."""
    name = function if isinstance(function, str) else function._function.get_function_name()
    response = await app_function(name)(http_request(method, path, **kwargs), FakeContext(name))
    body = response.get_body()
    headers = {k.lower(): v for k, v in response.headers.items()}
    if response.mimetype and body:  # the worker turns mimetype into Content-Type
        headers.setdefault("content-type", f"{response.mimetype}; charset={response.charset}")
    return response.status_code, headers, json.loads(body) if body else None


@contextlib.contextmanager
def counting_statements(monkeypatch: Any) -> Iterator[list[str]]:
    """Every statement psycopg sends while the block runs (cleared by the caller as needed)."""
    import psycopg

    sent: list[str] = []
    original = psycopg.AsyncCursor.execute

    async def counting(self, query, *args, **kwargs):
        sent.append(str(query))
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counting)
    yield sent
    monkeypatch.setattr(psycopg.AsyncCursor, "execute", original)


def batch_sizes(monkeypatch: Any, owner: type, method: str) -> list[int]:
    """Sizes of the batches `owner.method(self, batch)` is called with, in order (it still runs)."""
    sizes: list[int] = []
    real = getattr(owner, method)

    async def spy(self, batch):
        sizes.append(len(batch))
        return await real(self, batch)

    monkeypatch.setattr(owner, method, spy)
    return sizes
