from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from em_backend.domain import blending

points = st.decimals(min_value=0, max_value=100, places=2)
weights = st.decimals(min_value=0, max_value=1, places=4)


def test_final_is_weighted_blend_rounded_half_up() -> None:
    assert blending.final_price(D("53.33"), D("70"), D("0.6"), D("0.4")) == D("63.33")
    assert blending.final_price(D("50.01"), D("50.00"), D("0.5"), D("0.5")) == D("50.01")


def test_reality_alone_without_market_price() -> None:
    assert blending.final_price(D("42.5"), None, D("0.6"), D("0.4")) == D("42.50")


def test_move_reality_clamps_to_the_scale() -> None:
    assert blending.move_reality(D("95"), D("20")) == D("100.00")
    assert blending.move_reality(D("3"), D("-20")) == D("0.00")
    assert blending.move_reality(D("50"), D("-4.555")) == D("45.45")


def test_cents_to_points() -> None:
    assert blending.cents_to_points(7001) == D("70.01")
    assert blending.cents_to_points(1) == D("0.01")


def test_confidence_grows_with_trades_and_halves_when_stale() -> None:
    assert blending.confidence(0, stale=False) == D("0")
    assert blending.confidence(5, stale=False) == D("0.5000")
    assert blending.confidence(5, stale=True) == D("0.2500")
    assert blending.confidence(95, stale=False) == D("0.9500")


@given(points, points, weights)
def test_final_stays_between_its_inputs(reality: D, market: D, w: D) -> None:
    final = blending.final_price(reality, market, w, 1 - w)
    assert D(0) <= final <= D(100)
    assert min(reality, market) - D("0.01") <= final <= max(reality, market) + D("0.01")
    assert final == final.quantize(D("0.01"))
