"""Chart history: which time range a request means and how to thin it to a few hundred points.

Downsampling keeps the last point of each equal-width bucket (a chart wants the value the
symbol had, not an average nobody traded at), and always the newest point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

Range = Literal["1h", "1d", "1w", "all"]
RANGES: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
    "all": None,
}
DEFAULT_POINTS = 300


@dataclass(frozen=True)
class Point:
    ts: datetime
    final: Decimal
    reality: Decimal
    market: Decimal | None


def since(range_: str, now: datetime) -> datetime | None:
    """Start of the window for a range name; None means from the beginning."""
    span = RANGES[range_]
    return None if span is None else now - span


def downsample(points: Sequence[Point], max_points: int = DEFAULT_POINTS) -> list[Point]:
    """At most `max_points` points, time-ordered, last point of each bucket kept."""
    if max_points < 1:
        raise ValueError("max_points must be positive")
    if len(points) <= max_points:
        return list(points)
    start = points[0].ts
    span = (points[-1].ts - start).total_seconds()
    if span <= 0:
        return [points[-1]]
    width = span / max_points
    kept: dict[int, Point] = {}
    for point in points:
        bucket = min(max_points - 1, int((point.ts - start).total_seconds() / width))
        kept[bucket] = point
    return [kept[key] for key in sorted(kept)]
