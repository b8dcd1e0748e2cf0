"""shared.prescriptions.rules and shared.uploads' magic-byte sniffing, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from shared.platform.auth import Principal
from shared.platform.errors import Conflict, ValidationFailed
from shared.prescriptions import rules
from shared.prescriptions.errors import PrescriptionError
from shared.prescriptions.models import ACCEPTED_TYPES, PrescriptionRow, ReviewRequest
from shared.uploads import JPEG, PDF, PNG, WEBP, sniff_type, url_lifetime

TODAY = date(2026, 3, 10)
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
WEBP_HEAD = b"RIFF\x24\x00\x00\x00WEBPVP8 "


def test_the_file_type_comes_from_its_first_bytes_and_only_allowed_ones_pass():
    assert sniff_type(b"%PDF-1.7\n%\xe2\xe3", ACCEPTED_TYPES) == PDF
    assert sniff_type(b"\xff\xd8\xff\xe0\x00\x10JFIF", ACCEPTED_TYPES) == JPEG
    assert sniff_type(PNG_HEAD, ACCEPTED_TYPES) == PNG
    assert sniff_type(WEBP_HEAD, ACCEPTED_TYPES) is None  # not for prescriptions
    assert sniff_type(WEBP_HEAD, (*ACCEPTED_TYPES, WEBP)) == WEBP  # attachments may allow it
    for renamed in (b"MZ\x90\x00", b"<html><script>", b"PK\x03\x04", b"", b"%PD", b"RIFF\x00\x00\x00\x00WAVE"):
        assert sniff_type(renamed, (*ACCEPTED_TYPES, WEBP)) is None


def test_signed_urls_live_at_most_five_minutes():
    assert url_lifetime(3600).total_seconds() == 300
    assert url_lifetime(60).total_seconds() == 60
    assert url_lifetime(0).total_seconds() == 1


def test_status_moves():
    assert rules.may_move("UPLOADING", "PENDING") and rules.may_move("PENDING", "APPROVED")
    assert rules.may_move("PENDING", "REJECTED") and rules.may_move("APPROVED", "EXPIRED")
    for current, to in [
        ("UPLOADING", "APPROVED"),
        ("REJECTED", "APPROVED"),
        ("EXPIRED", "APPROVED"),
        ("APPROVED", "REJECTED"),
    ]:
        assert not rules.may_move(current, to)


def test_what_an_order_line_may_name_and_when_a_prescription_expires():
    assert rules.dispensable("PENDING", None, TODAY)
    assert rules.dispensable("APPROVED", TODAY, TODAY)  # its last day still counts
    assert not rules.dispensable("APPROVED", date(2026, 3, 9), TODAY)
    assert not any(rules.dispensable(s, TODAY, TODAY) for s in ("UPLOADING", "REJECTED", "EXPIRED", None))
    assert rules.approved_on("APPROVED", TODAY, TODAY) and not rules.approved_on("PENDING", None, TODAY)
    assert rules.expired("APPROVED", date(2026, 3, 9), TODAY)
    assert not rules.expired("APPROVED", TODAY, TODAY) and not rules.expired("PENDING", None, TODAY)


@pytest.mark.parametrize(
    ("problem", "code"),
    [
        ("missing", PrescriptionError.FILE_MISSING),
        ("empty", PrescriptionError.FILE_EMPTY),
        ("too_large", PrescriptionError.FILE_TOO_LARGE),
        ("wrong_type", PrescriptionError.FILE_TYPE_NOT_ALLOWED),
    ],
)
def test_an_unacceptable_upload_is_422_with_its_own_code(problem, code):
    with pytest.raises(ValidationFailed) as raised:
        rules.check_upload(problem, max_bytes=10)
    assert raised.value.code is code
    rules.check_upload(None, max_bytes=10)


def _row(status: str = "PENDING", version: int = 2) -> PrescriptionRow:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    return PrescriptionRow(
        id=uuid.uuid4(), user_id="u1", blob_name="rx/x", file_name="x.pdf", size_bytes=10, content_type=PDF,
        status=status, submitted_at=now, reviewer_id=None, reviewer_name=None, reviewed_at=None, review_notes=None,
        expires_on=None, approved_items=None, approved_variant_ids=[], version=version, created_at=now, updated_at=now,
    )  # fmt: skip


def test_a_review_needs_the_current_version_a_pending_prescription_and_a_sensible_expiry():
    approve = ReviewRequest(decision="APPROVED", version=2, expires_on=date(2026, 6, 1))
    rules.check_review(_row(), approve, TODAY)
    with pytest.raises(Conflict) as stale:
        rules.check_review(_row(version=3), approve, TODAY)
    assert stale.value.code is PrescriptionError.VERSION_CONFLICT
    with pytest.raises(Conflict) as done:
        rules.check_review(_row("APPROVED"), approve, TODAY)
    assert done.value.code is PrescriptionError.NOT_PENDING
    for day, code in [
        (date(2026, 3, 9), PrescriptionError.EXPIRY_IN_PAST),
        (date(2027, 3, 12), PrescriptionError.EXPIRY_TOO_FAR),
    ]:
        with pytest.raises(ValidationFailed) as bad:
            rules.check_review(_row(), approve.model_copy(update={"expires_on": day}), TODAY)
        assert bad.value.errors[0].code is code


def test_a_review_body_carries_the_fields_of_its_decision():
    with pytest.raises(ValueError, match="expires_on"):
        ReviewRequest(decision="APPROVED", version=1)
    with pytest.raises(ValueError, match="reason"):
        ReviewRequest(decision="REJECTED", version=1)
    with pytest.raises(ValueError, match="takes no"):
        ReviewRequest(decision="REJECTED", version=1, notes="illegible", expires_on=TODAY)
    assert rules.audit_action(ReviewRequest(decision="REJECTED", version=1, notes="illegible")) == "rejected"


def test_blob_names_say_nothing_of_the_file_or_its_owner():
    prescription_id = uuid.uuid4()
    assert rules.blob_name(prescription_id) == f"rx/{prescription_id}"


def test_the_audit_source_records_role_address_and_agent():
    pharmacist = Principal("ph-1", frozenset({"pharmacist", "admin"}), name="Dr. Huda")
    source = rules.audit_source(pharmacist, {"x-forwarded-for": "203.0.113.7:51234, 10.0.0.1", "user-agent": "UA"})
    assert (source.actor_id, source.actor_role, source.actor_name) == ("ph-1", "pharmacist", "Dr. Huda")
    assert (source.client_ip, source.user_agent) == ("203.0.113.7", "UA")
    assert rules.client_ip({"x-forwarded-for": "2001:db8::1"}) == "2001:db8::1"
    assert rules.client_ip({}) is None and rules.acting_role(Principal("c", frozenset({"customer"}))) == "customer"
    assert rules.audit_source(pharmacist, {"user-agent": "x" * 900}).user_agent == "x" * rules.MAX_USER_AGENT
