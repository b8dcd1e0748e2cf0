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


# All recipients of one event in one statement; the unique (event, recipient) makes a
# redelivered event a no-op.
INSERT_NOTIFICATIONS = """
INSERT INTO notifications (event_id, recipient_type, recipient_id, kind, title_en, title_ar, data)
SELECT %(event_id)s, n.recipient_type, n.recipient_id, n.kind, n.title_en, n.title_ar, n.data
FROM unnest(%(recipient_type)s::text[], %(recipient_id)s::text[], %(kind)s::text[], %(title_en)s::text[],
            %(title_ar)s::text[], %(data)s::jsonb[])
     AS n(recipient_type, recipient_id, kind, title_en, title_ar, data)
ON CONFLICT (event_id, recipient_type, recipient_id) DO NOTHING
"""


async def insert_notifications(conn: AsyncConnection, event_id: UUID, notes: list[NewNotification]) -> int:
    """How many were new (0: the event was handled before)."""
    from psycopg.types.json import Jsonb

    params = {
        "event_id": event_id,
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


# Only the recipient's own rows: ids of someone else's notifications match nothing.
MARK_READ = """
UPDATE notifications SET read_at = now()
WHERE recipient_type = %(recipient_type)s AND recipient_id = %(recipient_id)s AND read_at IS NULL
  AND (%(all)s OR id = ANY(%(ids)s::uuid[]))
"""


async def mark_read(conn: AsyncConnection, recipient: Recipient, *, ids: list[UUID] | None, everything: bool) -> int:
    params = {"recipient_type": recipient.type, "recipient_id": recipient.id, "all": everything, "ids": ids or []}
    return await db.execute(conn, MARK_READ, params)


# A thread's unread "new messages" notification collects every message until it is read: a
# new one inserts, a later one counts up (the partial unique index of migration 0009 decides,
# atomically, whatever the consumers' concurrency).
UPSERT_THREAD_NOTIFICATIONS = """
INSERT INTO notifications (event_id, recipient_type, recipient_id, kind, title_en, title_ar, data)
SELECT %(event_id)s, n.recipient_type, n.recipient_id, %(kind)s, %(title_en)s, %(title_ar)s, %(data)s
FROM unnest(%(recipient_type)s::text[], %(recipient_id)s::text[]) AS n(recipient_type, recipient_id)
ON CONFLICT (recipient_type, recipient_id, (data ->> 'thread_id'))
    WHERE read_at IS NULL AND kind = 'thread.message_posted'
DO UPDATE SET data = notifications.data || jsonb_build_object(
                  'count', (notifications.data ->> 'count')::int + 1,
                  'last_message_id', excluded.data -> 'last_message_id', 'preview', excluded.data -> 'preview'),
              title_en = format(%(many_en)s, (notifications.data ->> 'count')::int + 1),
              title_ar = format(%(many_ar)s, (notifications.data ->> 'count')::int + 1),
              created_at = now()
"""


async def upsert_thread_notifications(
    conn: AsyncConnection, event_id: UUID, notes: list[NewNotification], templates: tuple[str, str]
) -> int:
    """Notifications made or counted up (one per recipient)."""
    if not notes:
        return 0
    first = notes[0]
    params = {
        "event_id": event_id,
        "kind": first.kind,
        "title_en": first.title_en,
        "title_ar": first.title_ar,
        "data": db.json_param(first.data),
        "recipient_type": [n.recipient.type for n in notes],
        "recipient_id": [n.recipient.id for n in notes],
        "many_en": templates[0],
        "many_ar": templates[1],
    }
    return await db.execute(conn, UPSERT_THREAD_NOTIFICATIONS, params)
