from __future__ import annotations

from em_reality import llm


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_holds_the_hourly_budget_and_refills_continuously() -> None:
    clock = Clock()
    bucket = llm.TokenBucket(10, clock)

    assert [bucket.take() for _ in range(11)] == [True] * 10 + [False]
    clock.now += 359  # one token takes 360 s at 10 per hour
    assert not bucket.take()
    clock.now += 2
    assert bucket.take()
    assert not bucket.take()


def test_bucket_never_holds_more_than_its_capacity() -> None:
    clock = Clock()
    bucket = llm.TokenBucket(3, clock)
    clock.now += 10 * 3600
    assert bucket.remaining == 3


def test_zero_budget_refuses_everything() -> None:
    bucket = llm.TokenBucket(0, Clock())
    assert not bucket.take()
