from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from em_backend import errors
from em_backend.ingest import checks
from em_common import signing

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
SECRET = "s3cret-for-unit-tests"


def payload(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "evt-0001-abcd",
        "timestamp": NOW.isoformat(),
        "stocks": ["ELON"],
        "quick_score": 0.5,
        "impact_points": "3.5",
        "summary": "s",
        "sources": [{"id": "wire", "url": "https://w.example", "trust": 0.5}],
        "num_independent_sources": 1,
        "llm_mode": "skipped",
    }
    return {**base, **overrides}


def reason(body: bytes, signature: str | None, secrets: list[str] | None = None) -> str:
    with pytest.raises(errors.IngestRejected) as caught:
        checks.verified_event(body, signature, secrets or [SECRET], NOW, timedelta(minutes=10))
    assert SECRET not in caught.value.detail
    return caught.value.reason


def test_valid_event_passes_with_current_or_previous_secret() -> None:
    body = signing.canonical_json(payload())
    for secrets in ([SECRET], ["new-secret", SECRET]):
        event = checks.verified_event(
            body, signing.sign(body, SECRET), secrets, NOW, timedelta(minutes=10)
        )
        assert event.event_id == "evt-0001-abcd"


def test_reserialised_body_verifies_against_its_canonical_form() -> None:
    canonical = signing.canonical_json(payload())
    pretty = json.dumps(payload(), indent=1).encode()
    event = checks.verified_event(
        pretty, signing.sign(canonical, SECRET), [SECRET], NOW, timedelta(minutes=10)
    )
    assert event.stocks == ["ELON"]


def test_refusals_and_their_reasons() -> None:
    body = signing.canonical_json(payload())
    assert reason(body, None) == checks.BAD_SIGNATURE
    assert reason(body, signing.sign(body, "other")) == checks.BAD_SIGNATURE
    assert reason(b"not json", "00") == checks.BAD_SIGNATURE
    bad = signing.canonical_json(payload(stocks=["lower"]))
    assert reason(bad, signing.sign(bad, SECRET)) == checks.INVALID_PAYLOAD
    nul = signing.canonical_json(payload(summary="a\x00b"))
    assert reason(nul, signing.sign(nul, SECRET)) == checks.INVALID_PAYLOAD
    old = signing.canonical_json(payload(timestamp=(NOW - timedelta(minutes=11)).isoformat()))
    assert reason(old, signing.sign(old, SECRET)) == checks.STALE_TIMESTAMP
    naive = signing.canonical_json(payload(timestamp="2030-01-01T12:00:00"))
    assert reason(naive, signing.sign(naive, SECRET)) == checks.INVALID_PAYLOAD
