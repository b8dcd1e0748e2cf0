"""Profiles and addresses: the rules and the transactions around them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.events.models import AggregateNotVisible, Consumer, EventEnvelope
from shared.events.repo import record_event
from shared.platform.auth import Principal
from shared.platform.errors import NotFound
from shared.platform.pagination import OLDEST_FIRST, after_created, created_key_of, cut_page, fetch_size
from shared.users import repo, rules
from shared.users.errors import UserError
from shared.users.models import Address, AddressFields, AddressPage, AddressPatch, PageQuery, ProfilePatch, UserProfile

if TYPE_CHECKING:
    from psycopg import AsyncConnection

USER_REGISTERED = "user.registered"


async def ensure_user(conn: AsyncConnection, principal: Principal) -> UserProfile | None:
    """Create the profile from token claims on first sight (race-free under concurrent calls); the
    new profile, or None when it existed. For callers that only need the row to exist."""
    created = await repo.insert_user_if_absent(
        conn, user_id=principal.user_id, email=principal.email, full_name=principal.name
    )
    if created is not None:
        await record_event(
            conn, USER_REGISTERED, aggregate_type="user", aggregate_id=created.id, payload={"email": created.email}
        )
    return created


async def ensure_profile(conn: AsyncConnection, principal: Principal) -> UserProfile:
    """The caller's profile, created on first sight."""
    created = await ensure_user(conn, principal)
    if created is not None:
        return created
    existing = await repo.get_user(conn, principal.user_id)
    assert existing is not None  # the conflicting row is committed: ON CONFLICT waited for it
    return existing


async def get_my_profile(principal: Principal) -> UserProfile:
    async with db.transaction() as conn:
        return await ensure_profile(conn, principal)


async def update_my_profile(principal: Principal, patch: ProfilePatch) -> UserProfile:
    async with db.transaction() as conn:
        await ensure_profile(conn, principal)
        changes = patch.model_dump(exclude_unset=True)
        updated = await repo.update_user_profile(conn, principal.user_id, changes)
    assert updated is not None
    return updated


async def list_my_addresses(principal: Principal, page: PageQuery) -> AddressPage:
    after = after_created(page.cursor, OLDEST_FIRST)
    rows = await repo.list_addresses_after(principal.user_id, after=after, limit=fetch_size(page.limit))
    items, next_cursor = cut_page(rows, page.limit, order=OLDEST_FIRST, key_of=created_key_of)
    return AddressPage(items=items, next_cursor=next_cursor)


async def add_my_address(principal: Principal, fields: AddressFields) -> Address:
    async with db.transaction() as conn:
        await ensure_user(conn, principal)
        await repo.lock_user(conn, principal.user_id)
        if rules.clears_other_defaults(asked=fields.is_default):
            await repo.clear_default_address(conn, principal.user_id)
        return await repo.insert_address(conn, principal.user_id, fields.model_dump(), is_default=fields.is_default)


async def update_my_address(principal: Principal, address_id: UUID, patch: AddressPatch) -> Address:
    changes: dict[str, Any] = patch.model_dump(exclude_unset=True)
    async with db.transaction() as conn:
        await repo.lock_user(conn, principal.user_id)
        if rules.clears_other_defaults(asked=changes.get("is_default")):
            await repo.clear_default_address(conn, principal.user_id, keep_id=address_id)
        updated = await repo.update_address(conn, principal.user_id, address_id, changes)
        if updated is None:
            raise NotFound("no such address", code=UserError.ADDRESS_NOT_FOUND)
    return updated


async def delete_my_address(principal: Principal, address_id: UUID) -> None:
    async with db.transaction() as conn:
        await repo.lock_user(conn, principal.user_id)
        was_default = await repo.delete_address(conn, principal.user_id, address_id)
        if was_default is None:
            raise NotFound("no such address", code=UserError.ADDRESS_NOT_FOUND)
        if rules.promotes_newest_after_delete(was_default=was_default):
            await repo.promote_newest_address(conn, principal.user_id)


async def on_user_registered(conn: AsyncConnection, event: EventEnvelope) -> None:
    """Consumer of `user.registered`: stamps the welcome marker the notifications flow reads."""
    if not await repo.mark_user_welcomed(conn, event.aggregate_id):
        raise AggregateNotVisible(f"user {event.aggregate_id} not found")


# The consumer name predates Consumer: it was the handler's __qualname__, and processed_events
# rows carry it, so it stays as it was.
EVENT_CONSUMERS: dict[str, Consumer] = {USER_REGISTERED: Consumer("on_user_registered", on_user_registered)}
