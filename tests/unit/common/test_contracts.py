from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from em_common import contracts


def _event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event_id": "evt-0001-abcd",
        "timestamp": datetime(2026, 11, 29, 12, tzinfo=UTC).isoformat(),
        "stocks": ["ELON"],
        "quick_score": 0.5,
        "impact_points": "3.25",
        "summary": "Launch succeeded",
        "sources": [{"id": "demo", "url": "http://localhost/a", "trust": 0.8}],
        "num_independent_sources": 1,
        "llm_mode": "disabled",
    }
    base.update(overrides)
    return base


def test_reality_event_round_trip_is_exact() -> None:
    event = contracts.RealityEvent.model_validate(_event())
    assert event.impact_points == Decimal("3.25")
    again = contracts.RealityEvent.model_validate_json(event.model_dump_json())
    assert again == event


def test_timestamp_normalised_to_utc() -> None:
    tz = timezone(timedelta(hours=2))
    event = contracts.RealityEvent.model_validate(
        _event(timestamp=datetime(2026, 11, 29, 14, tzinfo=tz).isoformat())
    )
    assert event.timestamp == datetime(2026, 11, 29, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stocks", ["elon"]),
        ("stocks", []),
        ("quick_score", 1.5),
        ("impact_points", "1.234"),
        ("timestamp", "2026-11-29T12:00:00"),
        ("llm_mode", "maybe"),
        ("sources", [{"id": "x", "url": "u", "trust": 2}]),
    ],
)
def test_invalid_fields_are_named(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        contracts.RealityEvent.model_validate(_event(**{field: value}))
    assert field in str(info.value)


def test_unknown_fields_refused() -> None:
    with pytest.raises(ValidationError):
        contracts.RealityEvent.model_validate(_event(extra_field=1))
