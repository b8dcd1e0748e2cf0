"""SQL of threads and of posting into them; each constant sits right before the one function
that runs it. Every function takes the caller's connection (and runs in its transaction).

- Find-or-create: `INSERT … ON CONFLICT DO NOTHING RETURNING`, then a separate `SELECT`; the
  unique partial indexes of migration 0009 decide, never a check in code.
- Posting (`append_message`): a constant number of statements whatever the thread's size: the
  client id claimed (when given), the thread row bumped (its lock orders the thread's
  messages: ids are taken under it), then one statement that inserts the message and updates
  the thread, the sender side's watermark, the attachments, the client id and the outbox.
- Reads of one thread scoped to a party: `thread_for_party` (None: missing or not theirs).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.threads import rules
from shared.threads.models import MessageRow, Party, PostingSlot, Sender, ThreadKind, ThreadRow, WelcomeContext

if TYPE_CHECKING:
    from psycopg import AsyncConnection

THREAD_COLUMNS = """id, kind, subject, product_id, seller_id, shopper_id, order_id, message_seq, last_message_id,
       last_message_at, last_message_preview, last_activity_at, archived_at, has_archived, version, created_at"""
MESSAGE_COLUMNS = """id, thread_id, seq, sender_id, sender_side, kind, body, reply_to, metadata, created_at, edited_at,
       deleted_at"""

# A party reaches a thread of its side only: the shopper theirs, a seller its own, support any.
PARTY_SCOPE = """(%(side)s::text = 'SUPPORT'
       OR (%(side)s::text = 'SHOPPER' AND shopper_id = %(party_id)s::text)
       OR (%(side)s::text = 'SELLER' AND seller_id::text = %(party_id)s::text))"""


def _scope(party: Party | None) -> dict[str, Any]:
    return {"side": party.side if party else "SUPPORT", "party_id": party.party_id if party else ""}


# --- find or create ------------------------------------------------------------------------

# Any unique index decides (no conflict target): the inquiry, direct and per-order ones. The
# participants come with the thread, in the same statement.
INSERT_THREAD = f"""
WITH created AS (
    INSERT INTO threads (kind, subject, product_id, seller_id, shopper_id, order_id, last_activity_at, created_at,
                         updated_at)
    VALUES (%(kind)s, %(subject)s, %(product_id)s, %(seller_id)s, %(shopper_id)s, %(order_id)s, %(now)s, %(now)s,
            %(now)s)
    ON CONFLICT DO NOTHING
    RETURNING {THREAD_COLUMNS}
), participants AS (
    INSERT INTO thread_participants (thread_id, side, party_id)
    SELECT id, 'SHOPPER', shopper_id FROM created
    UNION ALL SELECT id, 'SELLER', seller_id::text FROM created WHERE seller_id IS NOT NULL
)
SELECT {THREAD_COLUMNS} FROM created
"""

SELECT_EXISTING_THREAD = f"""
SELECT {THREAD_COLUMNS} FROM threads
WHERE kind = %(kind)s
  AND ((kind = 'PRODUCT_INQUIRY' AND product_id = %(product_id)s AND seller_id = %(seller_id)s
        AND shopper_id = %(shopper_id)s)
    OR (kind = 'DIRECT' AND seller_id = %(seller_id)s AND shopper_id = %(shopper_id)s)
    OR (kind = 'ORDER' AND order_id = %(order_id)s))
"""


async def find_or_create_thread(
    conn: AsyncConnection,
    kind: ThreadKind,
    *,
    shopper_id: str,
    seller_id: UUID | None,
    subject: str,
    now: datetime,
    product_id: UUID | None = None,
    order_id: UUID | None = None,
) -> tuple[ThreadRow, bool]:
    """(the thread, whether this call created it). The shopper's users row must exist (the
    caller ensures it); an ORDER thread is found by its order_id alone (one per child order)."""
    params = {
        "kind": kind,
        "subject": subject[:300],
        "product_id": product_id,
        "seller_id": seller_id,
        "shopper_id": shopper_id,
        "order_id": order_id,
        "now": now,
    }
    created = await db.fetch_one(conn, INSERT_THREAD, params, ThreadRow)
    if created is not None:
        return created, True
    existing = await db.fetch_one(conn, SELECT_EXISTING_THREAD, params, ThreadRow)
    assert existing is not None, "a conflict on insert means the thread exists (SUPPORT threads never conflict)"
    return existing, False


SELECT_THREAD_FOR_PARTY = f"SELECT {THREAD_COLUMNS} FROM threads WHERE id = %(id)s AND {PARTY_SCOPE}"


async def thread_for_party(conn: AsyncConnection, thread_id: UUID, party: Party | None) -> ThreadRow | None:
    """The thread when `party` may reach it (None: any thread, for the system); else None."""
    return await db.fetch_one(conn, SELECT_THREAD_FOR_PARTY, {"id": thread_id} | _scope(party), ThreadRow)


# --- posting -------------------------------------------------------------------------------

# Only in a thread the sender's scope reaches (threads are never removed, so what it reads
# holds): (reachable, claimed now).
CLAIM_CLIENT_ID = f"""
WITH thread AS (
    SELECT id FROM threads WHERE id = %(thread_id)s AND {PARTY_SCOPE}
), claimed AS (
    INSERT INTO message_client_ids (thread_id, sender_id, client_id)
    SELECT id, %(sender_id)s, %(client_id)s FROM thread
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT FROM thread), EXISTS (SELECT FROM claimed)
"""

SELECT_BY_CLIENT_ID = f"""
SELECT {MESSAGE_COLUMNS}, {{attachments}} FROM (
    SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = %(thread_id)s AND id = (
        SELECT message_id FROM message_client_ids
        WHERE thread_id = %(thread_id)s AND sender_id = %(sender_id)s AND client_id = %(client_id)s)
    UNION ALL
    SELECT {MESSAGE_COLUMNS} FROM archived_messages WHERE thread_id = %(thread_id)s AND id = (
        SELECT message_id FROM message_client_ids
        WHERE thread_id = %(thread_id)s AND sender_id = %(sender_id)s AND client_id = %(client_id)s)
) m
"""
# A message's attachments as a JSON list (an index probe per message); a deleted one lists none.
ATTACHMENTS_OF_M = """coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'file_name', a.file_name,
                                   'content_type', a.content_type, 'size_bytes', a.size_bytes) ORDER BY a.created_at)
          FROM message_attachments a
          WHERE a.thread_id = m.thread_id AND a.message_id = m.id AND m.deleted_at IS NULL), '[]') AS attachments"""
SELECT_BY_CLIENT_ID = SELECT_BY_CLIENT_ID.format(attachments=ATTACHMENTS_OF_M)


async def _claim_client_id(
    conn: AsyncConnection, thread_id: UUID, sender: Sender, client_id: str, scope: Party | None
) -> tuple[bool, bool]:
    """(the thread is reachable, the client id was claimed now). Not claimed: this sender already
    posted with this client id (a retry); a concurrent retry waits on the key until the first
    commits (then not claimed) or rolls back (then claimed)."""
    params = {"thread_id": thread_id, "sender_id": sender.user_id, "client_id": client_id} | _scope(scope)
    async with conn.cursor() as cur:
        await cur.execute(CLAIM_CLIENT_ID, params)
        reachable, claimed = await cur.fetchone() or (False, False)
    return reachable, claimed


async def _posted_before(conn: AsyncConnection, thread_id: UUID, sender: Sender, client_id: str) -> MessageRow | None:
    params = {"thread_id": thread_id, "sender_id": sender.user_id, "client_id": client_id}
    row = await db.fetch_one(conn, SELECT_BY_CLIENT_ID, params, MessageRow)
    if row is not None:
        row.replayed = True
    return row


# Locks the thread row: posts into one thread queue here, so the id (taken in RETURNING, after
# the lock) and the seq follow commit order. A new message unarchives the thread.
BUMP_THREAD = f"""
UPDATE threads SET message_seq = message_seq + 1, archived_at = NULL, version = version + 1, updated_at = %(now)s
WHERE id = %(id)s AND {PARTY_SCOPE}
RETURNING message_seq, nextval(pg_get_serial_sequence('messages', 'id')) AS message_id, shopper_id, seller_id, subject
"""


async def _bump_thread(
    conn: AsyncConnection, thread_id: UUID, scope: Party | None, now: datetime
) -> PostingSlot | None:
    params = {"id": thread_id, "now": now} | _scope(scope)
    return await db.fetch_one(conn, BUMP_THREAD, params, PostingSlot)


INSERT_MESSAGE = f"""
WITH m AS (
    INSERT INTO messages (id, thread_id, seq, sender_id, sender_side, kind, body, reply_to, metadata, created_at)
    VALUES (%(id)s, %(thread_id)s, %(seq)s, %(sender_id)s, %(sender_side)s, %(kind)s, %(body)s, %(reply_to)s,
            %(metadata)s, %(now)s)
    RETURNING {MESSAGE_COLUMNS}
), thread AS (
    UPDATE threads t SET last_message_id = m.id, last_message_at = m.created_at, last_message_preview = %(preview)s,
                         last_sender_side = m.sender_side,
                         last_activity_at = greatest(t.last_activity_at, m.created_at)
    FROM m WHERE t.id = m.thread_id
), watermark AS (
    UPDATE thread_participants p SET last_read_message_id = m.id, last_read_seq = m.seq, last_read_at = m.created_at
    FROM m WHERE p.thread_id = m.thread_id AND p.side = m.sender_side AND p.last_read_message_id < m.id
), attached AS (
    UPDATE message_attachments a SET message_id = m.id
    FROM m WHERE a.id = ANY(%(attachment_ids)s::uuid[]) AND a.thread_id = m.thread_id AND a.uploader_id = m.sender_id
             AND a.verified_at IS NOT NULL AND a.message_id IS NULL
    RETURNING a.id, a.file_name, a.content_type, a.size_bytes, a.created_at
), client AS (
    UPDATE message_client_ids c SET message_id = m.id
    FROM m WHERE c.thread_id = m.thread_id AND c.sender_id = m.sender_id AND c.client_id = %(client_id)s
), event AS (
    INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, payload)
    SELECT %(event_type)s, %(aggregate_type)s, m.thread_id::text, %(payload)s FROM m
)
SELECT {MESSAGE_COLUMNS},
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', id, 'file_name', file_name, 'content_type', content_type,
                                                     'size_bytes', size_bytes) ORDER BY created_at)
                 FROM attached), '[]') AS attachments
FROM m
"""


async def append_message(
    conn: AsyncConnection,
    thread_id: UUID,
    sender: Sender,
    kind: str,
    body: str,
    metadata: dict | None,
    client_id: str | None,
    now: datetime,
    *,
    reply_to: int | None = None,
    attachment_ids: list[UUID] | None = None,
    scope: Party | None = None,
) -> MessageRow | None:
    """Posts into the thread in the caller's transaction: the message, the thread's last
    message and activity (unarchived), the sender side's watermark, the attachments linked,
    `thread.message_posted` in the outbox. A retry with the same client id returns the first
    message. None when the thread does not exist or `scope` may not reach it.

    The caller checks `reply_to` names a message of this thread and that every attachment was
    linked (`len(row.attachments)`), and raises (rolling back) when not."""
    if client_id is not None:
        reachable, claimed = await _claim_client_id(conn, thread_id, sender, client_id, scope)
        if not reachable:
            return None
        if not claimed:
            return await _posted_before(conn, thread_id, sender, client_id)
    bumped = await _bump_thread(conn, thread_id, scope, now)
    if bumped is None:
        return None
    params = _message_params(thread_id, bumped, sender, kind, body, metadata, client_id, now, attachment_ids or [])
    params["reply_to"] = reply_to
    return await db.fetch_one(conn, INSERT_MESSAGE, params, MessageRow)


def _message_params(
    thread_id: UUID, slot: PostingSlot, sender: Sender, kind: str, body: str, metadata: dict | None,
    client_id: str | None, now: datetime, attachment_ids: list[UUID],
) -> dict[str, Any]:  # fmt: skip
    text_preview = rules.preview(body, len(attachment_ids))
    return {
        "id": slot.message_id,
        "seq": slot.message_seq,
        "thread_id": thread_id,
        "sender_id": sender.user_id,
        "sender_side": sender.side,
        "kind": kind,
        "body": body,
        "metadata": db.json_param(metadata or {}),
        "now": now,
        "preview": text_preview,
        "attachment_ids": attachment_ids,
        "client_id": client_id,
        "event_type": rules.MESSAGE_POSTED,
        "aggregate_type": rules.THREAD_AGGREGATE,
        "payload": db.json_param(rules.posted_payload(thread_id, slot, sender, kind, text_preview)),
    }


# A reply names a message of the same thread, live or archived (no foreign key can: see
# docs/threads.md). Messages never change thread and are never removed, so the check holds.
MESSAGE_IN_THREAD = """
SELECT EXISTS (SELECT FROM messages WHERE thread_id = %(thread_id)s AND id = %(id)s)
    OR EXISTS (SELECT FROM archived_messages WHERE thread_id = %(thread_id)s AND id = %(id)s)
"""


async def message_in_thread(conn: AsyncConnection, thread_id: UUID, message_id: int) -> bool:
    return bool(await db.fetch_value(conn, MESSAGE_IN_THREAD, {"thread_id": thread_id, "id": message_id}))


# --- what a new thread's welcome is written from -------------------------------------------

# The shopper's language, the seller (ACTIVE only) and the product (active only, when named):
# a missing seller or product comes back as NULL names.
SELECT_WELCOME_CONTEXT = """
SELECT u.preferred_language, s.name_en AS seller_name_en, s.name_ar AS seller_name_ar,
       s.welcome_message_en, s.welcome_message_ar, p.name_en AS product_name_en, p.name_ar AS product_name_ar
FROM users u
LEFT JOIN sellers s ON s.id = %(seller_id)s AND s.status = 'ACTIVE'
LEFT JOIN products p ON p.id = %(product_id)s AND p.is_active
WHERE u.id = %(user_id)s
"""


async def welcome_context(
    conn: AsyncConnection, user_id: str, seller_id: UUID, product_id: UUID | None
) -> WelcomeContext | None:
    params = {"user_id": user_id, "seller_id": seller_id, "product_id": product_id}
    return await db.fetch_one(conn, SELECT_WELCOME_CONTEXT, params, WelcomeContext)
