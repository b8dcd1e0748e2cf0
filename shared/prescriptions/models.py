"""Prescriptions: what the API takes and returns (the upload ticket, a shopper's and a
pharmacist's view, a review), and the typed rows the repo reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from shared.platform.auth import ADMIN_ROLES
from shared.platform.base_model import AppModel, IsoDate, Version

Status = Literal["UPLOADING", "PENDING", "APPROVED", "REJECTED", "EXPIRED"]
Decision = Literal["APPROVED", "REJECTED"]
ContentType = Literal["application/pdf", "image/jpeg", "image/png"]
ACCEPTED_TYPES: tuple[ContentType, ...] = ("application/pdf", "image/jpeg", "image/png")

# Only a pharmacist's review decides whether a medicine may be dispensed. Admins may read the
# queue and open files (support, oversight), always audited, but not review.
REVIEWER_ROLES = frozenset({"pharmacist"})
QUEUE_ROLES = REVIEWER_ROLES | ADMIN_ROLES

PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100
CURSOR = Field(default=None, max_length=200, json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"})


# --- requests ------------------------------------------------------------------------------


class CreatePrescription(AppModel):
    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(
        min_length=1, max_length=255, pattern=r"^[^/\\]+$", description="what the file is called (shown, not trusted)"
    )


class MyPrescriptionsQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    cursor: str | None = CURSOR
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)


class QueueQuery(MyPrescriptionsQuery):
    status: Status | None = Field(default="PENDING", description="default PENDING; oldest first")


class ReviewRequest(AppModel):
    """APPROVED with the last day it may be dispensed against, or REJECTED with the reason."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["expires_on"],
                    "properties": {"decision": {"const": "APPROVED"}, "expires_on": {"type": "string"}},
                },
                {
                    "required": ["notes"],
                    "properties": {
                        "decision": {"const": "REJECTED"},
                        "notes": {"type": "string"},
                        "expires_on": {"type": "null"},
                        "approved_items": {"type": "null"},
                        "approved_variant_ids": {"maxItems": 0},
                    },
                },
            ]
        },
    )

    decision: Decision
    version: Version = Field(description="the prescription's version you last read")
    expires_on: IsoDate | None = Field(default=None, description="APPROVED: the last valid day (today up to a year)")
    notes: str | None = Field(default=None, min_length=1, max_length=1000, description="REJECTED: the reason")
    approved_items: str | None = Field(default=None, min_length=1, max_length=2000, description="items or ingredients")
    approved_variant_ids: list[UUID] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _fields_of_the_decision(self) -> ReviewRequest:
        if self.decision == "APPROVED" and self.expires_on is None:
            raise ValueError("an approval needs expires_on")
        if self.decision == "REJECTED" and self.notes is None:
            raise ValueError("a rejection needs notes (the reason)")
        if self.decision == "REJECTED" and (self.expires_on or self.approved_items or self.approved_variant_ids):
            raise ValueError("a rejection takes no expires_on, approved_items or approved_variant_ids")
        return self


# --- responses -----------------------------------------------------------------------------


class SignedRequest(AppModel):
    url: str = Field(description="valid until expires_at; send the file as the whole body")
    method: Literal["PUT", "GET"]
    headers: dict[str, str] = Field(description="headers to send with the request (x-ms-blob-type)")
    expires_at: datetime


class UploadTicket(AppModel):
    id: UUID
    status: Status
    upload: SignedRequest
    max_bytes: int
    accepted_types: list[str]
    version: int


class Prescription(AppModel):
    """A shopper's own prescription."""

    id: UUID
    file_name: str
    size_bytes: int | None
    content_type: str | None
    status: Status
    submitted_at: datetime | None
    reviewed_at: datetime | None
    review_notes: str | None
    expires_on: date | None
    approved_items: str | None
    approved_variant_ids: list[UUID]
    version: int
    created_at: datetime
    updated_at: datetime


class QueuedPrescription(Prescription):
    """A prescription as pharmacists see it."""

    user_id: str
    reviewer_id: str | None
    reviewer_name: str | None


class PrescriptionPage(AppModel):
    items: list[Prescription]
    next_cursor: str | None


class QueuePage(AppModel):
    items: list[QueuedPrescription]
    next_cursor: str | None


class FileUrl(AppModel):
    url: str = Field(description="read-only, valid until expires_at")
    expires_at: datetime
    content_type: str


# --- rows and values -----------------------------------------------------------------------


class PrescriptionRow(QueuedPrescription):
    blob_name: str


@dataclass(frozen=True)
class AuditSource:
    """Who acts and from where, for the audit table."""

    actor_id: str
    actor_role: str
    actor_name: str | None
    client_ip: str | None
    user_agent: str | None


@dataclass
class ExpiryRun:
    prescriptions: int = 0
    holds_released: int = 0
