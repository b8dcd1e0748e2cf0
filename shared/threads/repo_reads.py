"""SQL of reading threads: message pages both ways (keyset on the message id), the read
watermark (forward only), a party's thread list (keyset on last activity) and unread counts.

Unread counts are not counted: a thread numbers its messages (`message_seq`) and a watermark
remembers the seq it reached, so a thread's unread count is one subtraction, and posting moves
the sender side's watermark to its own message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db, multiplexed
from shared.platform.errors import FieldError, PlatformError, ValidationFailed
from shared.platform.pagination import cut_page, decode_cursor
from shared.threads.models import (
    MessagePage,
    MessageRow,
    MessagesQuery,
    Party,
    ReadMark,
    ThreadListRow,
    ThreadPage,
    ThreadRow,
    ThreadsQuery,
    Unread,
    UnreadThread,
)
from shared.threads.repo import ATTACHMENTS_OF_M, MESSAGE_COLUMNS

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# --- message pages -------------------------------------------------------------------------

NO_UPPER_BOUND = 2**63 - 1  # above every bigint id


def _page_sql(*, backwards: bool, with_archive: bool) -> str:
    """One page of a thread's messages between `after` and `before`: newest first (back) or
    oldest first (forward); each table an index range on (thread_id, id), one per partition. A thread with
    archived messages reads archived_messages too (the slower path)."""
    order = "DESC" if backwards else "ASC"
    where = "thread_id = %(thread_id)s AND id > %(after)s AND id < %(before)s"
    live = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {where} ORDER BY id {order} LIMIT %(limit)s"
    if with_archive:
        archived = f"SELECT {MESSAGE_COLUMNS} FROM archived_messages WHERE {where} ORDER BY id {order} LIMIT %(limit)s"
        live = f"({live}) UNION ALL ({archived})"
    return f"SELECT {MESSAGE_COLUMNS}, {ATTACHMENTS_OF_M} FROM ({live}) m ORDER BY id {order} LIMIT %(limit)s"


PAGE_BACK = _page_sql(backwards=True, with_archive=False)
PAGE_BACK_WITH_ARCHIVE = _page_sql(backwards=True, with_archive=True)
PAGE_FORWARD = _page_sql(backwards=False, with_archive=False)
PAGE_FORWARD_WITH_ARCHIVE = _page_sql(backwards=False, with_archive=True)


async def message_page(conn: AsyncConnection, thread: ThreadRow, query: MessagesQuery) -> MessagePage:
    """Oldest first within the page; `has_more` says whether the direction asked goes on."""
    backwards = query.after is None
    if backwards:
        sql = PAGE_BACK_WITH_ARCHIVE if thread.has_archived else PAGE_BACK
    else:
        sql = PAGE_FORWARD_WITH_ARCHIVE if thread.has_archived else PAGE_FORWARD
    before = query.before if query.before is not None else NO_UPPER_BOUND
    params = {"thread_id": thread.id, "after": query.after or 0, "before": before, "limit": query.limit + 1}
    rows = await db.fetch_all(conn, sql, params, MessageRow)
    items = rows[: query.limit]
    if backwards:
        items.reverse()
    return MessagePage(items=[row.model_dump(exclude={"replayed"}) for row in items], has_more=len(rows) > query.limit)


# --- the read watermark --------------------------------------------------------------------

# Forward only: the update matches only while the stored watermark is below the new one, so of
# two concurrent calls the later id wins whatever order they commit in.
MARK_READ = """
WITH target AS (
    SELECT id, seq FROM messages WHERE thread_id = %(thread_id)s AND id = %(up_to)s
    UNION ALL
    SELECT id, seq FROM archived_messages WHERE thread_id = %(thread_id)s AND id = %(up_to)s
), moved AS (
    UPDATE thread_participants p SET last_read_message_id = target.id, last_read_seq = target.seq, last_read_at = now()
    FROM target
    WHERE p.thread_id = %(thread_id)s AND p.side = %(side)s AND p.last_read_message_id < target.id
    RETURNING p.last_read_message_id, p.last_read_seq
)
SELECT %(thread_id)s::uuid AS thread_id,
       coalesce(moved.last_read_message_id, p.last_read_message_id) AS last_read_message_id,
       t.message_seq - coalesce(moved.last_read_seq, p.last_read_seq) AS unread_count
FROM target
JOIN thread_participants p ON p.thread_id = %(thread_id)s AND p.side = %(side)s
JOIN threads t ON t.id = %(thread_id)s
LEFT JOIN moved ON true
"""


async def mark_read(conn: AsyncConnection, thread_id: UUID, party: Party, up_to: int) -> ReadMark | None:
    """The watermark after the call; None when `up_to` is not a message of the thread."""
    params = {"thread_id": thread_id, "side": party.side, "up_to": up_to}
    return await db.fetch_one(conn, MARK_READ, params, ReadMark)


# --- a party's threads ---------------------------------------------------------------------

ACTIVITY_DESC = "activity_desc"
FIRST_PAGE = (datetime.max.replace(tzinfo=UTC), UUID(int=(1 << 128) - 1))

LIST_COLUMNS = """t.id, t.kind, t.subject, t.product_id, t.seller_id, t.shopper_id, t.order_id, t.last_message_id,
       t.last_message_at, t.last_message_preview, t.last_activity_at, t.archived_at, t.created_at,
       t.message_seq - coalesce(p.last_read_seq, 0) AS unread_count"""
KEYSET = """(t.last_activity_at, t.id) < (%(after_at)s, %(after_id)s)
ORDER BY t.last_activity_at DESC, t.id DESC
LIMIT %(limit)s"""

# The seller's name in the shopper's language (the shopper row is the caller's own).
LIST_SHOPPER_THREADS = f"""
SELECT {LIST_COLUMNS},
       CASE WHEN t.seller_id IS NULL THEN 'Support' WHEN u.preferred_language = 'ar' THEN s.name_ar ELSE s.name_en END
           AS other_party_name
FROM threads t
JOIN users u ON u.id = t.shopper_id
LEFT JOIN sellers s ON s.id = t.seller_id
LEFT JOIN thread_participants p ON p.thread_id = t.id AND p.side = 'SHOPPER'
WHERE t.shopper_id = %(party_id)s AND {KEYSET}
"""

LIST_SELLER_THREADS = f"""
SELECT {LIST_COLUMNS}, u.full_name AS other_party_name
FROM threads t
JOIN users u ON u.id = t.shopper_id
LEFT JOIN thread_participants p ON p.thread_id = t.id AND p.side = 'SELLER'
WHERE t.seller_id = %(party_id)s::uuid AND {KEYSET}
"""


def _after(cursor: str | None) -> tuple[datetime, UUID]:
    key = decode_cursor(cursor, ACTIVITY_DESC)
    if key is None:
        return FIRST_PAGE
    try:
        return datetime.fromisoformat(key[0]), UUID(key[1])
    except (ValueError, IndexError):
        raise ValidationFailed(
            "the cursor is not one this API issued for this list",
            errors=[FieldError(path="cursor", message="invalid cursor", code=PlatformError.INVALID_CURSOR)],
        ) from None


async def thread_page(party: Party, query: ThreadsQuery) -> ThreadPage:
    after_at, after_id = _after(query.cursor)
    sql = LIST_SELLER_THREADS if party.side == "SELLER" else LIST_SHOPPER_THREADS
    params = {"party_id": party.party_id, "after_at": after_at, "after_id": after_id, "limit": query.limit + 1}
    rows = await multiplexed.fetch_all(sql, params, ThreadListRow)
    items, next_cursor = cut_page(
        rows, query.limit, order=ACTIVITY_DESC, key_of=lambda r: (r.last_activity_at.isoformat(), str(r.id))
    )
    return ThreadPage(items=items, next_cursor=next_cursor)


# Only the threads with something unread, newest activity first.
UNREAD = """
SELECT t.id AS thread_id, t.message_seq - p.last_read_seq AS unread_count
FROM thread_participants p JOIN threads t ON t.id = p.thread_id
WHERE p.side = %(side)s AND p.party_id = %(party_id)s AND t.message_seq > p.last_read_seq
ORDER BY t.last_activity_at DESC, t.id DESC
"""


async def unread(party: Party) -> Unread:
    params = {"side": party.side, "party_id": party.party_id}
    rows = await multiplexed.fetch_all(UNREAD, params, UnreadThread)
    return Unread(total=sum(row.unread_count for row in rows), threads=rows)
