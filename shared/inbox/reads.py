"""Agents' reads: the conversation list (keyset on last_message_at), one conversation with its
history, and its messages (keyset both ways)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from shared.data import db
from shared.inbox import repo_conversations, repo_messages, repo_reads, rules
from shared.inbox.models import HistoryRow, MessageRow
from shared.inbox.models_api import (
    ContactOut,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    ConversationsQuery,
    HistoryOut,
    MessageOut,
    MessagePage,
    MessagesQuery,
)
from shared.inbox.repo_reads import ConversationView, ListFilter
from shared.platform.auth import Principal
from shared.platform.errors import FieldError, PlatformError, ValidationFailed
from shared.platform.pagination import cut_page, decode_cursor, fetch_size

BY_ACTIVITY = "last_message_desc"
FIRST_PAGE = (datetime.max.replace(tzinfo=UTC), UUID(int=(1 << 128) - 1))


def conversation_out(view: ConversationView) -> ConversationOut:
    contact = ContactOut(
        id=view.contact_id,
        external_id=view.contact_external_id,
        name=view.contact_name,
        username=view.contact_username,
        verified=view.contact_verified,
    )
    fields = {name: getattr(view, name) for name in ConversationOut.model_fields if name != "contact"}
    return ConversationOut(**fields, contact=contact)


def message_out(row: MessageRow) -> MessageOut:
    return MessageOut(**{name: getattr(row, name) for name in MessageOut.model_fields})


def _history_out(row: HistoryRow) -> HistoryOut:
    return HistoryOut(**{name: getattr(row, name) for name in HistoryOut.model_fields})


def _after(cursor: str | None) -> tuple[datetime, UUID]:
    key = decode_cursor(cursor, BY_ACTIVITY)
    if key is None:
        return FIRST_PAGE
    try:
        return datetime.fromisoformat(key[0]), UUID(key[1])
    except (ValueError, IndexError):
        error = FieldError(path="cursor", message="invalid cursor", code=PlatformError.INVALID_CURSOR)
        raise ValidationFailed("the cursor is not one this API issued for this list", errors=[error]) from None


async def list_conversations(principal: Principal, query: ConversationsQuery) -> ConversationPage:
    scope = rules.agent_scope(principal)
    where = ListFilter(scope.seller_id, query.status, query.assignee, query.connection, query.q)
    async with db.connection(read_only=True) as conn:
        rows = await repo_reads.list_conversations(conn, where, _after(query.cursor), fetch_size(query.limit))
    items, next_cursor = cut_page(
        rows, query.limit, order=BY_ACTIVITY, key_of=lambda r: (r.last_message_at.isoformat(), str(r.id))
    )
    unread = sum(1 for row in items if row.unread_count > 0)
    return ConversationPage(
        items=[conversation_out(r) for r in items], next_cursor=next_cursor, unread_conversations=unread
    )


async def get_conversation(principal: Principal, conversation_id: UUID) -> ConversationDetail:
    scope = rules.agent_scope(principal)
    async with db.connection(read_only=True) as conn:
        view = await repo_reads.conversation_view(conn, conversation_id, scope.seller_id)
        if view is None:
            raise rules.conversation_not_found(conversation_id)
        history = await repo_conversations.history(conn, conversation_id)
    out = conversation_out(view)
    return ConversationDetail(**out.model_dump(), history=[_history_out(h) for h in history])


async def list_messages(principal: Principal, conversation_id: UUID, query: MessagesQuery) -> MessagePage:
    scope = rules.agent_scope(principal)
    async with db.connection(read_only=True) as conn:
        if await repo_conversations.conversation_in_scope(conn, conversation_id, scope.seller_id) is None:
            raise rules.conversation_not_found(conversation_id)
        after, before = _message_id(query.after), _message_id(query.before)
        rows = await repo_messages.list_messages(
            conn, conversation_id, after=after, before=before, limit=fetch_size(query.limit)
        )
    return message_page(rows, query)


def _message_id(digits: str | None) -> int | None:
    return None if digits is None else int(digits)


def message_page(rows: list[MessageRow], query: MessagesQuery) -> MessagePage:
    """Items oldest first either way; next_after is the newest id seen (poll on from it)."""
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if query.after is None:
        rows = list(reversed(rows))
    newest = rows[-1].id if rows else _message_id(query.after)
    return MessagePage(
        items=[message_out(r) for r in rows],
        next_after=newest,
        next_before=rows[0].id if rows and more and query.after is None else None,
    )
