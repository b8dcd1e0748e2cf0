"""A sender edits or deletes their own message within THREAD_EDIT_WINDOW_MINUTES of posting it.

The message row is locked first and the rules decide on the locked row (sender, not deleted,
window by the injected clock), so two changes at once apply one after the other. An edit keeps
the previous text in `message_edits` (support reads it); a delete blanks the body, keeps the
row and records the text it had."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.threads import repo, repo_messages, rules
from shared.threads.models import Message, MessageRow, Party

if TYPE_CHECKING:
    from psycopg import AsyncConnection

DELETED_PREVIEW = "🚫"


async def edit_message(
    party: Party, thread_id: UUID, message_id: int, body: str, now: datetime, window_minutes: int
) -> Message:
    async with db.transaction() as conn:
        locked = await _lock_own(conn, party, thread_id, message_id, now, window_minutes)
        changed = await repo_messages.change_message(
            conn, locked, body=body, action="edited", preview=rules.preview(body), by=party.user_id, now=now
        )
    assert changed is not None, "the locked row is there"
    return Message(**changed.model_dump(exclude={"replayed"}))


async def delete_message(party: Party, thread_id: UUID, message_id: int, now: datetime, window_minutes: int) -> Message:
    async with db.transaction() as conn:
        locked = await _lock_own(conn, party, thread_id, message_id, now, window_minutes)
        changed = await repo_messages.change_message(
            conn, locked, body="", action="deleted", preview=DELETED_PREVIEW, by=party.user_id, now=now
        )
    assert changed is not None, "the locked row is there"
    return Message(**changed.model_dump(exclude={"replayed"}))


async def _lock_own(
    conn: AsyncConnection, party: Party, thread_id: UUID, message_id: int, now: datetime, window: int
) -> MessageRow:
    if await repo.thread_for_party(conn, thread_id, party) is None:
        raise rules.thread_not_found(thread_id)
    locked = await repo_messages.lock_message(conn, thread_id, message_id)
    if locked is None:
        locked = await repo_messages.archived_message(conn, thread_id, message_id)
        if locked is None:
            raise rules.message_not_found(message_id)
    rules.check_own_change(locked, party, now, window_minutes=window)
    return locked
