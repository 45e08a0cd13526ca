"""Reads of the book (top, depth, last trade) and the memory rules of lazy cancels."""

from __future__ import annotations

import pytest

from em_orderbook.engine import UnknownSymbolError, book
from tests.support.orderbook_model import NamedEngine


def test_depth_is_best_first_with_totals_and_counts() -> None:
    engine = NamedEngine(["X"])
    for account, side, qty, price in [
        ("a", "buy", 1, 100),
        ("b", "buy", 2, 101),
        ("c", "buy", 3, 101),
        ("a", "sell", 4, 105),
        ("b", "sell", 5, 103),
        ("c", "sell", 6, 110),
    ]:
        engine.place("X", account, side, "limit", qty, price)
    assert engine.depth("X", 2) == ([(101, 5, 2), (100, 1, 1)], [(103, 5, 1), (105, 4, 1)])
    assert engine.depth("X", 0) == ([], [])
    assert engine.top("X") == ((101, 5), (103, 5))


def test_reads_of_an_unknown_symbol_raise() -> None:
    with pytest.raises(UnknownSymbolError):
        NamedEngine(["X"]).top("Y")


def test_last_trade_is_the_last_fill_of_that_symbol() -> None:
    engine = NamedEngine(["X", "Y"])
    assert engine.last_trade("X") is None
    engine.place("X", "a", "sell", "limit", 1, 100)
    engine.place("X", "a", "sell", "limit", 1, 101)
    engine.place("X", "b", "buy", "market", 2)
    last = engine.last_trade("X")
    assert last is not None and (last.trade_id, last.price) == (2, 101)
    assert engine.last_trade("Y") is None


def test_cancelling_a_levels_last_order_removes_the_level() -> None:
    engine = NamedEngine(["X"])
    engine.place("X", "a", "buy", "limit", 1, 100)
    engine.place("X", "a", "buy", "limit", 1, 101)
    engine.place("X", "a", "buy", "limit", 1, 102)
    engine.cancel(2)
    assert engine.depth("X", 5) == ([(102, 1, 1), (100, 1, 1)], [])
    engine.cancel(3)
    assert engine.top("X") == ((100, 1), None)
    bids = engine.book("X").bids
    assert bids.keys == [100] and list(bids.levels) == [100]


def test_filled_and_cancelled_orders_leave_memory() -> None:
    engine = NamedEngine(["X"])
    for i in range(1_000):
        engine.place("X", f"m{i % 7}", "sell", "limit", 1, 100 + i % 3)
    for i in range(1, 1_000, 2):
        engine.cancel(i)
    engine.place("X", "taker", "buy", "market", 10_000)
    side = engine.book("X").asks
    assert engine.open_orders() == 0
    assert side.keys == [] and side.levels == {}


def test_a_level_full_of_cancelled_orders_is_compacted() -> None:
    engine = NamedEngine(["X"])
    first = engine.place("X", "a", "sell", "limit", 1, 100).order_id
    for _ in range(500):
        engine.place("X", "b", "sell", "limit", 1, 100)
    for order_id in range(2, 502):
        if order_id % 50:
            engine.cancel(order_id)
    level = engine.book("X").asks.levels[-100]
    assert level.count == 11
    assert len(level.orders) <= 2 * level.count + book.COMPACT_SLACK
    report = engine.place("X", "c", "buy", "limit", 11, 100)
    assert [f.maker_order_id for f in report.fills] == [first, *range(50, 501, 50)]


def test_top_and_depth_do_not_walk_the_queues() -> None:
    engine = NamedEngine(["X"])
    for _ in range(2_000):
        engine.place("X", "a", "buy", "limit", 1, 100)
    level = engine.book("X").bids.levels[100]
    level.orders.clear()  # the reads must come from the level's totals alone
    assert engine.top("X") == ((100, 2_000), None)
    assert engine.depth("X", 1) == ([(100, 2_000, 2_000)], [])
