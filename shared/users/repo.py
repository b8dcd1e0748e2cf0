"""SQL for users and addresses; each constant sits next to the one function that runs it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db, multiplexed
from shared.users.models import Address, UserProfile

if TYPE_CHECKING:
    from psycopg import AsyncConnection, Connection


PROFILE_COLUMNS = "id, email, full_name, mobile, preferred_language, created_at, updated_at"
ADDRESS_WRITABLE = (
    "label",
    "first_name",
    "last_name",
    "mobile",
    "street",
    "building",
    "floor",
    "apartment",
    "district",
    "city",
    "region",
    "postal_code",
    "country",
)
ADDRESS_COLUMNS = """id, label, first_name, last_name, mobile, street, building, floor, apartment, district, city,
region, postal_code, country, is_default, created_at, updated_at"""

INSERT_USER_IF_ABSENT = f"""
INSERT INTO users (id, email, full_name) VALUES (%(id)s, %(email)s, %(full_name)s)
ON CONFLICT (id) DO NOTHING
RETURNING {PROFILE_COLUMNS}
"""


async def insert_user_if_absent(
    conn: AsyncConnection, *, user_id: str, email: str | None, full_name: str | None
) -> UserProfile | None:
    """The new profile, or None when it already existed (concurrent first calls are safe)."""
    params = {"id": user_id, "email": email, "full_name": full_name}
    return await db.fetch_one(conn, INSERT_USER_IF_ABSENT, params, UserProfile)


SELECT_USER = f"SELECT {PROFILE_COLUMNS} FROM users WHERE id = %(id)s"


async def get_user(conn: AsyncConnection, user_id: str) -> UserProfile | None:
    return await db.fetch_one(conn, SELECT_USER, {"id": user_id}, UserProfile)


# One constant statement for any subset of fields: `set_<field>` says whether to touch it.
UPDATE_USER_PROFILE = f"""
UPDATE users SET
    full_name = CASE WHEN %(set_full_name)s THEN %(full_name)s ELSE full_name END,
    email = CASE WHEN %(set_email)s THEN %(email)s ELSE email END,
    mobile = CASE WHEN %(set_mobile)s THEN %(mobile)s ELSE mobile END,
    preferred_language = CASE WHEN %(set_preferred_language)s
                              THEN %(preferred_language)s ELSE preferred_language END,
    updated_at = now()
WHERE id = %(id)s
RETURNING {PROFILE_COLUMNS}
"""


async def update_user_profile(conn: AsyncConnection, user_id: str, changes: dict[str, Any]) -> UserProfile | None:
    fields = ("full_name", "email", "mobile", "preferred_language")
    params = flagged_params(fields, changes) | {"id": user_id}
    return await db.fetch_one(conn, UPDATE_USER_PROFILE, params, UserProfile)


def flagged_params(fields: tuple[str, ...], changes: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in fields:
        params[f"set_{name}"] = name in changes
        params[name] = changes.get(name)
    return params


MARK_USER_WELCOMED = "UPDATE users SET welcomed_at = coalesce(welcomed_at, now()) WHERE id = %(id)s"


async def mark_user_welcomed(conn: AsyncConnection, user_id: str) -> bool:
    return await db.execute(conn, MARK_USER_WELCOMED, {"id": user_id}) == 1


# Serialises one user's address writes, so "clear old default, set new one" never interleaves.
LOCK_USER_ROW = "SELECT 1 FROM users WHERE id = %(id)s FOR UPDATE"


async def lock_user(conn: AsyncConnection, user_id: str) -> None:
    await db.execute(conn, LOCK_USER_ROW, {"id": user_id})


CLEAR_DEFAULT_ADDRESS = """
UPDATE addresses SET is_default = false, updated_at = now()
WHERE user_id = %(user_id)s AND is_default AND id IS DISTINCT FROM %(keep_id)s
"""


async def clear_default_address(conn: AsyncConnection, user_id: str, *, keep_id: UUID | None = None) -> None:
    await db.execute(conn, CLEAR_DEFAULT_ADDRESS, {"user_id": user_id, "keep_id": keep_id})


# The first address a user saves becomes the default even when not asked for: decided by the
# statement itself (the caller holds the user's row lock, so no concurrent insert races it).
INSERT_ADDRESS = f"""
INSERT INTO addresses (user_id, label, first_name, last_name, mobile, street, building, floor, apartment,
                       district, city, region, postal_code, country, is_default)
VALUES (%(user_id)s, %(label)s, %(first_name)s, %(last_name)s, %(mobile)s, %(street)s, %(building)s, %(floor)s,
        %(apartment)s, %(district)s, %(city)s, %(region)s, %(postal_code)s, %(country)s,
        %(is_default)s OR NOT EXISTS (SELECT FROM addresses WHERE user_id = %(user_id)s AND is_default))
RETURNING {ADDRESS_COLUMNS}
"""


async def insert_address(conn: AsyncConnection, user_id: str, fields: dict[str, Any], *, is_default: bool) -> Address:
    params = {c: fields.get(c) for c in ADDRESS_WRITABLE} | {"user_id": user_id, "is_default": is_default}
    address = await db.fetch_one(conn, INSERT_ADDRESS, params, Address)
    assert address is not None
    return address


LIST_ADDRESSES_AFTER = f"""
SELECT {ADDRESS_COLUMNS} FROM addresses
WHERE user_id = %(user_id)s AND (created_at, id) > (%(after_created_at)s, %(after_id)s)
ORDER BY created_at, id
LIMIT %(limit)s
"""


async def list_addresses_after(user_id: str, *, after: tuple[datetime, UUID], limit: int) -> list[Address]:
    """A multiplexed read (shared/data/multiplexed.py): it takes no connection of the caller's."""
    after_created_at, after_id = after
    params = {"user_id": user_id, "after_created_at": after_created_at, "after_id": after_id, "limit": limit}
    return await multiplexed.fetch_all(LIST_ADDRESSES_AFTER, params, Address)


# One constant statement for any subset of fields, as UPDATE_USER_PROFILE.
UPDATE_ADDRESS = f"""
UPDATE addresses SET
    label = CASE WHEN %(set_label)s THEN %(label)s ELSE label END,
    first_name = CASE WHEN %(set_first_name)s THEN %(first_name)s ELSE first_name END,
    last_name = CASE WHEN %(set_last_name)s THEN %(last_name)s ELSE last_name END,
    mobile = CASE WHEN %(set_mobile)s THEN %(mobile)s ELSE mobile END,
    street = CASE WHEN %(set_street)s THEN %(street)s ELSE street END,
    building = CASE WHEN %(set_building)s THEN %(building)s ELSE building END,
    floor = CASE WHEN %(set_floor)s THEN %(floor)s ELSE floor END,
    apartment = CASE WHEN %(set_apartment)s THEN %(apartment)s ELSE apartment END,
    district = CASE WHEN %(set_district)s THEN %(district)s ELSE district END,
    city = CASE WHEN %(set_city)s THEN %(city)s ELSE city END,
    region = CASE WHEN %(set_region)s THEN %(region)s ELSE region END,
    postal_code = CASE WHEN %(set_postal_code)s THEN %(postal_code)s ELSE postal_code END,
    country = CASE WHEN %(set_country)s THEN %(country)s ELSE country END,
    is_default = CASE WHEN %(set_is_default)s THEN %(is_default)s ELSE is_default END,
    updated_at = now()
WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING {ADDRESS_COLUMNS}
"""


async def update_address(
    conn: AsyncConnection, user_id: str, address_id: UUID, changes: dict[str, Any]
) -> Address | None:
    params = flagged_params((*ADDRESS_WRITABLE, "is_default"), changes)
    params |= {"id": address_id, "user_id": user_id}
    return await db.fetch_one(conn, UPDATE_ADDRESS, params, Address)


DELETE_ADDRESS = "DELETE FROM addresses WHERE id = %(id)s AND user_id = %(user_id)s RETURNING is_default"


async def delete_address(conn: AsyncConnection, user_id: str, address_id: UUID) -> bool | None:
    """None when no such address of this user; else whether it was the default."""
    async with conn.cursor() as cur:
        await cur.execute(DELETE_ADDRESS, {"id": address_id, "user_id": user_id})
        row = await cur.fetchone()
    return None if row is None else bool(row[0])


PROMOTE_NEWEST_ADDRESS = """
UPDATE addresses SET is_default = true, updated_at = now()
WHERE id = (SELECT id FROM addresses WHERE user_id = %(user_id)s ORDER BY created_at DESC, id DESC LIMIT 1)
"""


async def promote_newest_address(conn: AsyncConnection, user_id: str) -> None:
    await db.execute(conn, PROMOTE_NEWEST_ADDRESS, {"user_id": user_id})


# -- demo data for `make run` (scripts/demo_data.py): fixed ids, so loading twice changes nothing

INSERT_DEMO_USER = """
INSERT INTO users (id, email, full_name, mobile, preferred_language)
VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING
"""


def insert_demo_users(conn: Connection, users: Sequence[tuple[object, ...]]) -> None:
    """Synchronous: the dev script loads them before the app (and its async pools) starts."""
    conn.cursor().executemany(INSERT_DEMO_USER, users)


INSERT_DEMO_ADDRESS = """
INSERT INTO addresses (id, user_id, label, first_name, last_name, mobile, street, building, floor,
                       apartment, district, city, region, postal_code, is_default)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING
"""


def insert_demo_addresses(conn: Connection, addresses: Sequence[tuple[object, ...]]) -> None:
    conn.cursor().executemany(INSERT_DEMO_ADDRESS, addresses)
