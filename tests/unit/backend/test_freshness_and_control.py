from __future__ import annotations

from datetime import UTC, datetime, timedelta

from em_backend import control
from em_backend.domain import freshness

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_skew_window_both_ways() -> None:
    ten = timedelta(minutes=10)
    assert freshness.within_skew(NOW - ten, NOW, ten)
    assert freshness.within_skew(NOW + ten, NOW, ten)
    assert not freshness.within_skew(NOW - ten - timedelta(seconds=1), NOW, ten)
    assert not freshness.within_skew(NOW + ten + timedelta(seconds=1), NOW, ten)


def test_control_entries_and_defaults() -> None:
    state = control.ControlState()
    on = control.apply_entry(state, "maintenance", b'{"enabled": true, "message": "m"}')
    assert on.maintenance_on
    assert on.maintenance_message == "m"
    assert not control.apply_entry(on, "maintenance", None).maintenance_on  # deleted key
    assert control.apply_entry(on, "maintenance", b"not json") == on  # invalid: kept
    locked = control.apply_entry(state, "admin_access", b'{"enabled": false}')
    assert not locked.admin_access.enabled
    assert control.apply_entry(state, "unknown", b"{}") == state


def test_forced_maintenance_and_retry_after() -> None:
    forced = control.ControlState(forced_maintenance=True, forced_message="env")
    assert forced.maintenance_on
    assert forced.maintenance_message == "env"
    assert forced.retry_after(60, NOW) == 60
    until = control.apply_entry(
        control.ControlState(),
        "maintenance",
        f'{{"enabled": true, "until": "{(NOW + timedelta(seconds=90)).isoformat()}"}}'.encode(),
    )
    assert until.retry_after(60, NOW) == 91
    assert until.retry_after(60, NOW + timedelta(hours=1)) == 60
