"""The real function app over HTTP through the dev host: routes and constraints, keys,
a timer run on demand, the queue consumer, and the poison queue."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from azure.storage.queue import QueueClient

from shared.storage import AZURITE_CONNECTION_STRING
from tests.e2e.conftest import FUNCTION_KEY, MASTER_KEY
from tests.support import bearer

WAIT_SECONDS = 30


def wait_for(check, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {WAIT_SECONDS}s waiting for {what}")


def queue(name: str) -> QueueClient:
    return QueueClient.from_connection_string(AZURITE_CONNECTION_STRING, name)


def scalar(database_url: str, query: str, *params):
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["status"] == status and body["code"] == code
    return body


def test_health_answers_with_a_request_id(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert uuid.UUID(response.headers["x-request-id"])


def test_guid_constraint_selects_the_route(client):
    headers = bearer()
    assert_problem(
        client.patch("/api/me/addresses/not-a-guid", json={"city": "Jeddah"}, headers=headers), 404, "route_not_found"
    )
    missing = client.patch(f"/api/me/addresses/{uuid.uuid4()}", json={"city": "Jeddah"}, headers=headers)
    assert_problem(missing, 404, "address_not_found")  # matched: the app answered


def test_wrong_method_and_unknown_route_are_answered_by_the_app_not_the_host(client):
    response = client.delete("/api/health")
    body = assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"
    missing = assert_problem(client.get("/api/nothing-here"), 404, "route_not_found")
    # the app's catch-all answered (as it will in Azure, where the host's own 404 is bare)
    assert body["type"] == missing["type"].replace("route_not_found", "method_not_allowed")
    assert missing["type"] == "urn:souq:problem:route_not_found" and missing["invocation_id"]


def test_addresses_round_trip_and_bad_json(client):
    headers = bearer()
    created = client.post(
        "/api/me/addresses",
        headers=headers,
        json={
            "first_name": "Sara",
            "last_name": "Al-Harbi",
            "mobile": "0501234567",
            "street": "King Fahd Road",
            "city": "Riyadh",
        },
    )
    assert created.status_code == 201 and created.json()["is_default"] is True
    assert created.headers["location"].endswith(created.json()["id"])
    listed = client.get("/api/me/addresses", headers=headers).json()
    assert [a["id"] for a in listed["items"]] == [created.json()["id"]]
    assert_problem(client.post("/api/me/addresses", headers=headers, content=b"{oops"), 400, "malformed_json")


def test_maintenance_endpoint_needs_a_function_key_and_an_admin(client):
    assert_problem(client.post("/api/ops/outbox/relay", headers=bearer("admin")), 401, "function_key_required")
    keyed = {"x-functions-key": FUNCTION_KEY}
    assert_problem(client.post("/api/ops/outbox/relay", headers=keyed | bearer("customer")), 403, "forbidden")
    response = client.post("/api/ops/outbox/relay", headers=keyed | bearer("admin"))
    assert response.status_code == 200 and response.json()["sent"] >= 0


def test_admin_api_needs_the_master_key(client):
    response = client.post(
        "/admin/functions/relay_outbox", json={"input": ""}, headers={"x-functions-key": FUNCTION_KEY}
    )
    assert response.status_code == 401


def test_timer_on_demand_relays_the_outbox_and_the_queue_trigger_consumes_it(client, e2e_database):
    user = f"timer-{uuid.uuid4().hex[:8]}"
    assert client.get("/api/me", headers=bearer(sub=user)).status_code == 200
    assert scalar(e2e_database, "SELECT published_at FROM outbox_events WHERE aggregate_id = %s", user) is None
    response = client.post("/admin/functions/relay_outbox", json={"input": ""}, headers={"x-functions-key": MASTER_KEY})
    assert response.status_code == 202
    wait_for(
        lambda: scalar(e2e_database, "SELECT welcomed_at FROM users WHERE id = %s", user),
        "relay_outbox → domain-events queue → handle_domain_event to welcome the user",
    )
    assert scalar(e2e_database, "SELECT published_at IS NOT NULL FROM outbox_events WHERE aggregate_id = %s", user)


def event_for(user_id: str) -> str:
    body = {
        "event_id": str(uuid.uuid4()),
        "event_type": "user.registered",
        "aggregate_type": "user",
        "aggregate_id": user_id,
        "payload": {},
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    return base64.b64encode(json.dumps(body).encode()).decode()


@pytest.mark.slow
def test_a_message_that_keeps_failing_lands_in_the_poison_queue(devhost, host_settings, e2e_database):
    name = host_settings["DOMAIN_EVENTS_QUEUE"]
    message = event_for("nobody-ever-registered")  # the consumer retries: the user may appear later
    queue(name).send_message(message)
    poison = queue(f"{name}-poison")
    found = wait_for(
        lambda: list(poison.peek_messages(max_messages=32)) if _exists(poison) else None,
        "the poison queue to receive the message",
    )
    assert [m.content for m in found] == [message]
    assert scalar(e2e_database, "SELECT count(*) FROM processed_events") == scalar(
        e2e_database, "SELECT count(*) FROM users WHERE welcomed_at IS NOT NULL"
    )
    attempts = [
        line
        for line in devhost.logs().splitlines()
        if "Executed 'Functions.handle_domain_event' (Failed" in line and "nobody-ever-registered" in line
    ]
    assert len(attempts) == 2  # maxDequeueCount = 2, then poison


def test_a_bad_payload_is_recorded_and_dropped_not_poisoned(host_settings, e2e_database):
    name = host_settings["DOMAIN_EVENTS_QUEUE"]
    queue(name).send_message(base64.b64encode(b"definitely not an event").decode())
    wait_for(
        lambda: scalar(
            e2e_database, "SELECT count(*) FROM rejected_messages WHERE body = %s", "definitely not an event"
        ),
        "the rejected message to be recorded",
    )
    wait_for(lambda: queue(name).get_queue_properties().approximate_message_count == 0, "the queue to drain")
    poison = queue(f"{name}-poison")
    contents = [m.content for m in poison.peek_messages(max_messages=32)] if _exists(poison) else []
    assert base64.b64encode(b"definitely not an event").decode() not in contents


def _exists(client: QueueClient) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        client.get_queue_properties()
        return True
    except ResourceNotFoundError:
        return False


def test_openapi_document_is_served(client):
    document = client.get("/api/openapi.json").json()
    assert document["openapi"] == "3.1.0" and "/api/me/addresses/{id}" in document["paths"]
