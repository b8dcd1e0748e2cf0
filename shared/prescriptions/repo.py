"""SQL for prescriptions and their audit; each constant sits right before the one function that
runs it. Every change of a prescription writes its audit row in the same statement, so a change
without its audit row cannot commit. `prescription_audit` is append-only in the database
(migration 0008): nothing here updates or deletes it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db, multiplexed
from shared.platform.pagination import CreatedKey
from shared.prescriptions.models import AuditSource, PrescriptionRow, ReviewRequest

if TYPE_CHECKING:
    from psycopg import AsyncConnection

COLUMNS = """id, user_id, blob_name, file_name, size_bytes, content_type, status, submitted_at, reviewer_id,
       reviewer_name, reviewed_at, review_notes, expires_on, approved_items, approved_variant_ids, version,
       created_at, updated_at"""


def audited(change: str) -> str:
    """One statement: `change` (an INSERT or UPDATE of prescriptions returning the row), its
    audit row, and the changed row; no change, no audit row."""
    return f"""
WITH changed AS ({change}
    RETURNING {COLUMNS}
), audit AS (
    INSERT INTO prescription_audit (prescription_id, actor_id, actor_role, action, client_ip, user_agent, detail)
    SELECT id, %(actor_id)s, %(actor_role)s, %(action)s, %(client_ip)s, %(user_agent)s, %(detail)s FROM changed
)
SELECT {COLUMNS} FROM changed
"""


def _source(source: AuditSource, action: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "actor_id": source.actor_id,
        "actor_role": source.actor_role,
        "action": action,
        "client_ip": source.client_ip,
        "user_agent": source.user_agent,
        "detail": db.json_param(detail or {}),
    }


INSERT_PRESCRIPTION = audited("""
    INSERT INTO prescriptions (id, user_id, blob_name, file_name)
    VALUES (%(id)s, %(user_id)s, %(blob_name)s, %(file_name)s)""")


async def insert_prescription(
    conn: AsyncConnection, prescription_id: UUID, blob_name: str, file_name: str, source: AuditSource
) -> PrescriptionRow:
    params = {"id": prescription_id, "user_id": source.actor_id, "blob_name": blob_name, "file_name": file_name}
    row = await db.fetch_one(conn, INSERT_PRESCRIPTION, params | _source(source, "created"), PrescriptionRow)
    assert row is not None
    return row


SELECT_PRESCRIPTION = f"SELECT {COLUMNS} FROM prescriptions WHERE id = %(id)s"


async def prescription(conn: AsyncConnection, prescription_id: UUID) -> PrescriptionRow | None:
    return await db.fetch_one(conn, SELECT_PRESCRIPTION, {"id": prescription_id}, PrescriptionRow)


MARK_SUBMITTED = audited("""
    UPDATE prescriptions SET status = 'PENDING', size_bytes = %(size)s, content_type = %(content_type)s,
                             submitted_at = now(), version = version + 1, updated_at = now()
    WHERE id = %(id)s AND status = 'UPLOADING'""")


async def mark_submitted(
    conn: AsyncConnection, prescription_id: UUID, size: int, content_type: str, source: AuditSource
) -> PrescriptionRow | None:
    params = {"id": prescription_id, "size": size, "content_type": content_type}
    detail = {"size_bytes": size, "content_type": content_type}
    return await db.fetch_one(conn, MARK_SUBMITTED, params | _source(source, "submitted", detail), PrescriptionRow)


# Conditional on the version the pharmacist read and on PENDING: of two reviews at once, the
# second waits for the first's row lock, then matches nothing.
REVIEW = audited("""
    UPDATE prescriptions SET status = %(decision)s, reviewer_id = %(actor_id)s, reviewer_name = %(reviewer_name)s,
                             reviewed_at = now(), review_notes = %(notes)s, expires_on = %(expires_on)s,
                             approved_items = %(approved_items)s, approved_variant_ids = %(variant_ids)s,
                             version = version + 1, updated_at = now()
    WHERE id = %(id)s AND version = %(version)s AND status = 'PENDING'""")


async def record_review(
    conn: AsyncConnection, prescription_id: UUID, review: ReviewRequest, action: str, source: AuditSource
) -> PrescriptionRow | None:
    """The reviewed row, or None when the version or status no longer matched."""
    params = {
        "id": prescription_id,
        "version": review.version,
        "decision": review.decision,
        "reviewer_name": source.actor_name,
        "notes": review.notes,
        "expires_on": review.expires_on,
        "approved_items": review.approved_items,
        "variant_ids": review.approved_variant_ids,
    }
    detail = {"version": review.version + 1, "expires_on": review.expires_on and review.expires_on.isoformat()}
    return await db.fetch_one(conn, REVIEW, params | _source(source, action, detail), PrescriptionRow)


INSERT_AUDIT = """
INSERT INTO prescription_audit (prescription_id, actor_id, actor_role, action, client_ip, user_agent, detail)
VALUES (%(id)s, %(actor_id)s, %(actor_role)s, %(action)s, %(client_ip)s, %(user_agent)s, %(detail)s)
"""


async def audit(conn: AsyncConnection, prescription_id: UUID, source: AuditSource, action: str) -> None:
    await db.execute(conn, INSERT_AUDIT, {"id": prescription_id} | _source(source, action))


# --- lists: a shopper's own newest first, the pharmacists' queue oldest first ----------------

LIST_MINE = f"""
SELECT {COLUMNS} FROM prescriptions
WHERE user_id = %(user_id)s AND (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (created_at, id) < (%(after_created_at)s::timestamptz, %(after_id)s::uuid)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""


async def list_mine(user_id: str, status: str | None, after: CreatedKey, size: int) -> list[PrescriptionRow]:
    params = {"user_id": user_id, "status": status, "after_created_at": after[0], "after_id": after[1], "limit": size}
    return await multiplexed.fetch_all(LIST_MINE, params, PrescriptionRow)


LIST_QUEUE = f"""
SELECT {COLUMNS} FROM prescriptions
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (created_at, id) > (%(after_created_at)s::timestamptz, %(after_id)s::uuid)
ORDER BY created_at, id
LIMIT %(limit)s
"""


async def list_queue(status: str | None, after: CreatedKey, size: int) -> list[PrescriptionRow]:
    params = {"status": status, "after_created_at": after[0], "after_id": after[1], "limit": size}
    return await multiplexed.fetch_all(LIST_QUEUE, params, PrescriptionRow)


# --- the daily expiry ----------------------------------------------------------------------

# A batch of APPROVED prescriptions past their last day; rows another run holds are skipped,
# and a row already EXPIRED no longer matches, so overlapping runs never expire one twice.
EXPIRE_DUE = """
WITH due AS (
    SELECT id FROM prescriptions WHERE status = 'APPROVED' AND expires_on < %(today)s
    ORDER BY expires_on, id LIMIT %(limit)s FOR NO KEY UPDATE SKIP LOCKED
), changed AS (
    UPDATE prescriptions p SET status = 'EXPIRED', version = version + 1, updated_at = now()
    FROM due WHERE p.id = due.id
    RETURNING p.id
), audit AS (
    INSERT INTO prescription_audit (prescription_id, actor_id, actor_role, action)
    SELECT id, 'system:expire_prescriptions', 'system', 'expired' FROM changed
)
SELECT count(*) FROM changed
"""


async def expire_due(conn: AsyncConnection, today: date, limit: int) -> int:
    return await db.fetch_value(conn, EXPIRE_DUE, {"today": today, "limit": limit}) or 0
