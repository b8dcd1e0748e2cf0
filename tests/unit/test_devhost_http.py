"""The dev host's ASGI app: routing, function keys, problem+json, admin API, JWKS, lifespan."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import azure.functions as func
import httpx
import pytest

from devhost.asgi import DevHostApp
from devhost.host import DevHost
from shared.platform.hostjson import HostConfig

ENV = {"DEVHOST_FUNCTION_KEY": "fk", "DEVHOST_MASTER_KEY": "mk", "WORK_QUEUE": "work-items"}
SAFETY_SECONDS = 10  # only turns a hang into a failure


class Arrivals:
    """What the functions received, by name; a test awaits `get(name)` instead of polling."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._arrived: dict[str, asyncio.Event] = {}
        self.release = asyncio.Event()  # lets the `hold` functions finish

    def _event(self, name: str) -> asyncio.Event:
        return self._arrived.setdefault(name, asyncio.Event())

    def __setitem__(self, name: str, value: Any) -> None:
        self._values[name] = value
        self._event(name).set()

    async def get(self, name: str) -> Any:
        async with asyncio.timeout(SAFETY_SECONDS):
            await self._event(name).wait()
        return self._values[name]


def make_app(events: Arrivals) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="things/{id:guid}", methods=["GET", "DELETE"])
    def get_thing(req: func.HttpRequest) -> func.HttpResponse:
        document = {
            "id": req.route_params["id"],
            "params": dict(req.params),
            "url": req.url,
            "header": req.headers.get("x-custom"),
        }
        return func.HttpResponse(
            json.dumps(document), status_code=201, mimetype="application/json", headers={"X-Out": "1"}
        )

    @app.route(route="echo", methods=["POST"])
    async def echo(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(req.get_body())

    @app.route(route="secure", auth_level=func.AuthLevel.FUNCTION)
    def secure(req: func.HttpRequest) -> str:
        return "secret"

    @app.route(route="ops", auth_level=func.AuthLevel.ADMIN)
    def ops(req: func.HttpRequest) -> str:
        return "ops"

    @app.route(route="hold/{n}")
    async def hold(req: func.HttpRequest) -> str:
        events[f"held-{req.route_params['n']}"] = True
        await events.release.wait()
        return "done"

    @app.route(route="boom")
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret stack detail")

    @app.timer_trigger(schedule="0 0 3 * * *", arg_name="timer")
    async def nightly(timer: func.TimerRequest) -> None:
        events["timer"] = timer

    @app.queue_trigger(arg_name="msg", queue_name="%WORK_QUEUE%", connection="AzureWebJobsStorage")
    async def worker(msg: func.QueueMessage) -> None:
        events["message"] = msg

    @app.queue_trigger(arg_name="msg", queue_name="%NOT_SET%", connection="AzureWebJobsStorage")
    def orphan(msg: func.QueueMessage) -> None:
        pass

    return app


@pytest.fixture
def events() -> Arrivals:
    return Arrivals()


@pytest.fixture
def host(events: Arrivals) -> DevHost:
    config = HostConfig.from_dict({"version": "2.0"}, {})
    return DevHost(make_app(events), config, environ=ENV, enable_timers=False, enable_queues=False)


@pytest.fixture
def client(host: DevHost) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=DevHostApp(host))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    uuid.UUID(response.headers["x-request-id"])
    body = response.json()
    assert body["type"] == "about:blank" and body["status"] == status and body["code"] == code
    return body


@pytest.mark.asyncio
async def test_routes_request_with_route_params_query_and_headers(client: httpx.AsyncClient) -> None:
    thing = str(uuid.uuid4())
    response = await client.get(f"/api/things/{thing}?a=1&a=2&b=x", headers={"X-Custom": "yes"})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-out"] == "1"
    assert response.json() == {
        "id": thing,
        "params": {"a": "1,2", "b": "x"},
        "header": "yes",
        "url": f"http://testserver/api/things/{thing}?a=1&a=2&b=x",
    }


@pytest.mark.asyncio
async def test_body_and_text_content_type(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/echo", content=b"payload")
    assert response.content == b"payload"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.asyncio
async def test_404_and_405_are_problem_json(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/things/abc"), 404, "route_not_found")
    assert body["title"] == "Not Found"
    response = await client.put(f"/api/things/{uuid.uuid4()}")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "DELETE, GET"


@pytest.mark.asyncio
async def test_function_key_from_header_or_code(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/secure"), 401, "function_key_required")
    assert_problem(await client.get("/api/secure?code=wrong"), 401, "function_key_required")
    assert_problem(await client.get("/api/secure?code="), 401, "function_key_required")
    assert (await client.get("/api/secure", headers={"x-functions-key": "fk"})).text == "secret"
    assert (await client.get("/api/secure?code=mk")).text == "secret"
    assert_problem(await client.get("/api/secure?code=\u00e9"), 401, "function_key_required")


@pytest.mark.asyncio
async def test_admin_level_needs_the_master_key(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/ops?code=fk"), 401, "function_key_required")
    assert (await client.get("/api/ops?code=mk")).text == "ops"


@pytest.mark.asyncio
async def test_unhandled_exception_is_a_500_without_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret stack detail" not in response.text and "Traceback" not in json.dumps(body)


@pytest.mark.asyncio
async def test_admin_runs_a_timer_in_the_background(client: httpx.AsyncClient, events: Arrivals) -> None:
    response = await client.post("/admin/functions/nightly", headers={"x-functions-key": "mk"}, json={})
    assert response.status_code == 202
    assert (await events.get("timer")).past_due is False


@pytest.mark.asyncio
async def test_admin_delivers_input_to_a_queue_function(client: httpx.AsyncClient, events: Arrivals) -> None:
    response = await client.post("/admin/functions/WORKER", headers={"x-functions-key": "mk"}, json={"input": "job-1"})
    assert response.status_code == 202
    message = await events.get("message")
    assert message.get_body() == b"job-1"
    assert message.dequeue_count == 1


@pytest.mark.asyncio
async def test_admin_errors(client: httpx.AsyncClient) -> None:
    master = {"x-functions-key": "mk"}
    assert_problem(await client.post("/admin/functions/nightly", json={}), 401, "function_key_required")
    response = await client.post("/admin/functions/nightly", headers={"x-functions-key": "fk"}, json={})
    assert_problem(response, 401, "function_key_required")
    assert_problem(await client.post("/admin/functions/nope", headers=master, json={}), 404, "function_not_found")
    response = await client.post("/admin/functions/secure", headers=master, json={})
    assert_problem(response, 400, "http_function_not_invocable")
    response = await client.post("/admin/functions/worker", headers=master, content=b"{bad")
    assert_problem(response, 400, "invalid_body")


@pytest.mark.asyncio
async def test_dev_jwks(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import scripts.dev_tokens

    monkeypatch.setattr(scripts.dev_tokens, "dev_jwks", lambda: {"keys": [{"kid": "test"}]})
    response = await client.get("/.dev/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"keys": [{"kid": "test"}]}
    assert_problem(await client.get("/api/.dev/jwks.json"), 404, "route_not_found")


class WatchedGate(asyncio.Semaphore):
    """The dev host's in-flight gate, telling when a request has to wait at it."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.someone_waits = asyncio.Event()

    async def acquire(self) -> bool:
        if self.locked():
            self.someone_waits.set()
        return await super().acquire()


@pytest.mark.asyncio
async def test_http_concurrency_admits_functions_in_turn(host: DevHost, events: Arrivals) -> None:
    app = DevHostApp(host, http_concurrency=1)
    assert isinstance(app.in_flight, asyncio.Semaphore)
    app.in_flight = gate = WatchedGate(1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        first = asyncio.create_task(client.get("/api/hold/1"))
        await events.get("held-1")
        second = asyncio.create_task(client.get("/api/hold/2"))
        async with asyncio.timeout(SAFETY_SECONDS):
            await gate.someone_waits.wait()
        assert "held-2" not in events._values  # not started: the first still runs
        events.release.set()
        assert (await first).status_code == 200 and (await second).status_code == 200
    assert await events.get("held-2")


def test_unresolvable_function_is_disabled_and_reported(host: DevHost) -> None:
    assert "NOT_SET" in host.errors["orphan"]
    lines = host.banner("http://localhost:7071")
    assert "  get_thing: [DELETE,GET] http://localhost:7071/api/things/{id:guid}" in lines
    assert "  worker: queueTrigger (queue work-items, poller off (--no-queues))" in lines
    nightly = next(line for line in lines if line.startswith("  nightly:"))
    assert nightly.startswith("  nightly: timerTrigger (0 0 3 * * * UTC, next ")
    assert any(line.startswith("  orphan: queueTrigger (DISABLED: ") for line in lines)


@pytest.mark.asyncio
async def test_lifespan_starts_and_stops_the_host(host: DevHost) -> None:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[str] = []
    for kind in ("lifespan.startup", "lifespan.shutdown"):
        inbox.put_nowait({"type": kind})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await asyncio.wait_for(DevHostApp(host)({"type": "lifespan"}, inbox.get, send), SAFETY_SECONDS)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
