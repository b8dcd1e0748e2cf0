"""Profiles and addresses through the real HTTP functions, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest

from functions import users as api
from tests.support import bearer, call

ADDRESS = {
    "label": "Home",
    "first_name": "Sara",
    "last_name": "Al-Harbi",
    "mobile": "0501234567",
    "street": "King Fahd Road",
    "building": "12",
    "city": "Riyadh",
    "postal_code": "12211",
}


def rows(database_url: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


async def add_address(headers: dict[str, str], **overrides: object) -> dict:
    status, _, body = await call(api.add_my_address, "POST", "me/addresses", body=ADDRESS | overrides, headers=headers)
    assert status == 201, body
    return body


async def test_me_creates_profile_from_token_claims(app_env, database_url):
    headers = bearer(sub="user-a", email="a@example.test", name="Aisha")
    status, response_headers, body = await call(api.get_me, "GET", "me", headers=headers)
    assert status == 200
    assert body["id"] == "user-a" and body["email"] == "a@example.test" and body["full_name"] == "Aisha"
    assert response_headers["x-request-id"]
    assert rows(database_url, "SELECT event_type, aggregate_id FROM outbox_events") == [("user.registered", "user-a")]


async def test_concurrent_first_calls_create_one_profile_and_one_event(app_env, database_url):
    headers = bearer(sub="racer")
    results = await asyncio.gather(*(call(api.get_me, "GET", "me", headers=headers) for _ in range(20)))
    assert {status for status, _, _ in results} == {200}
    assert rows(database_url, "SELECT count(*) FROM users WHERE id = 'racer'") == [(1,)]
    assert rows(database_url, "SELECT count(*) FROM outbox_events WHERE aggregate_id = 'racer'") == [(1,)]


async def test_patch_me_normalises_mobile_and_keeps_other_fields(app_env):
    headers = bearer(sub="user-b", name="Omar")
    status, _, body = await call(
        api.patch_me, "PATCH", "me", headers=headers, body={"mobile": "0551112233", "preferred_language": "ar"}
    )
    assert status == 200
    assert body["mobile"] == "+966551112233" and body["preferred_language"] == "ar" and body["full_name"] == "Omar"


@pytest.mark.parametrize(
    "patch,path",
    [
        ({"email": "not-an-email"}, "email"),
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "055 111 2233"}, "mobile"),  # the documented pattern: digits only
        ({"preferred_language": "fr"}, "preferred_language"),
        ({"nickname": "x"}, "nickname"),
    ],
)
async def test_patch_me_rejects_bad_fields_with_paths_and_changes_nothing(app_env, database_url, patch, path):
    headers = bearer(sub="user-c", email="c@example.test")
    await call(api.get_me, "GET", "me", headers=headers)
    status, response_headers, body = await call(api.patch_me, "PATCH", "me", headers=headers, body=patch)
    assert status == 422
    assert response_headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "validation_failed" and [e["path"] for e in body["errors"]] == [path]
    assert body["invocation_id"] == response_headers["x-request-id"]
    assert rows(database_url, "SELECT email, mobile, preferred_language FROM users") == [("c@example.test", None, "en")]


async def test_malformed_json_is_400_problem(app_env):
    status, _headers, body = await call(api.patch_me, "PATCH", "me", headers=bearer(), raw=b'{"mobile": ')
    assert status == 400 and body["code"] == "malformed_json" and body["status"] == 400
    assert "Traceback" not in str(body)


async def test_first_address_becomes_default_and_a_new_default_moves_it(app_env, database_url):
    headers = bearer(sub="user-d")
    first = await add_address(headers)
    second = await add_address(headers, label="Work")
    assert first["is_default"] is True and second["is_default"] is False
    third = await add_address(headers, label="Parents", is_default=True)
    assert third["is_default"] is True
    defaults = rows(database_url, "SELECT id::text FROM addresses WHERE is_default")
    assert defaults == [(third["id"],)]


async def test_concurrent_default_addresses_leave_exactly_one_default(app_env, database_url):
    headers = bearer(sub="user-e")
    results = await asyncio.gather(
        *(
            call(
                api.add_my_address,
                "POST",
                "me/addresses",
                headers=headers,
                body=ADDRESS | {"label": f"A{i}", "is_default": True},
            )
            for i in range(20)
        )
    )
    assert [status for status, _, _ in results] == [201] * 20
    assert rows(database_url, "SELECT count(*), count(*) FILTER (WHERE is_default) FROM addresses") == [(20, 1)]


async def test_make_default_by_patch_and_concurrent_patches_keep_one_default(app_env, database_url):
    headers = bearer(sub="user-f")
    created = [await add_address(headers, label=f"L{i}") for i in range(8)]
    results = await asyncio.gather(
        *(
            call(
                api.update_my_address,
                "PATCH",
                f"me/addresses/{a['id']}",
                headers=headers,
                route_params={"id": a["id"]},
                body={"is_default": True},
            )
            for a in created
        )
    )
    assert {status for status, _, _ in results} == {200}
    assert rows(database_url, "SELECT count(*) FROM addresses WHERE is_default") == [(1,)]


async def test_address_list_pages_by_cursor_without_gaps_or_repeats(app_env):
    headers = bearer(sub="user-g")
    created = [(await add_address(headers, label=f"L{i}"))["id"] for i in range(5)]
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, _, page = await call(api.list_my_addresses, "GET", "me/addresses", headers=headers, params=params)
        assert status == 200 and len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created


@pytest.mark.parametrize("params", [{"cursor": "garbage"}, {"limit": "0"}, {"limit": "101"}, {"offset": "3"}])
async def test_address_list_rejects_bad_query(app_env, params):
    status, _, body = await call(api.list_my_addresses, "GET", "me/addresses", headers=bearer(), params=params)
    assert status == 422 and body["errors"]


async def test_another_users_address_is_404_and_unchanged(app_env, database_url):
    owner, intruder = bearer(sub="owner"), bearer(sub="intruder")
    address = await add_address(owner)
    for function, method, body in (
        (api.update_my_address, "PATCH", {"city": "Jeddah"}),
        (api.delete_my_address, "DELETE", None),
    ):
        status, _, problem = await call(
            function,
            method,
            f"me/addresses/{address['id']}",
            headers=intruder,
            route_params={"id": address["id"]},
            body=body,
        )
        assert status == 404 and problem["code"] == "address_not_found"
    assert rows(database_url, "SELECT user_id, city FROM addresses") == [("owner", "Riyadh")]
    status, _, page = await call(api.list_my_addresses, "GET", "me/addresses", headers=intruder)
    assert page["items"] == []


async def test_deleting_the_default_promotes_the_newest_other(app_env, database_url):
    headers = bearer(sub="user-h")
    first = await add_address(headers)
    await add_address(headers, label="Older")
    newest = await add_address(headers, label="Newest")
    status, _, body = await call(
        api.delete_my_address,
        "DELETE",
        f"me/addresses/{first['id']}",
        headers=headers,
        route_params={"id": first["id"]},
    )
    assert status == 204 and body is None
    assert rows(database_url, "SELECT id::text FROM addresses WHERE is_default") == [(newest["id"],)]


@pytest.mark.parametrize(
    "patch,path",
    [
        ({"city": None}, "city"),
        ({"is_default": False}, "is_default"),
        ({"country": "Saudi"}, "country"),
        ({}, "body"),
        ({"mobile": "+1"}, "mobile"),
    ],
)
async def test_address_patch_validation(app_env, database_url, patch, path):
    headers = bearer(sub="user-i")
    address = await add_address(headers)
    status, _, body = await call(
        api.update_my_address,
        "PATCH",
        f"me/addresses/{address['id']}",
        headers=headers,
        route_params={"id": address["id"]},
        body=patch,
    )
    assert status == 422 and path in [e["path"] for e in body["errors"]]
    assert rows(database_url, "SELECT city, is_default, country FROM addresses") == [("Riyadh", True, "SA")]


async def test_unknown_address_id_is_404(app_env):
    missing = str(uuid.uuid4())
    status, _, body = await call(
        api.update_my_address,
        "PATCH",
        f"me/addresses/{missing}",
        headers=bearer(),
        route_params={"id": missing},
        body={"city": "Jeddah"},
    )
    assert status == 404 and body["code"] == "address_not_found"


async def test_create_address_validation_names_every_bad_field(app_env, database_url):
    body = ADDRESS | {"mobile": "abc", "first_name": "  ", "postal_code": "!"}
    del body["city"]
    status, _, problem = await call(api.add_my_address, "POST", "me/addresses", headers=bearer(), body=body)
    assert status == 422
    assert sorted(e["path"] for e in problem["errors"]) == ["city", "first_name", "mobile", "postal_code"]
    assert rows(database_url, "SELECT count(*) FROM addresses") == [(0,)]


async def test_reads_use_the_replica_pool_and_writes_the_primary(app_env, database_url, monkeypatch):
    from shared.data import db
    from shared.platform.config import reset_settings

    monkeypatch.setenv("DATABASE_READ_URL", database_url)  # a "replica" that is the same server here
    reset_settings()
    headers = bearer(sub="reader")
    await add_address(headers)
    assert set(db.pool_stats()) == {"primary"}
    status, _, page = await call(api.list_my_addresses, "GET", "me/addresses", headers=headers)
    assert status == 200 and len(page["items"]) == 1
    assert set(db.pool_stats()) == {"primary", "read"}


async def test_a_deadlock_is_a_409_conflict_not_a_500(app_env, database_url):
    from shared.data import db
    from shared.platform.errors import Conflict

    async def lock_in_order(first: str, second: str, both_hold_first: asyncio.Barrier) -> None:
        async with db.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (first,))
            await both_hold_first.wait()
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (second,))

    barrier = asyncio.Barrier(2)
    results = await asyncio.gather(
        lock_in_order("a", "b", barrier), lock_in_order("b", "a", barrier), return_exceptions=True
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1 and conflicts[0].status == 409 and conflicts[0].code == "transaction_conflict"


async def test_listed_addresses_match_the_address_model_field_for_field(app_env):
    """The list is rendered by PostgreSQL; it must say exactly what the model-rendered writes say."""
    from datetime import datetime

    from shared.users.models import Address, AddressPage

    headers = bearer(sub="user-parity")
    created = [
        await add_address(
            headers,
            label=f"L{i}",
            building=None if i % 2 else "7",
            region="Najd",
            floor="2",
            district="Al Malaz",
            apartment="9",
            country="sa",
        )
        for i in range(3)
    ]
    listed, next_cursor = [], None
    for cursor in (None, "next"):
        params = {"limit": "2"} | ({"cursor": next_cursor} if cursor else {})
        status, headers_out, page = await call(
            api.list_my_addresses, "GET", "me/addresses", headers=headers, params=params
        )
        assert status == 200 and headers_out["content-type"].startswith("application/json")
        AddressPage.model_validate(page)  # the documented response schema
        listed += page["items"]
        next_cursor = page["next_cursor"]
    assert len(listed) == 3 and listed[-1]
    for from_list, from_write in zip(listed, created, strict=False):
        assert set(from_list) == set(from_write) == set(Address.model_fields)
        for name, value in from_write.items():
            if name in ("created_at", "updated_at"):
                assert datetime.fromisoformat(from_list[name]) == datetime.fromisoformat(value)
                assert from_list[name].endswith("Z")
            else:
                assert from_list[name] == value, name
