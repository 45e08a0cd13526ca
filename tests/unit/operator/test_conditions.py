"""Conditions keep their transition time unless their status flips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from em_operator.runbook import conditions

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_new_condition_starts_now() -> None:
    (ready,) = conditions.set_condition([], "Ready", "False", "Migrating", "m", T0, 3)
    assert ready["lastTransitionTime"] == "2025-01-01T00:00:00Z"
    assert ready["observedGeneration"] == 3


def test_reason_change_keeps_the_transition_time() -> None:
    first = conditions.set_condition([], "Ready", "False", "Migrating", "m", T0, 1)
    later = conditions.set_condition(
        first, "Ready", "False", "RollingOut", "r", T0 + timedelta(minutes=5), 2
    )
    assert later[0]["lastTransitionTime"] == first[0]["lastTransitionTime"]
    assert (later[0]["reason"], later[0]["observedGeneration"]) == ("RollingOut", 2)


def test_status_flip_moves_the_transition_time() -> None:
    first = conditions.set_condition([], "Ready", "False", "Migrating", "m", T0, 1)
    later = conditions.set_condition(
        first, "Ready", "True", "Ready", "ok", T0 + timedelta(minutes=5), 1
    )
    assert later[0]["lastTransitionTime"] == "2025-01-01T00:05:00Z"


def test_other_conditions_are_kept_and_the_order_is_stable() -> None:
    found = conditions.set_condition([], "MaintenanceActive", "False", "Disabled", "", T0, 1)
    found = conditions.set_condition(found, "Custom", "True", "X", "", T0, 1)
    found = conditions.set_condition(found, "Ready", "True", "Ready", "", T0, 1)
    assert [c["type"] for c in found] == ["Ready", "MaintenanceActive", "Custom"]
    assert conditions.is_true(found, "Custom") and not conditions.is_true(found, "Nope")


def test_timestamps_are_utc_seconds() -> None:
    local = datetime(2025, 1, 1, 2, 0, 0, 123456).astimezone()
    text = conditions.timestamp(local)
    assert text.endswith("Z") and "." not in text
    assert conditions.parse_time(text) == local.replace(microsecond=0)
