"""The prescriptions domain's public API: the one module of `shared.prescriptions` a trigger
imports (besides `models`), and the one that opens transactions.

Storage calls (signing a URL, inspecting the uploaded file) never run inside a transaction.
Every change writes its audit row in the same statement (repo); a file view writes its audit
row and commits it before the URL is handed out. A shopper reaches only their own
prescriptions: anyone else's answers 404, like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from uuid import UUID, uuid4

from shared import uploads
from shared.data import db
from shared.events import relay
from shared.orders import service as orders
from shared.platform.auth import Principal
from shared.platform.config import get_settings
from shared.platform.errors import Conflict, NotFound
from shared.platform.pagination import NEWEST_FIRST, OLDEST_FIRST, after_created, created_key_of, cut_page, fetch_size
from shared.prescriptions import repo, rules
from shared.prescriptions.errors import PrescriptionError
from shared.prescriptions.models import (
    ACCEPTED_TYPES,
    AuditSource,
    CreatePrescription,
    ExpiryRun,
    FileUrl,
    MyPrescriptionsQuery,
    Prescription,
    PrescriptionPage,
    PrescriptionRow,
    QueuedPrescription,
    QueuePage,
    QueueQuery,
    ReviewRequest,
    SignedRequest,
    UploadTicket,
)
from shared.users.service import ensure_user

EXPIRY_BATCH = 500
DEV_ENVIRONMENTS = ("local", "test", "dev")


def utcnow() -> datetime:
    return datetime.now(UTC)


def audit_source(principal: Principal, headers: Mapping[str, str]) -> AuditSource:
    """Who is acting and from where (client IP, user agent), as the audit records it."""
    return rules.audit_source(principal, headers)


# --- a shopper's upload --------------------------------------------------------------------


async def create(principal: Principal, body: CreatePrescription, source: AuditSource) -> UploadTicket:
    """`POST /api/prescriptions`: a new prescription waiting for its file, and where to PUT it."""
    settings, prescription_id = get_settings(), uuid4()
    blob_name = rules.blob_name(prescription_id)
    if settings.souq_env in DEV_ENVIRONMENTS:  # Azure's container comes from infra/
        await uploads.ensure_container(settings.prescriptions_container)
    signed = await uploads.upload_url(
        settings.prescriptions_container, blob_name, seconds=settings.prescription_url_seconds, now=utcnow()
    )
    async with db.transaction() as conn:
        await ensure_user(conn, principal)
        row = await repo.insert_prescription(conn, prescription_id, blob_name, body.file_name, source)
    relay.relay_soon()  # a first call may have registered the user
    return UploadTicket(
        id=row.id,
        status=row.status,
        upload=SignedRequest(url=signed.url, method="PUT", headers=signed.headers, expires_at=signed.expires_at),
        max_bytes=settings.prescription_max_bytes,
        accepted_types=list(ACCEPTED_TYPES),
        version=row.version,
    )


async def submit(principal: Principal, prescription_id: UUID, source: AuditSource) -> Prescription:
    """`POST /api/prescriptions/{id}/submit`: the uploaded file checked (exists, size, type by
    its bytes), then PENDING for a pharmacist."""
    settings = get_settings()
    row = await _own(principal, prescription_id)
    rules.check_submittable(row)
    found = await uploads.inspect_upload(
        settings.prescriptions_container,
        row.blob_name,
        max_bytes=settings.prescription_max_bytes,
        allowed_types=ACCEPTED_TYPES,
    )
    rules.check_upload(found.problem, max_bytes=settings.prescription_max_bytes)
    assert found.content_type is not None
    async with db.transaction() as conn:
        submitted = await repo.mark_submitted(conn, prescription_id, found.size, found.content_type, source)
    if submitted is None:  # submitted by a concurrent call of the same shopper
        rules.check_submittable(await _own(principal, prescription_id))
        raise AssertionError("unreachable: a row no longer UPLOADING fails check_submittable")
    return Prescription(**submitted.model_dump())


async def list_mine(principal: Principal, query: MyPrescriptionsQuery) -> PrescriptionPage:
    after = after_created(query.cursor, NEWEST_FIRST)
    rows = await repo.list_mine(principal.user_id, query.status, after, fetch_size(query.limit))
    items, next_cursor = cut_page(rows, query.limit, order=NEWEST_FIRST, key_of=created_key_of)
    return PrescriptionPage(items=[Prescription(**row.model_dump()) for row in items], next_cursor=next_cursor)


async def _own(principal: Principal, prescription_id: UUID) -> PrescriptionRow:
    row = await _any(prescription_id)
    if row.user_id != principal.user_id:
        raise NotFound(f"no prescription {prescription_id}", code=PrescriptionError.PRESCRIPTION_NOT_FOUND)
    return row


async def _any(prescription_id: UUID) -> PrescriptionRow:
    async with db.connection() as conn:
        row = await repo.prescription(conn, prescription_id)
    if row is None:
        raise NotFound(f"no prescription {prescription_id}", code=PrescriptionError.PRESCRIPTION_NOT_FOUND)
    return row


# --- pharmacists ---------------------------------------------------------------------------


async def list_queue(query: QueueQuery) -> QueuePage:
    """Oldest first (the order they came in), one status (default PENDING), keyset pages."""
    after = after_created(query.cursor, OLDEST_FIRST)
    rows = await repo.list_queue(query.status, after, fetch_size(query.limit))
    items, next_cursor = cut_page(rows, query.limit, order=OLDEST_FIRST, key_of=created_key_of)
    return QueuePage(items=[QueuedPrescription(**row.model_dump()) for row in items], next_cursor=next_cursor)


async def file_url(prescription_id: UUID, source: AuditSource) -> FileUrl:
    """A read-only URL of the file, valid at most five minutes; the view is audited (committed)
    before the URL leaves."""
    settings = get_settings()
    row = await _any(prescription_id)
    if row.content_type is None:
        raise Conflict(
            "the prescription has no checked file yet",
            code=PrescriptionError.NOT_SUBMITTED,
            extra={"status": row.status},
        )
    async with db.transaction() as conn:
        await repo.audit(conn, prescription_id, source, "file_viewed")
    signed = await uploads.read_url(
        settings.prescriptions_container,
        row.blob_name,
        seconds=settings.prescription_url_seconds,
        now=utcnow(),
        content_type=row.content_type,
    )
    return FileUrl(url=signed.url, expires_at=signed.expires_at, content_type=row.content_type)


async def review(
    prescription_id: UUID, body: ReviewRequest, source: AuditSource, clock: Callable[[], datetime] = utcnow
) -> QueuedPrescription:
    """APPROVED (with its last day) or REJECTED (with the reason), conditional on the version the
    pharmacist read: of two reviews at once one wins, the other is 409. In the same transaction
    the waiting child orders with lines on it are confirmed, or lose those lines."""
    today = clock().date()
    row = await _any(prescription_id)
    rules.check_review(row, body, today)  # 409 stale or not PENDING, 422 for the expiry date
    async with db.transaction() as conn:
        reviewed = await repo.record_review(conn, prescription_id, body, rules.audit_action(body), source)
        if reviewed is None:  # another review committed since the read above
            rules.check_review(await repo.prescription(conn, prescription_id) or row, body, today)
            raise AssertionError("unreachable: a reviewed row fails check_review")
        await orders.settle_prescription_review(
            conn, prescription_id, rejected=body.decision == "REJECTED", reviewer_id=source.actor_id, today=today
        )
    relay.relay_soon()
    return QueuedPrescription(**reviewed.model_dump())


# --- the daily timer -----------------------------------------------------------------------


async def expire_prescriptions(clock: Callable[[], datetime] = utcnow) -> ExpiryRun:
    """APPROVED prescriptions past their last day become EXPIRED (batches, SKIP LOCKED), then
    child orders waiting longer than PRESCRIPTION_HOLD_HOURS are released. Safe to overlap."""
    run = ExpiryRun()
    while True:
        async with db.transaction() as conn:
            done = await repo.expire_due(conn, clock().date(), EXPIRY_BATCH)
        run.prescriptions += done
        if done < EXPIRY_BATCH:
            break
    run.holds_released = await orders.release_prescription_holds(clock)
    return run
