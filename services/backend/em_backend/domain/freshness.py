"""Replay protection for signed events: how far an event's timestamp may be from now."""

from __future__ import annotations

from datetime import datetime, timedelta


def within_skew(event_time: datetime, now: datetime, max_skew: timedelta) -> bool:
    """True when `event_time` is no more than `max_skew` before or after `now`."""
    return abs(now - event_time) <= max_skew
