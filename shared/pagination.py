"""Opaque keyset cursors: base64url JSON of the last row's sort key."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from uuid import UUID

from shared.errors import FieldError, ValidationFailed


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = json.dumps({"c": created_at.isoformat(), "i": str(row_id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(data["c"]), UUID(data["i"])
    except (ValueError, KeyError, TypeError):
        raise ValidationFailed(
            "the cursor is not one this API issued",
            errors=[FieldError(path="cursor", message="invalid cursor", code="invalid_cursor")],
        ) from None


def encode_keyset(sort: str, value: str, row_id: UUID) -> str:
    """A cursor for a listing sorted by `sort`: the last row's sort value and id."""
    raw = json.dumps({"s": sort, "v": value, "i": str(row_id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keyset(cursor: str | None, sort: str) -> tuple[str, UUID] | None:
    """The (sort value, id) after which the next page starts; a cursor of another sort is refused."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        if data["s"] == sort and isinstance(data["v"], str):
            return data["v"], UUID(data["i"])
    except (ValueError, KeyError, TypeError):
        pass
    raise ValidationFailed(
        "the cursor is not one this API issued for this sort",
        errors=[FieldError(path="cursor", message="invalid cursor", code="invalid_cursor")],
    )
