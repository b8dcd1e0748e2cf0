"""Prescriptions: shoppers upload theirs (straight to Blob storage through a signed URL) and
submit them; pharmacists read the queue, open files and review; a daily timer expires them.
Every file view and every review is audited with the caller's address and user agent."""

from uuid import UUID

import azure.functions as func

from shared.platform.http import ApiCall, Reply, endpoint
from shared.platform.jobs import background_job
from shared.prescriptions import service as prescriptions
from shared.prescriptions.models import (
    QUEUE_ROLES,
    REVIEWER_ROLES,
    CreatePrescription,
    FileUrl,
    MyPrescriptionsQuery,
    Prescription,
    PrescriptionPage,
    QueuedPrescription,
    QueuePage,
    QueueQuery,
    ReviewRequest,
    UploadTicket,
)

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint
TAGS = ("prescriptions",)


def _source(call: ApiCall):
    return prescriptions.audit_source(call.user, call.request.headers)


@bp.route(route="prescriptions", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Start a prescription upload: its id and a write-only URL for the file (PUT, valid 5 minutes)",
    body=CreatePrescription,
    response=UploadTicket,
    status=201,
    authenticated=True,
    tags=TAGS,
    errors=(503,),
    links={"SubmitPrescription": ("submit_prescription", "id")},
)
async def create_prescription(call: ApiCall) -> Reply:
    ticket = await prescriptions.create(call.user, call.body, _source(call))
    return Reply(body=ticket, status=201, headers={"Location": f"/api/prescriptions/{ticket.id}"})


@bp.route(route="prescriptions/{id:guid}/submit", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Submit my uploaded prescription for review (checked: present, at most 10 MB, PDF/JPEG/PNG by content)",
    response=Prescription,
    authenticated=True,
    tags=TAGS,
    errors=(409, 422, 503),
)
async def submit_prescription(call: ApiCall) -> Prescription:
    return await prescriptions.submit(call.user, UUID(call.route["id"]), _source(call))


@bp.route(route="prescriptions", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My prescriptions, newest first (keyset pages; ?status=)",
    query=MyPrescriptionsQuery,
    response=PrescriptionPage,
    authenticated=True,
    tags=TAGS,
)
async def list_my_prescriptions(call: ApiCall) -> PrescriptionPage:
    return await prescriptions.list_mine(call.user, call.query)


@bp.route(route="pharmacist/prescriptions", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Prescriptions to review, oldest first (?status=, default PENDING; keyset pages)",
    query=QueueQuery,
    response=QueuePage,
    roles=QUEUE_ROLES,
    tags=TAGS,
)
async def list_prescription_queue(call: ApiCall) -> QueuePage:
    return await prescriptions.list_queue(call.query)


@bp.route(route="pharmacist/prescriptions/{id:guid}/file", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="A read-only URL of the prescription's file, valid 5 minutes (audited)",
    response=FileUrl,
    roles=QUEUE_ROLES,
    tags=TAGS,
    errors=(409, 503),
)
async def get_prescription_file(call: ApiCall) -> FileUrl:
    return await prescriptions.file_url(UUID(call.route["id"]), _source(call))


@bp.route(route="pharmacist/prescriptions/{id:guid}/review", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Approve (with its last valid day) or reject (with the reason) a PENDING prescription; versioned, audited",
    body=ReviewRequest,
    response=QueuedPrescription,
    roles=REVIEWER_ROLES,
    tags=TAGS,
    errors=(409,),
)
async def review_prescription(call: ApiCall) -> QueuedPrescription:
    return await prescriptions.review(UUID(call.route["id"]), call.body, _source(call))


@bp.timer_trigger(schedule="0 30 0 * * *", arg_name="timer", run_on_startup=False)
@background_job
async def expire_prescriptions(timer: func.TimerRequest, context: func.Context) -> dict:
    run = await prescriptions.expire_prescriptions()
    return {"prescriptions_expired": run.prescriptions, "holds_released": run.holds_released}
