"""Token buckets: bursts, refill, Retry-After, bounded memory."""

from __future__ import annotations

import pytest

from em_backend.domain.ratelimit import Limiter


def test_burst_then_refusal_with_the_wait() -> None:
    limiter = Limiter(rate_per_second=2, burst=3)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 0.0) == pytest.approx(0.5)
    assert Limiter.retry_after(0.5) == 1


def test_tokens_refill_with_time_and_keys_are_independent() -> None:
    limiter = Limiter(rate_per_second=1, burst=1)
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 0.5) > 0
    assert limiter.take("b", 0.5) == 0.0
    assert limiter.take("a", 2.0) == 0.0


def test_memory_is_bounded() -> None:
    limiter = Limiter(rate_per_second=1, burst=1, max_keys=10)
    for i in range(100):
        limiter.take(str(i), float(i))
    assert len(limiter._buckets) <= 10


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        Limiter(0, 1)
