"""Every error code the prescriptions domain answers with. The values are the API's and never change."""

from __future__ import annotations

from enum import StrEnum


class PrescriptionError(StrEnum):
    PRESCRIPTION_NOT_FOUND = "prescription_not_found"
    # submitting the uploaded file
    NOT_UPLOADING = "prescription_already_submitted"
    FILE_MISSING = "prescription_file_missing"
    FILE_EMPTY = "prescription_file_empty"
    FILE_TOO_LARGE = "prescription_file_too_large"
    FILE_TYPE_NOT_ALLOWED = "prescription_file_type_not_allowed"
    NOT_SUBMITTED = "prescription_not_submitted"
    # reviewing
    NOT_PENDING = "prescription_not_pending"
    VERSION_CONFLICT = "prescription_version_conflict"
    INVALID_REVIEW = "invalid_review"
    # single fields
    EXPIRY_IN_PAST = "in_past"
    EXPIRY_TOO_FAR = "too_far"
    REASON_REQUIRED = "required"
    NOT_FOR_REJECTION = "not_allowed"
