"""The prescriptions domain's rules: pure functions and tables, no I/O
(tests/unit/test_prescriptions_rules.py).

- Status: which status may follow which; when a prescription may be dispensed against.
- The uploaded file: what an inspection's finding means for the shopper (a 422 with a code).
- A review: the expiry date a pharmacist may set; what the review writes.
- Who may act, and where they act from (the audit's source).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from uuid import UUID

from shared.platform.auth import Principal
from shared.platform.errors import Conflict, FieldError, ValidationFailed
from shared.prescriptions.errors import PrescriptionError
from shared.prescriptions.models import AuditSource, PrescriptionRow, ReviewRequest

# --- status --------------------------------------------------------------------------------

# from → the statuses it may move to. UPLOADING → PENDING is the shopper's submit; PENDING →
# APPROVED/REJECTED a pharmacist's review; APPROVED → EXPIRED the daily timer, past its last day.
TRANSITIONS: dict[str, frozenset[str]] = {
    "UPLOADING": frozenset({"PENDING"}),
    "PENDING": frozenset({"APPROVED", "REJECTED"}),
    "APPROVED": frozenset({"EXPIRED"}),
    "REJECTED": frozenset(),
    "EXPIRED": frozenset(),
}
MAX_VALIDITY_DAYS = 366


def may_move(current: str, to: str) -> bool:
    return to in TRANSITIONS.get(current, frozenset())


def approved_on(status: str | None, expires_on: date | None, today: date) -> bool:
    """APPROVED and not past its last day: a line naming it may ship."""
    return status == "APPROVED" and expires_on is not None and expires_on >= today


def dispensable(status: str | None, expires_on: date | None, today: date) -> bool:
    """An order line may name it: PENDING (the paid child order then waits for the review), or
    approved and valid today."""
    return status == "PENDING" or approved_on(status, expires_on, today)


def expired(status: str, expires_on: date | None, today: date) -> bool:
    """APPROVED and past its last day: the timer marks it EXPIRED."""
    return status == "APPROVED" and expires_on is not None and expires_on < today


# --- the uploaded file ---------------------------------------------------------------------

BLOB_PREFIX = "rx"

FILE_PROBLEMS: dict[str, tuple[PrescriptionError, str]] = {
    "missing": (PrescriptionError.FILE_MISSING, "no file was uploaded yet: PUT it to the upload URL first"),
    "empty": (PrescriptionError.FILE_EMPTY, "the uploaded file is empty"),
    "too_large": (PrescriptionError.FILE_TOO_LARGE, "the uploaded file is larger than {max_bytes} bytes"),
    "wrong_type": (
        PrescriptionError.FILE_TYPE_NOT_ALLOWED,
        "the uploaded file is not a PDF, JPEG or PNG (checked by its content, not its name)",
    ),
}


def blob_name(prescription_id: UUID) -> str:
    """A name the server chooses: nothing of the shopper's file name or account, one per upload."""
    return f"{BLOB_PREFIX}/{prescription_id}"


def check_upload(problem: str | None, *, max_bytes: int) -> None:
    """422 with a clear code when the uploaded file cannot be submitted."""
    if problem is None:
        return
    code, message = FILE_PROBLEMS[problem]
    raise ValidationFailed(message.format(max_bytes=max_bytes), code=code, extra={"max_bytes": max_bytes})


def check_submittable(row: PrescriptionRow) -> None:
    if not may_move(row.status, "PENDING"):
        raise Conflict(
            f"the prescription is {row.status}, not waiting for its file",
            code=PrescriptionError.NOT_UPLOADING,
            extra={"status": row.status},
        )


# --- a review ------------------------------------------------------------------------------


def check_review(row: PrescriptionRow, review: ReviewRequest, today: date) -> None:
    """409 unless the prescription is PENDING at the version the pharmacist read; 422 for an
    expiry date before today or more than a year away."""
    if row.version != review.version:
        raise Conflict(
            f"the prescription changed since version {review.version}; read it again",
            code=PrescriptionError.VERSION_CONFLICT,
            extra={"current_version": row.version, "status": row.status},
        )
    if not may_move(row.status, review.decision):
        raise Conflict(
            f"the prescription is {row.status}, not PENDING",
            code=PrescriptionError.NOT_PENDING,
            extra={"current_version": row.version, "status": row.status},
        )
    if review.expires_on is not None:
        _check_expiry(review.expires_on, today)


def _check_expiry(expires_on: date, today: date) -> None:
    if expires_on < today:
        error = FieldError("expires_on", "must be today or later", PrescriptionError.EXPIRY_IN_PAST)
    elif expires_on > today + timedelta(days=MAX_VALIDITY_DAYS):
        error = FieldError("expires_on", f"at most {MAX_VALIDITY_DAYS} days ahead", PrescriptionError.EXPIRY_TOO_FAR)
    else:
        return
    raise ValidationFailed("the review cannot be recorded", code=PrescriptionError.INVALID_REVIEW, errors=[error])


def audit_action(review: ReviewRequest) -> str:
    return "approved" if review.decision == "APPROVED" else "rejected"


# --- who acts, from where ------------------------------------------------------------------

MAX_USER_AGENT = 500
MAX_CLIENT_IP = 100


def acting_role(principal: Principal) -> str:
    """The role an audit row records: pharmacist first, then the highest admin role, else customer."""
    for role in ("pharmacist", "super_admin", "admin", "seller"):
        if role in principal.roles:
            return role
    return "customer"


def client_ip(headers: Mapping[str, str]) -> str | None:
    """The caller's address: the first X-Forwarded-For hop (Azure's front ends add it, with a
    port), else X-Client-IP; None when neither is sent (a local call)."""
    forwarded = (headers.get("x-forwarded-for") or "").split(",")[0].strip()
    address = forwarded or (headers.get("x-client-ip") or "").strip()
    if address.count(":") == 1:  # IPv4 with a port; IPv6 has more colons
        address = address.split(":")[0]
    return address[:MAX_CLIENT_IP] or None


def audit_source(principal: Principal, headers: Mapping[str, str]) -> AuditSource:
    agent = (headers.get("user-agent") or "").strip()[:MAX_USER_AGENT] or None
    name = (principal.name or "").strip()[:200] or None
    return AuditSource(principal.user_id, acting_role(principal), name, client_ip(headers), agent)
