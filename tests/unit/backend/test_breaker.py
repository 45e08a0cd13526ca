from __future__ import annotations

from em_backend.domain import breaker


def test_opens_after_threshold_then_half_opens_after_cool_down() -> None:
    b = breaker.CircuitBreaker(failure_threshold=3, reset_seconds=5)
    for t in (0.0, 0.1, 0.2):
        assert b.allow(t)
        b.record_failure(t)
    assert str(b.state) == "open"
    assert not b.allow(4.0)
    assert b.allow(5.3)  # one trial call
    assert str(b.state) == "half_open"
    assert not b.allow(5.4)  # no second call while the trial is out
    b.record_failure(5.5)
    assert str(b.state) == "open"
    assert b.allow(10.6)
    b.record_success()
    assert str(b.state) == "closed"
    assert b.allow(10.7)


def test_success_resets_the_count() -> None:
    b = breaker.CircuitBreaker(failure_threshold=2, reset_seconds=1)
    b.record_failure(0)
    b.record_success()
    b.record_failure(0)
    assert str(b.state) == "closed"
