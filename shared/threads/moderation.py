"""Support and admins: read any thread for moderation (every read audited, committed before the
messages leave), with the text of every edit and delete; list the messages participants
reported. A participant reports a message of their thread."""

from __future__ import annotations

from uuid import UUID

from shared.data import db
from shared.platform.pagination import NEWEST_FIRST, after_created, created_key_of, cut_page, fetch_size
from shared.threads import repo, repo_moderation, repo_reads, rules
from shared.threads.models import (
    AuditSource,
    MessagesQuery,
    ModerationView,
    Party,
    Report,
    ReportMessage,
    ReportPage,
    ReportsQuery,
    Thread,
)


async def moderation_view(thread_id: UUID, query: MessagesQuery, source: AuditSource) -> ModerationView:
    async with db.transaction() as conn:
        thread = await repo.thread_for_party(conn, thread_id, None)
        if thread is None:
            raise rules.thread_not_found(thread_id)
        await repo_moderation.audit(conn, thread_id, source, "thread_read")
    async with db.connection() as conn:
        page = await repo_reads.message_page(conn, thread, query)
        edits = await repo_moderation.edits_of(conn, thread_id, [m.id for m in page.items])
    return ModerationView(thread=Thread(**thread.model_dump()), messages=page, edits=edits)


async def report_message(party: Party, thread_id: UUID, message_id: int, body: ReportMessage) -> tuple[Report, bool]:
    """(the report, made now): reporting the same message again returns the first report."""
    async with db.transaction() as conn:
        if await repo.thread_for_party(conn, thread_id, party) is None:
            raise rules.thread_not_found(thread_id)
        made = await repo_moderation.insert_report(conn, thread_id, message_id, party.user_id, body.reason)
        if made is not None:
            return made, True
        existing = await repo_moderation.existing_report(conn, thread_id, message_id, party.user_id)
    if existing is None:
        raise rules.message_not_found(message_id)
    return existing, False


async def list_reports(query: ReportsQuery) -> ReportPage:
    after = after_created(query.cursor, NEWEST_FIRST)
    rows = await repo_moderation.list_reports(after, fetch_size(query.limit))
    items, next_cursor = cut_page(rows, query.limit, order=NEWEST_FIRST, key_of=created_key_of)
    return ReportPage(items=items, next_cursor=next_cursor)
