from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import hypothesis.strategies as st
import pytest
from hypothesis import given

from em_backend.domain import feedcursor


def test_round_trip_keeps_microseconds_and_id() -> None:
    at = datetime(2030, 5, 17, 8, 30, 1, 123456, tzinfo=UTC)
    text = feedcursor.encode(at, 42)
    assert text == f"{int(at.timestamp())}123456-42"
    assert feedcursor.decode(text) == feedcursor.Cursor(at, 42)


def test_offset_times_name_the_same_instant() -> None:
    at = datetime(2030, 5, 17, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    assert feedcursor.encode(at, 1) == feedcursor.encode(at.astimezone(UTC), 1)


@given(
    at=st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.just(UTC),
    ),
    # Row ids are a bigint identity; a billion billion rows is out of reach.
    row_id=st.integers(min_value=1, max_value=10**18 - 1),
)
def test_every_position_round_trips(at: datetime, row_id: int) -> None:
    assert feedcursor.decode(feedcursor.encode(at, row_id)) == feedcursor.Cursor(at, row_id)


@given(st.from_regex(feedcursor.PATTERN, fullmatch=True))
def test_everything_the_pattern_admits_decodes(text: str) -> None:
    cursor = feedcursor.decode(text)
    assert cursor.at.tzinfo is UTC
    assert 0 <= cursor.row_id < 2**63


@pytest.mark.parametrize("text", ["", "12", "12-", "-3", "1.5-3", "12-3-4", "x-1", "1" * 17 + "-1"])
def test_foreign_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        feedcursor.decode(text)
