"""The one pagination helper: cursor codec, limit + 1, first-page sentinels."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from shared.platform.errors import PlatformError, ValidationFailed
from shared.platform.pagination import (
    NEWEST_FIRST,
    OLDEST_FIRST,
    after_created,
    created_key_of,
    cut_page,
    decode_cursor,
    encode_cursor,
    fetch_size,
)


@dataclass
class Row:
    created_at: datetime
    id: UUID


def rows(n: int) -> list[Row]:
    start = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    return [Row(start - timedelta(minutes=i), uuid4()) for i in range(n)]


def test_a_cursor_round_trips_for_its_own_order_only():
    cursor = encode_cursor("price_asc", "12.50", "abc")
    assert decode_cursor(cursor, "price_asc") == ("12.50", "abc")
    assert decode_cursor(None, "price_asc") is None
    for bad in (cursor[:-3], "not-base64!", encode_cursor("newest", "x")):
        with pytest.raises(ValidationFailed) as caught:
            decode_cursor(bad, "price_asc")
        assert caught.value.errors[0].code == PlatformError.INVALID_CURSOR


def test_cut_page_keeps_limit_rows_and_makes_a_cursor_only_when_one_more_came_back():
    fetched = rows(fetch_size(3))
    items, cursor = cut_page(fetched, 3, order=NEWEST_FIRST, key_of=created_key_of)
    assert items == fetched[:3]
    assert after_created(cursor, NEWEST_FIRST) == (fetched[2].created_at, fetched[2].id)
    assert cut_page(fetched[:3], 3, order=NEWEST_FIRST, key_of=created_key_of) == (fetched[:3], None)
    assert cut_page([], 3, order=NEWEST_FIRST, key_of=created_key_of) == ([], None)


def test_the_first_page_starts_beyond_every_row_in_either_direction():
    newest_sentinel = after_created(None, NEWEST_FIRST)
    oldest_sentinel = after_created(None, OLDEST_FIRST)
    row = rows(1)[0]
    assert (row.created_at, row.id) < newest_sentinel
    assert (row.created_at, row.id) > oldest_sentinel


def test_a_created_cursor_with_a_broken_key_is_a_422_not_a_500():
    with pytest.raises(ValidationFailed):
        after_created(encode_cursor(NEWEST_FIRST, "yesterday", "nobody"), NEWEST_FIRST)
