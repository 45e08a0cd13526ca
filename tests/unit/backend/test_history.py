from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from em_backend.domain import history

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def series(n: int) -> list[history.Point]:
    return [
        history.Point(T0 + timedelta(seconds=i), D(i % 100), D(i % 100), None) for i in range(n)
    ]


def test_short_series_is_untouched() -> None:
    points = series(5)
    assert history.downsample(points, 10) == points


def test_downsample_keeps_order_bound_and_newest() -> None:
    points = series(10_000)
    kept = history.downsample(points, 300)
    assert len(kept) <= 300
    assert kept[-1] == points[-1]
    assert [p.ts for p in kept] == sorted(p.ts for p in kept)


def test_all_points_at_one_instant() -> None:
    points = [history.Point(T0, D(i), D(i), None) for i in range(20)]
    assert history.downsample(points, 5) == [points[-1]]


def test_ranges() -> None:
    assert history.since("1h", T0) == T0 - timedelta(hours=1)
    assert history.since("all", T0) is None
    with pytest.raises(ValueError):
        history.downsample(series(3), 0)
