"""Every 503 names the dependency and nothing else: what the driver said (addresses, messages)
goes to the log with the invocation id, never into the problem body."""

import json
import logging

import pytest

from shared.platform import http
from shared.platform.errors import DependencyUnavailable
from tests.support import FakeContext, http_request

ADDRESS = "127.0.0.1:6390"
DRIVER_MESSAGE = f"Error 111 connecting to {ADDRESS}. Connection refused."


@pytest.fixture(autouse=True)
def settings(minimal_settings):
    return minimal_settings


@pytest.fixture
def http_log():
    """The souq.http logger's records (it does not propagate once logging is configured)."""
    records: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, logger = Recorder(), logging.getLogger("souq.http")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def raising(error_factory):
    @http.endpoint(summary="test")
    async def failing(call):
        error_factory()

    return failing


def postgres_down() -> None:
    try:
        raise ConnectionRefusedError(DRIVER_MESSAGE)
    except ConnectionRefusedError as error:
        raise DependencyUnavailable("postgresql") from error


def storage_down() -> None:
    from azure.core.exceptions import ServiceRequestError

    raise ServiceRequestError(
        f"<urllib3.connection.HTTPConnection>: Failed to establish a connection: {DRIVER_MESSAGE}"
    )


@pytest.mark.parametrize("down,dependency", [(postgres_down, "postgresql"), (storage_down, "storage")])
async def test_a_503_names_the_dependency_only_and_logs_the_cause(down, dependency, http_log):
    response = await raising(down)(http_request("GET", "x"), FakeContext())
    body = json.loads(response.get_body())
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert body["code"] == "dependency_unavailable" and body["dependency"] == dependency
    assert body["detail"] == f"{dependency} is unavailable; retry shortly"
    assert set(body) == {"type", "title", "status", "detail", "code", "invocation_id", "dependency"}
    assert ADDRESS not in response.get_body().decode() and "Error" not in body["detail"]
    logged = [r.getMessage() for r in http_log if r.levelno == logging.WARNING]
    assert any(dependency in line and ADDRESS in line for line in logged), logged


async def test_a_name_that_carries_an_address_is_not_sent():
    def careless() -> None:
        raise DependencyUnavailable(DRIVER_MESSAGE)

    response = await raising(careless)(http_request("GET", "x"), FakeContext())
    assert response.status_code == 503 and ADDRESS not in response.get_body().decode()
    assert json.loads(response.get_body())["dependency"] == "a dependency"
