"""Opaque keyset cursors: base64url JSON of the last row's sort key."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from uuid import UUID

from shared.platform.errors import FieldError, ValidationFailed


def _encode(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict:
    """The cursor's JSON object; ValueError when it is not base64url JSON."""
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def _invalid(detail: str) -> ValidationFailed:
    return ValidationFailed(detail, errors=[FieldError(path="cursor", message="invalid cursor", code="invalid_cursor")])


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    return _encode({"c": created_at.isoformat(), "i": str(row_id)})


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        data = _decode(cursor)
        return datetime.fromisoformat(data["c"]), UUID(data["i"])
    except (ValueError, KeyError, TypeError):
        raise _invalid("the cursor is not one this API issued") from None


def encode_keyset(sort: str, value: str, row_id: UUID) -> str:
    """A cursor for a listing sorted by `sort`: the last row's sort value and id."""
    return _encode({"s": sort, "v": value, "i": str(row_id)})


def decode_keyset(cursor: str | None, sort: str) -> tuple[str, UUID] | None:
    """The (sort value, id) after which the next page starts; a cursor of another sort is refused."""
    if not cursor:
        return None
    try:
        data = _decode(cursor)
        if data["s"] == sort and isinstance(data["v"], str):
            return data["v"], UUID(data["i"])
    except (ValueError, KeyError, TypeError):
        pass
    raise _invalid("the cursor is not one this API issued for this sort")
