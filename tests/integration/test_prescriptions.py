"""Prescriptions against the real PostgreSQL and Azurite: the upload through the signed URL, the
checks on submit, who sees what, the pharmacist's review (raced at the database), its effects on
paid child orders waiting for it, the audit, and the daily expiry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import httpx
import psycopg
import pytest

from tests.catalog_support import put_offer, sql
from tests.order_support import line, place, seller_headers, stock, stocked_catalog
from tests.support import LockGate, bearer, call

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PHARMACIST = bearer("pharmacist", sub="pharm-huda", name="Dr. Huda Al-Qahtani")
PHARMACIST_2 = bearer("pharmacist", sub="pharm-omar", name="Dr. Omar")
IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
async def catalog(app_env, database_url):
    catalog = await stocked_catalog(database_url)
    status, body = await put_offer(catalog, "nahdi", "augmentin", on_hand=10)  # prescription-only
    assert status == 200, body
    return catalog


async def upload(headers: dict, content: bytes = PDF_BYTES, file_name: str = "scan.pdf") -> dict:
    """A new prescription with `content` PUT to its upload URL, as a browser would."""
    status, response_headers, ticket = await call(
        "create_prescription", "POST", "prescriptions", body={"file_name": file_name}, headers=headers
    )
    assert status == 201, ticket
    assert response_headers["location"] == f"/api/prescriptions/{ticket['id']}"
    upload = ticket["upload"]
    assert upload["method"] == "PUT" and upload["headers"] == {"x-ms-blob-type": "BlockBlob"}
    assert datetime.fromisoformat(upload["expires_at"]) <= datetime.now(UTC) + timedelta(minutes=5, seconds=5)
    async with httpx.AsyncClient(timeout=10) as client:
        put = await client.put(upload["url"], content=content, headers=upload["headers"])
    assert put.status_code == 201, put.text
    return ticket


async def submit(headers: dict, prescription_id: str) -> tuple[int, dict]:
    status, _, body = await call(
        "submit_prescription", "POST", f"prescriptions/{prescription_id}/submit", headers=headers,
        route_params={"id": prescription_id},
    )  # fmt: skip
    return status, body


async def submitted(headers: dict, **kwargs) -> dict:
    ticket = await upload(headers, **kwargs)
    status, body = await submit(headers, ticket["id"])
    assert status == 200, body
    return body


async def review(prescription: dict, headers: dict = PHARMACIST, **body) -> tuple[int, dict]:
    path = f"pharmacist/prescriptions/{prescription['id']}/review"
    body = {"version": prescription["version"], **body}
    status, _, response = await call(
        "review_prescription", "POST", path, body=body, headers=headers, route_params={"id": prescription["id"]}
    )
    return status, response


async def approve(prescription: dict, headers: dict = PHARMACIST) -> dict:
    status, body = await review(prescription, headers, decision="APPROVED", expires_on=IN_A_MONTH)
    assert status == 200, body
    return body


async def reject(prescription: dict) -> dict:
    status, body = await review(prescription, decision="REJECTED", notes="the prescription is illegible")
    assert status == 200, body
    return body


def rx_line(catalog, prescription: dict, quantity: int = 1) -> dict:
    return line(catalog, "augmentin", quantity, "nahdi") | {"prescription_id": prescription["id"]}


async def paid(database_url: str, order: dict) -> dict[str, str]:
    """The order as the payment consumer leaves it: paid, its units consumed, each child CONFIRMED
    or AWAITING_PRESCRIPTION (orders.service.children_after_payment). Returns child → status."""
    from shared.data import db
    from shared.orders import service as orders

    async with db.transaction() as conn:
        await orders.consume_reservations(conn, UUID(order["id"]))
        statuses = await orders.children_after_payment(conn, UUID(order["id"]), date.today())
    for child, status in statuses.items():
        sql(database_url, "UPDATE seller_orders SET status = %s, version = version + 1 WHERE id = %s", status, child)
    sql(database_url, "UPDATE orders SET payment_status = 'PAID', status = 'IN_PROGRESS' WHERE id = %s", order["id"])
    return {str(child): status for child, status in statuses.items()}


# --- upload, submit, read ------------------------------------------------------------------


async def test_upload_through_the_signed_url_then_submit_makes_it_pending(catalog, database_url):
    shopper = bearer(sub="rx-shopper-1")
    ticket = await upload(shopper)
    assert ticket["status"] == "UPLOADING" and ticket["max_bytes"] == 10 * 1024 * 1024
    status, body = await submit(shopper, ticket["id"])
    assert status == 200, body
    assert (body["status"], body["content_type"], body["size_bytes"]) == ("PENDING", "application/pdf", len(PDF_BYTES))
    status, again = await submit(shopper, ticket["id"])
    assert status == 409 and again["code"] == "prescription_already_submitted"
    status, _, page = await call("list_my_prescriptions", "GET", "prescriptions", headers=shopper)
    assert status == 200 and [p["id"] for p in page["items"]] == [ticket["id"]]
    assert sql(database_url, "SELECT action, actor_role FROM prescription_audit ORDER BY id") == [
        ("created", "customer"),
        ("submitted", "customer"),
    ]


async def test_the_upload_url_writes_only_that_blob_and_cannot_replace_it(catalog):
    shopper = bearer(sub="rx-shopper-2")
    ticket = await upload(shopper)
    url = ticket["upload"]["url"]
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(url)).status_code == 403  # write-only: no reading back
        other = url.replace(ticket["id"], str(uuid.uuid4()))
        assert (await client.put(other, content=PDF_BYTES, headers=ticket["upload"]["headers"])).status_code == 403
        overwrite = await client.put(url, content=b"<html>swap</html>", headers=ticket["upload"]["headers"])
    assert overwrite.status_code in (403, 409), overwrite.text  # create-only: the checked file stays


async def test_a_renamed_non_image_an_empty_a_missing_and_an_oversize_file_are_refused(catalog, monkeypatch):
    from shared.platform.config import reset_settings

    shopper = bearer(sub="rx-shopper-3")
    renamed = await upload(shopper, b"MZ\x90\x00\x03 this is an executable", file_name="prescription.jpg")
    status, body = await submit(shopper, renamed["id"])
    assert status == 422 and body["code"] == "prescription_file_type_not_allowed", body
    status, body = await submit(shopper, (await upload(shopper, b""))["id"])
    assert status == 422 and body["code"] == "prescription_file_empty"
    status, _, missing = await call(
        "create_prescription", "POST", "prescriptions", body={"file_name": "x.png"}, headers=shopper
    )
    status, body = await submit(shopper, missing["id"])
    assert status == 422 and body["code"] == "prescription_file_missing"
    monkeypatch.setenv("PRESCRIPTION_MAX_BYTES", "1024")
    reset_settings()
    big = await upload(shopper, b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048, file_name="big.png")
    status, body = await submit(shopper, big["id"])
    assert status == 422 and body["code"] == "prescription_file_too_large" and body["max_bytes"] == 1024
    status, _, page = await call("list_my_prescriptions", "GET", "prescriptions", headers=shopper)
    assert {p["status"] for p in page["items"]} == {"UPLOADING"}  # nothing refused went on


async def test_other_people_get_404_and_sellers_never_reach_files(catalog):
    mine = await submitted(bearer(sub="rx-owner"))
    for stranger in (bearer(sub="rx-stranger"), seller_headers(catalog, "nahdi")):
        status, body = await submit(stranger, mine["id"])
        assert status == 404 and body["code"] == "prescription_not_found"
        status, _, page = await call("list_my_prescriptions", "GET", "prescriptions", headers=stranger)
        assert page["items"] == []
    path = f"pharmacist/prescriptions/{mine['id']}/file"
    status, _, body = await call(
        "get_prescription_file", "GET", path, headers=seller_headers(catalog, "nahdi"), route_params={"id": mine["id"]}
    )
    assert status == 403


async def test_the_pharmacist_queue_is_oldest_first_in_keyset_pages_and_the_file_url_is_audited(catalog, database_url):
    shopper = bearer(sub="rx-shopper-4")
    ids = [(await submitted(shopper))["id"] for _ in range(3)]
    seen, cursor = [], ""
    while True:
        status, _, page = await call(
            "list_prescription_queue", "GET", "pharmacist/prescriptions", headers=PHARMACIST,
            params={"limit": "2", "cursor": cursor},
        )  # fmt: skip
        assert status == 200, page
        seen += [p["id"] for p in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ids
    headers = PHARMACIST | {"x-forwarded-for": "203.0.113.9:50000", "user-agent": "PharmacyDesk/2"}
    status, _, file = await call(
        "get_prescription_file", "GET", f"pharmacist/prescriptions/{ids[0]}/file", headers=headers,
        route_params={"id": ids[0]},
    )  # fmt: skip
    assert status == 200 and file["content_type"] == "application/pdf"
    assert datetime.fromisoformat(file["expires_at"]) <= datetime.now(UTC) + timedelta(minutes=5, seconds=5)
    async with httpx.AsyncClient(timeout=10) as client:
        read = await client.get(file["url"])
    assert read.status_code == 200 and read.content == PDF_BYTES
    assert read.headers["content-type"] == "application/pdf"
    assert sql(
        database_url,
        "SELECT actor_id, actor_role, client_ip, user_agent FROM prescription_audit WHERE action = 'file_viewed'",
    ) == [("pharm-huda", "pharmacist", "203.0.113.9", "PharmacyDesk/2")]


async def test_the_audit_table_refuses_updates_and_deletes(catalog, database_url):
    await submitted(bearer(sub="rx-shopper-5"))
    for statement in ("UPDATE prescription_audit SET actor_id = 'x'", "DELETE FROM prescription_audit"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            sql(database_url, statement)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(database_url, "TRUNCATE prescription_audit")
    assert sql(database_url, "SELECT count(*) FROM prescription_audit") == [(2,)]


# --- the review ----------------------------------------------------------------------------


async def test_two_pharmacists_reviewing_at_once_one_wins_one_gets_409(catalog, database_url):
    prescription = await submitted(bearer(sub="rx-shopper-6"))
    lock = "SELECT 1 FROM prescriptions WHERE id = %s FOR NO KEY UPDATE"
    async with LockGate.holding(database_url, lock, (prescription["id"],)) as gate:
        racing = asyncio.gather(
            review(prescription, PHARMACIST, decision="APPROVED", expires_on=IN_A_MONTH),
            review(prescription, PHARMACIST_2, decision="REJECTED", notes="not a prescription"),
        )
        waiting = await gate.open_when_waiting(2, racing)
        results = await racing
    assert len(set(waiting)) == 2  # both reviews waited on the row inside PostgreSQL: the race was real
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert loser["code"] == "prescription_version_conflict" and loser["current_version"] == prescription["version"] + 1
    assert sql(database_url, "SELECT count(*) FROM prescription_audit WHERE action IN ('approved', 'rejected')") == [
        (1,)
    ]


async def test_a_review_checks_its_fields_and_only_pharmacists_review(catalog):
    prescription = await submitted(bearer(sub="rx-shopper-7"))
    status, body = await review(prescription, decision="APPROVED", expires_on="2001-01-01")
    assert status == 422 and body["errors"][0]["code"] == "in_past"
    status, body = await review(prescription, decision="APPROVED")
    assert status == 422
    status, body = await review(prescription, bearer("admin", sub="ops-1"), decision="APPROVED", expires_on=IN_A_MONTH)
    assert status == 403
    approved = await approve(prescription)
    assert (approved["status"], approved["reviewer_name"], approved["expires_on"]) == (
        "APPROVED",
        "Dr. Huda Al-Qahtani",
        IN_A_MONTH,
    )
    status, body = await review(approved, decision="REJECTED", notes="changed my mind")
    assert status == 409 and body["code"] == "prescription_not_pending"


# --- orders with prescription-only lines ---------------------------------------------------


async def test_an_rx_line_needs_a_usable_prescription_of_the_shopper(catalog, database_url):
    shopper = bearer(sub="rx-buyer-1")
    status, _, body = await place(shopper, [line(catalog, "vitamin", 1), line(catalog, "augmentin", 1, "nahdi")])
    assert status == 422 and body["code"] == "invalid_prescriptions"
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("lines/1/prescription_id", "prescription_required")]
    someone_elses = await submitted(bearer(sub="rx-someone-else"))
    status, _, body = await place(shopper, [rx_line(catalog, someone_elses)])
    unknown = {"id": str(uuid.uuid4())}
    status_unknown, _, body_unknown = await place(shopper, [rx_line(catalog, unknown)])
    assert status == status_unknown == 422
    assert (
        body["errors"]
        == body_unknown["errors"]
        == [
            {
                "path": "lines/0/prescription_id",
                "message": "no such prescription of yours",
                "code": "unknown_prescription",
            }
        ]
    )
    rejected = await reject(await submitted(shopper))
    status, _, body = await place(shopper, [rx_line(catalog, rejected)])
    assert status == 422 and body["errors"][0]["code"] == "prescription_not_usable"
    assert sql(database_url, "SELECT count(*) FROM orders") == [(0,)]
    assert stock(database_url, catalog, "nahdi", "augmentin") == (10, 0)


async def test_placing_with_an_rx_line_keeps_the_five_statements(catalog, monkeypatch):
    from shared.events import relay
    from shared.orders.models import PlaceOrder
    from shared.orders.service import place_order
    from shared.platform.auth import Principal
    from tests.support import counting_statements

    headers = bearer(sub="rx-buyer-count")
    prescription = await submitted(headers)
    shopper = Principal("rx-buyer-count", frozenset({"customer"}))
    body = PlaceOrder.model_validate({"lines": [rx_line(catalog, prescription)], "delivery_method": "pickup"})
    await relay.wait_for_background_relay()  # its statements are not the placement's
    with counting_statements(monkeypatch) as sent:
        await place_order(shopper, body, str(uuid.uuid4()))
    assert len(sent) == 5, [s.strip()[:60] for s in sent]


async def test_upload_to_approval_to_a_confirmed_order_the_seller_sees_who_approved_until_when(catalog, database_url):
    shopper = bearer(sub="rx-buyer-2")
    prescription = await submitted(shopper)
    status, _, order = await place(shopper, [rx_line(catalog, prescription, 2), line(catalog, "vitamin", 1, "nahdi")])
    assert status == 201, order
    assert order["prescription_ids"] == [prescription["id"]]
    child = order["children"][0]
    assert [i["prescription_id"] for i in child["items"]] == [prescription["id"], None]
    assert await paid(database_url, order) == {child["id"]: "AWAITING_PRESCRIPTION"}
    await approve(prescription)
    status, _, view = await call(
        "get_seller_order", "GET", f"seller/orders/{child['id']}", headers=seller_headers(catalog, "nahdi"),
        route_params={"id": child["id"]},
    )  # fmt: skip
    assert status == 200 and view["status"] == "CONFIRMED"
    rx_item, plain_item = view["items"]
    assert "prescription_id" not in rx_item and plain_item["prescription_approval"] is None
    assert rx_item["prescription_approval"]["approved_by"] == "Dr. Huda Al-Qahtani"
    assert rx_item["prescription_approval"]["valid_until"] == IN_A_MONTH
    assert stock(database_url, catalog, "nahdi", "augmentin") == (8, 0)
    history = sql(
        database_url, "SELECT to_status, actor_role FROM order_status_history WHERE seller_order_id = %s", child["id"]
    )
    assert history[-1] == ("CONFIRMED", "pharmacist")


async def test_a_rejection_cancels_only_its_lines_restocks_them_and_confirms_the_rest(catalog, database_url):
    shopper = bearer(sub="rx-buyer-3")
    prescription = await submitted(shopper)
    status, _, order = await place(shopper, [rx_line(catalog, prescription, 3), line(catalog, "vitamin", 2, "nahdi")])
    assert status == 201, order
    await paid(database_url, order)
    assert stock(database_url, catalog, "nahdi", "augmentin") == (7, 0)
    await reject(prescription)
    child = order["children"][0]
    assert sql(database_url, "SELECT status FROM seller_orders WHERE id = %s", child["id"]) == [("CONFIRMED",)]
    assert stock(database_url, catalog, "nahdi", "augmentin") == (10, 0)  # back on the shelf
    assert stock(database_url, catalog, "nahdi", "vitamin") == (28, 0)  # still sold
    assert sql(
        database_url, "SELECT line_no, cancelled_at IS NOT NULL FROM order_items WHERE order_id = %s ORDER BY line_no",
        order["id"],
    ) == [(1, True), (2, False)]  # fmt: skip
    [(payload,)] = sql(database_url, "SELECT payload FROM outbox_events WHERE event_type = 'prescription.rejected'")
    assert payload["seller_order_id"] == child["id"] and payload["child_cancelled"] is False
    assert [(x["line_no"], x["quantity"], x["line_total"]) for x in payload["lines"]] == [(1, 3, "195.00")]


async def test_a_rejection_of_the_only_line_cancels_the_child_and_notifies_in_both_languages(
    catalog, database_url, order_queue
):
    from shared.events import relay
    from tests.order_support import shopper_with_address  # noqa: F401 - the shopper needs no address here

    shopper = bearer(sub="rx-buyer-4")
    prescription = await submitted(shopper)
    _, _, order = await place(shopper, [rx_line(catalog, prescription, 1)])
    await paid(database_url, order)
    await reject(prescription)
    child = order["children"][0]
    assert sql(database_url, "SELECT status FROM seller_orders WHERE id = %s", child["id"]) == [("CANCELLED",)]
    assert sql(database_url, "SELECT status FROM orders WHERE id = %s", order["id"]) == [("CANCELLED",)]
    assert stock(database_url, catalog, "nahdi", "augmentin") == (10, 0)
    await relay.wait_for_background_relay()
    await deliver_order_events(order_queue)
    notes = sql(database_url, "SELECT recipient_type, kind, title_en, title_ar FROM notifications ORDER BY title_en")
    rejected = [n for n in notes if n[1] == "prescription.rejected"]
    assert {n[0] for n in rejected} == {"user", "seller"}
    assert all("prescription was rejected" in n[2] and "رُفضت الوصفة الطبية" in n[3] for n in rejected)
    assert not [n for n in notes if n[1] == "order.cancelled"]  # told once, by the prescription event


async def deliver_order_events(queue_name: str) -> None:
    """Relays the outbox and hands every message of the order events queue to the consumer."""
    from shared.events import relay
    from shared.notifications import service as notifications
    from shared.storage import queue_client

    await relay.relay_outbox()
    client = queue_client(queue_name)
    async for message in client.receive_messages(messages_per_page=32, visibility_timeout=30):
        import base64

        body = base64.b64decode(message.content)
        await notifications.consume_order_event(body, queue_name=queue_name, message_id=message.id, dequeue_count=1)
        await client.delete_message(message)


# --- the daily timer -----------------------------------------------------------------------


async def test_expiry_marks_past_approvals_and_releases_old_holds_once_even_when_runs_overlap(catalog, database_url):
    from shared.prescriptions import service as prescriptions

    shopper = bearer(sub="rx-buyer-5")
    old = await approve(await submitted(shopper))
    sql(database_url, "UPDATE prescriptions SET expires_on = current_date - 1 WHERE id = %s", old["id"])
    pending = await submitted(shopper)
    _, _, order = await place(shopper, [rx_line(catalog, pending, 2)])
    await paid(database_url, order)
    child = order["children"][0]
    sql(
        database_url,
        "UPDATE seller_orders SET awaiting_prescription_since = now() - interval '49 hours' WHERE id = %s",
        child["id"],
    )
    runs = await asyncio.gather(prescriptions.expire_prescriptions(), prescriptions.expire_prescriptions())
    assert sum(r.prescriptions for r in runs) == 1 and sum(r.holds_released for r in runs) == 1
    assert sql(database_url, "SELECT status FROM prescriptions WHERE id = %s", old["id"]) == [("EXPIRED",)]
    assert sql(database_url, "SELECT status FROM seller_orders WHERE id = %s", child["id"]) == [("CANCELLED",)]
    assert stock(database_url, catalog, "nahdi", "augmentin") == (10, 0)
    [(payload,)] = sql(database_url, "SELECT payload FROM outbox_events WHERE event_type = 'prescription.hold_expired'")
    assert payload["child_cancelled"] is True and payload["lines"][0]["quantity"] == 2
    again = await prescriptions.expire_prescriptions()
    assert (again.prescriptions, again.holds_released) == (0, 0)
    assert sql(database_url, "SELECT count(*) FROM prescription_audit WHERE action = 'expired'") == [(1,)]
