"""One way to page every list (keyset, never OFFSET).

- The cursor is opaque to clients: base64url JSON of the last row's sort key, tagged with the
  order it belongs to, so a cursor of another order (or a forged one) is a 422, never a
  wrong page.
- A repo fetches `fetch_size(limit)` rows (one more than the page) and `cut_page` keeps the
  page and makes the next cursor only when that extra row came back.
- The first page has no cursor: `after_key` returns the order's sentinel (a key beyond every
  row), so a list query has one shape and one plan whether or not a cursor was given.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol, TypeVar
from uuid import UUID

from shared.platform.errors import FieldError, PlatformError, ValidationFailed

T = TypeVar("T")
CreatedKey = tuple[datetime, UUID]

NEWEST_FIRST = "created_desc"
OLDEST_FIRST = "created_asc"
# Keys beyond every row: the first page of a descending (ascending) list starts after them.
_FIRST_PAGE = {
    NEWEST_FIRST: (datetime.max.replace(tzinfo=UTC), UUID(int=(1 << 128) - 1)),
    OLDEST_FIRST: (datetime.min.replace(tzinfo=UTC), UUID(int=0)),
}


class CreatedRow(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> UUID: ...


def fetch_size(limit: int) -> int:
    """Rows a repo reads for a page of `limit`: the extra one says whether a next page exists."""
    return limit + 1


def encode_cursor(order: str, *key: str) -> str:
    data = json.dumps({"o": order, "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, order: str) -> tuple[str, ...] | None:
    """The sort key the next page starts after; None for the first page; 422 for a cursor
    this API did not issue for this order."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["o"] == order and all(isinstance(part, str) for part in data["k"]):
            return tuple(data["k"])
    except (ValueError, KeyError, TypeError):
        pass
    raise _invalid_cursor()


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "the cursor is not one this API issued for this list",
        errors=[FieldError(path="cursor", message="invalid cursor", code=PlatformError.INVALID_CURSOR)],
    )


def cut_page(
    rows: Sequence[T], limit: int, *, order: str, key_of: Callable[[T], Sequence[str]]
) -> tuple[list[T], str | None]:
    """The page's rows, and the cursor of the next page when there is one."""
    items = list(rows[:limit])
    if len(rows) <= limit:
        return items, None
    return items, encode_cursor(order, *key_of(items[-1]))


def created_key_of(row: CreatedRow) -> tuple[str, str]:
    """The (created_at, id) sort key of a row, for `cut_page`."""
    return row.created_at.isoformat(), str(row.id)


def after_created(cursor: str | None, order: str = NEWEST_FIRST) -> CreatedKey:
    """The (created_at, id) a created-ordered page starts after; the sentinel on the first page."""
    key = decode_cursor(cursor, order)
    if key is None:
        return _FIRST_PAGE[order]
    try:
        created_at, row_id = key
        return datetime.fromisoformat(created_at), UUID(row_id)
    except ValueError:
        raise _invalid_cursor() from None
