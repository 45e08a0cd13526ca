"""Reservations: worst-case holds per order and the sell pool backed by the long position."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from em_backend.domain import reservations as r


def test_limit_buy_reserves_price_times_quantity() -> None:
    order = r.Order(1, "buy", D("42.50"), 10)
    assert r.requirements([order], long_qty=0) == {1: D("425.00")}


def test_market_buy_reserves_at_the_worst_price() -> None:
    assert r.requirements([r.Order(1, "buy", None, 3)], 0) == {1: D("300.00")}


def test_short_sale_reserves_collateral_at_its_limit() -> None:
    assert r.requirements([r.Order(1, "sell", D("60.00"), 5)], 0) == {1: D("200.00")}


def test_market_sell_reserves_as_if_filled_at_zero() -> None:
    assert r.requirements([r.Order(1, "sell", None, 2)], 0) == {1: D("200.00")}


def test_long_position_backs_sells_first() -> None:
    assert r.requirements([r.Order(1, "sell", D("60.00"), 5)], long_qty=5) == {1: D("0.00")}
    assert r.requirements([r.Order(1, "sell", D("60.00"), 8)], long_qty=5) == {1: D("120.00")}


def test_pool_reserves_the_units_needing_most_collateral() -> None:
    cheap, dear = r.Order(1, "sell", D("90.00"), 10), r.Order(2, "sell", D("50.00"), 5)
    held = r.requirements([cheap, dear], long_qty=10)
    # 15 units offered, 10 held: the 5 worst units (dear, 50 each) are reserved.
    assert held == {1: D("0.00"), 2: D("250.00")}


def test_progress_shrinks_the_hold() -> None:
    order = r.Order(1, "buy", D("10.00"), 10, filled=3, closed=2)
    assert order.live == 5
    assert r.requirements([order], 0) == {1: D("50.00")}
    done = r.Order(2, "sell", D("10.00"), 4, filled=4)
    assert r.requirements([done], 0) == {2: D("0.00")}


@pytest.mark.parametrize(
    ("points", "cents"), [(D("0.01"), 1), (D("42.50"), 4250), (D("99.99"), 9999)]
)
def test_cents_round_trip(points: D, cents: int) -> None:
    assert r.to_cents(points) == cents
    assert r.from_cents(cents) == points
