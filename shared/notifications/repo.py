"""SQL for notifications; each constant sits next to the one function that runs it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.notifications.models import NewNotification, Notification, OrderNumbers, Recipient

if TYPE_CHECKING:
    from psycopg import AsyncConnection


SELECT_ORDER_NUMBERS = """
SELECT o.number, coalesce(jsonb_object_agg(so.seller_id::text, so.number)
                          FILTER (WHERE so.id IS NOT NULL), '{}') AS seller_numbers
FROM orders o LEFT JOIN seller_orders so ON so.order_id = o.id
WHERE o.id = %(order_id)s
GROUP BY o.number
"""


async def order_numbers(conn: AsyncConnection, order_id: UUID) -> OrderNumbers | None:
    return await db.fetch_one(conn, SELECT_ORDER_NUMBERS, {"order_id": order_id}, OrderNumbers)


# All recipients of one event in one statement. created_at is the event's occurred_at, the
# same on every delivery, so the unique (event, recipient, created_at) of the partitioned
# table (migration 0016) makes a redelivered event a no-op.
INSERT_NOTIFICATIONS = """
INSERT INTO notifications (event_id, recipient_type, recipient_id, kind, title_en, title_ar, data, created_at)
SELECT %(event_id)s, n.recipient_type, n.recipient_id, n.kind, n.title_en, n.title_ar, n.data, %(occurred_at)s
FROM unnest(%(recipient_type)s::text[], %(recipient_id)s::text[], %(kind)s::text[], %(title_en)s::text[],
            %(title_ar)s::text[], %(data)s::jsonb[])
     AS n(recipient_type, recipient_id, kind, title_en, title_ar, data)
ON CONFLICT (event_id, recipient_type, recipient_id, created_at) DO NOTHING
"""


async def insert_notifications(
    conn: AsyncConnection, event_id: UUID, occurred_at: datetime, notes: list[NewNotification]
) -> int:
    """How many were new (0: the event was handled before)."""
    from psycopg.types.json import Jsonb

    params = {
        "event_id": event_id,
        "occurred_at": occurred_at,
        "recipient_type": [n.recipient.type for n in notes],
        "recipient_id": [n.recipient.id for n in notes],
        "kind": [n.kind for n in notes],
        "title_en": [n.title_en for n in notes],
        "title_ar": [n.title_ar for n in notes],
        "data": [Jsonb(n.data) for n in notes],
    }
    return await db.execute(conn, INSERT_NOTIFICATIONS, params)


NOTIFICATION_COLUMNS = "id, kind, title_en, title_ar, data, read_at, created_at"

# Newest first, resuming below the previous page's last row (the first page below the
# pagination sentinel), so one statement (one index range) serves every page.
LIST_NOTIFICATIONS = f"""
SELECT {NOTIFICATION_COLUMNS} FROM notifications
WHERE recipient_type = %(recipient_type)s AND recipient_id = %(recipient_id)s
  AND (created_at, id) < (%(after_created_at)s, %(after_id)s)
  AND (NOT %(unread_only)s OR read_at IS NULL)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""


async def list_notifications(
    conn: AsyncConnection, recipient: Recipient, *, unread_only: bool, after: tuple[datetime, UUID], limit: int
) -> list[Notification]:
    after_created_at, after_id = after
    params = {
        "recipient_type": recipient.type,
        "recipient_id": recipient.id,
        "unread_only": unread_only,
        "after_created_at": after_created_at,
        "after_id": after_id,
        "limit": limit,
    }
    return await db.fetch_all(conn, LIST_NOTIFICATIONS, params, Notification)


COUNT_UNREAD = """
SELECT count(*) FROM notifications
WHERE recipient_type = %(recipient_type)s AND recipient_id = %(recipient_id)s AND read_at IS NULL
"""


async def count_unread(conn: AsyncConnection, recipient: Recipient) -> int:
    return await db.fetch_value(conn, COUNT_UNREAD, {"recipient_type": recipient.type, "recipient_id": recipient.id})


# Marking read first ends the thread notices' claims (thread_unread_notices, migration 0016),
# then sets read_at: the thread consumer locks a claim before its notification too, so the two
# take their locks in one order, and a message posted after the read starts a new notice.
RELEASE_THREAD_NOTICES = """
DELETE FROM thread_unread_notices
WHERE recipient_type = %(recipient_type)s AND recipient_id = %(recipient_id)s
  AND (%(all)s OR notification_id = ANY(%(ids)s::uuid[]))
"""

# Only the recipient's own rows: ids of someone else's notifications match nothing.
MARK_READ = """
UPDATE notifications SET read_at = now()
WHERE recipient_type = %(recipient_type)s AND recipient_id = %(recipient_id)s AND read_at IS NULL
  AND (%(all)s OR id = ANY(%(ids)s::uuid[]))
"""


async def mark_read(conn: AsyncConnection, recipient: Recipient, *, ids: list[UUID] | None, everything: bool) -> int:
    """In the caller's transaction (the claims and the rows change together)."""
    params = {"recipient_type": recipient.type, "recipient_id": recipient.id, "all": everything, "ids": ids or []}
    await db.execute(conn, RELEASE_THREAD_NOTICES, params)
    return await db.execute(conn, MARK_READ, params)


# A thread's unread "new messages" notice collects every message until it is read. The claim
# row per (recipient, thread) is the constraint: inserted for a new notice (its notification id
# chosen here), locked (a no-op update) when one exists, so concurrent consumers of one thread
# queue on it, in recipient order (no deadlock between multi-recipient events).
CLAIM_THREAD_NOTICES = """
INSERT INTO thread_unread_notices (recipient_type, recipient_id, thread_id, notification_id)
SELECT n.recipient_type, n.recipient_id, %(thread_id)s, gen_random_uuid()
FROM unnest(%(recipient_type)s::text[], %(recipient_id)s::text[]) AS n(recipient_type, recipient_id)
ORDER BY n.recipient_type, n.recipient_id
ON CONFLICT (recipient_type, recipient_id, thread_id)
DO UPDATE SET notification_id = thread_unread_notices.notification_id
RETURNING notification_id
"""

# A second statement, so it sees what a consumer the claim waited for committed (READ
# COMMITTED): the claimed unread notification counts up; a claim whose notification is not
# there (new, or its month dropped by retention) gets it made.
WRITE_THREAD_NOTIFICATIONS = """
WITH counted AS (
    UPDATE notifications SET data = notifications.data || jsonb_build_object(
                                 'count', (notifications.data ->> 'count')::int + 1,
                                 'last_message_id', %(data)s::jsonb -> 'last_message_id',
                                 'preview', %(data)s::jsonb -> 'preview'),
                             title_en = format(%(many_en)s, (notifications.data ->> 'count')::int + 1),
                             title_ar = format(%(many_ar)s, (notifications.data ->> 'count')::int + 1),
                             created_at = now()
    WHERE id = ANY(%(ids)s::uuid[]) AND read_at IS NULL
    RETURNING id)
INSERT INTO notifications (id, event_id, recipient_type, recipient_id, kind, title_en, title_ar, data)
SELECT c.notification_id, %(event_id)s, c.recipient_type, c.recipient_id, %(kind)s, %(title_en)s, %(title_ar)s, %(data)s
FROM thread_unread_notices c
WHERE c.notification_id = ANY(%(ids)s::uuid[]) AND c.notification_id NOT IN (SELECT id FROM counted)
"""


async def upsert_thread_notifications(
    conn: AsyncConnection, event_id: UUID, notes: list[NewNotification], templates: tuple[str, str]
) -> int:
    """Notifications made or counted up (one per recipient)."""
    if not notes:
        return 0
    first = notes[0]
    claim = {
        "thread_id": first.data["thread_id"],
        "recipient_type": [n.recipient.type for n in notes],
        "recipient_id": [n.recipient.id for n in notes],
    }
    ids = [row[0] for row in await (await conn.execute(CLAIM_THREAD_NOTICES, claim)).fetchall()]
    params = {
        "ids": ids,
        "event_id": event_id,
        "kind": first.kind,
        "title_en": first.title_en,
        "title_ar": first.title_ar,
        "data": db.json_param(first.data),
        "many_en": templates[0],
        "many_ar": templates[1],
    }
    await db.execute(conn, WRITE_THREAD_NOTIFICATIONS, params)
    return len(ids)
