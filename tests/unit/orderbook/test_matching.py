"""Examples of each matching rule, one behaviour per test."""

from __future__ import annotations

import pytest

from em_orderbook.engine import (
    ACCEPTED,
    ALREADY_DONE,
    CANCELLED,
    FOK_UNFILLABLE,
    INVALID_ARGUMENT,
    NO_LIQUIDITY,
    NOT_OWNER,
    REJECTED,
    UNKNOWN_ORDER,
    UNKNOWN_SYMBOL,
    CancelledOrder,
    Engine,
    Fill,
    PlaceReport,
)
from tests.support.orderbook_model import NamedEngine


def _engine() -> NamedEngine:
    return NamedEngine(["ELON", "TECH"])


def test_limit_order_rests_when_nothing_crosses() -> None:
    engine = _engine()
    report = engine.place("ELON", "alice", "buy", "limit", 10, 4_000)
    assert (report.status, report.order_id, report.resting, list(report.fills)) == (
        ACCEPTED,
        1,
        10,
        [],
    )
    assert engine.top("ELON") == ((4_000, 10), None)


def test_fill_is_at_the_resting_price_and_partial_fill_rests() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 5, 4_000)
    report = engine.place("ELON", "bob", "buy", "limit", 8, 4_100)
    assert list(report.fills) == [Fill(1, 1, 2, "alice", "bob", 4_000, 5, "buy", "ELON")]
    assert report.resting == 3
    assert engine.top("ELON") == ((4_100, 3), None)
    assert engine.last_trade("ELON") == report.fills[0]


def test_resting_order_is_partially_filled_and_keeps_its_place() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 10, 4_000)
    engine.place("ELON", "carol", "sell", "limit", 10, 4_000)
    engine.place("ELON", "bob", "buy", "limit", 4, 4_000)
    report = engine.place("ELON", "bob", "buy", "limit", 7, 4_000)
    assert [(f.maker_order_id, f.qty) for f in report.fills] == [(1, 6), (2, 1)]
    assert engine.depth("ELON", 5) == ([], [(4_000, 9, 1)])


def test_better_price_first_then_earlier_order() -> None:
    engine = _engine()
    engine.place("ELON", "a1", "sell", "limit", 1, 4_200)
    engine.place("ELON", "a2", "sell", "limit", 1, 4_100)
    engine.place("ELON", "a3", "sell", "limit", 1, 4_100)
    engine.place("ELON", "a4", "sell", "limit", 1, 4_000)
    report = engine.place("ELON", "bob", "buy", "limit", 4, 4_200)
    assert [(f.maker_order_id, f.price) for f in report.fills] == [
        (4, 4_000),
        (2, 4_100),
        (3, 4_100),
        (1, 4_200),
    ]
    assert [f.trade_id for f in report.fills] == [1, 2, 3, 4]


def test_limit_never_trades_through_its_price() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "buy", "limit", 5, 3_000)
    engine.place("ELON", "alice", "buy", "limit", 5, 2_900)
    report = engine.place("ELON", "bob", "sell", "limit", 8, 2_950)
    assert [(f.price, f.qty) for f in report.fills] == [(3_000, 5)]
    assert engine.top("ELON") == ((2_900, 5), (2_950, 3))


def test_ioc_takes_what_crosses_and_cancels_the_rest() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 3, 4_000)
    report = engine.place("ELON", "bob", "buy", "limit", 5, 4_000, "ioc")
    assert (report.filled, report.resting, report.cancelled_qty) == (3, 0, 2)
    assert engine.top("ELON") == (None, None)


def test_ioc_with_nothing_crossing_is_accepted_and_fully_cancelled() -> None:
    engine = _engine()
    report = engine.place("ELON", "bob", "buy", "limit", 5, 4_000, "ioc")
    assert (report.status, report.order_id, report.cancelled_qty) == (ACCEPTED, 1, 5)
    assert engine.open_orders() == 0


def test_fok_fills_completely_across_levels() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 3, 4_000)
    engine.place("ELON", "carol", "sell", "limit", 3, 4_050)
    report = engine.place("ELON", "bob", "buy", "limit", 6, 4_050, "fok")
    assert report.filled == 6 and report.resting == 0 and report.cancelled_qty == 0


def test_fok_that_cannot_fill_is_rejected_and_leaves_the_book_alone() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 3, 4_000)
    engine.place("ELON", "carol", "sell", "limit", 3, 4_100)
    before = engine.digest()
    report = engine.place("ELON", "bob", "buy", "limit", 6, 4_050, "fok")
    assert (report.status, report.reason, report.order_id) == (REJECTED, FOK_UNFILLABLE, None)
    assert engine.digest() == before


def test_fok_does_not_count_own_orders_as_liquidity() -> None:
    engine = _engine()
    engine.place("ELON", "bob", "sell", "limit", 5, 4_000)
    engine.place("ELON", "alice", "sell", "limit", 3, 4_000)
    report = engine.place("ELON", "bob", "buy", "limit", 5, 4_000, "fok")
    assert report.reason == FOK_UNFILLABLE
    assert engine.top("ELON") == (None, (4_000, 8))


def test_market_order_takes_what_is_there_and_cancels_the_rest() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 2, 4_000)
    engine.place("ELON", "carol", "sell", "limit", 2, 9_000)
    report = engine.place("ELON", "bob", "buy", "market", 10)
    assert [(f.price, f.qty) for f in report.fills] == [(4_000, 2), (9_000, 2)]
    assert (report.resting, report.cancelled_qty) == (0, 6)


def test_market_order_against_an_empty_side_is_rejected() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "buy", "limit", 2, 4_000)
    report = engine.place("ELON", "bob", "buy", "market", 10)
    assert (report.status, report.reason, report.order_id) == (REJECTED, NO_LIQUIDITY, None)
    assert engine.next_order_id == 2


def test_market_fok() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 2, 4_000)
    assert engine.place("ELON", "bob", "buy", "market", 3, None, "fok").reason == FOK_UNFILLABLE
    assert engine.place("ELON", "bob", "buy", "market", 2, None, "fok").filled == 2


def test_self_trade_cancels_the_resting_order_and_says_so() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 5, 4_000)
    engine.place("ELON", "bob", "sell", "limit", 5, 4_000)
    report = engine.place("ELON", "alice", "buy", "limit", 7, 4_000)
    assert list(report.self_trade_cancels) == [CancelledOrder(1, "alice", "sell", 4_000, 5)]
    assert [(f.maker_account, f.qty) for f in report.fills] == [("bob", 5)]
    assert report.resting == 2
    assert engine.order(1) is None
    assert engine.cancel(1).result == ALREADY_DONE


def test_self_trade_only_with_own_orders_leaves_the_market_order_empty() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 5, 4_000)
    report = engine.place("ELON", "alice", "buy", "market", 3)
    assert report.accepted and not report.fills and report.cancelled_qty == 3
    assert len(report.self_trade_cancels) == 1
    assert engine.top("ELON") == (None, None)


def test_cancel_results_are_distinct() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "buy", "limit", 5, 4_000)
    engine.place("ELON", "alice", "buy", "limit", 5, 4_000, "ioc")
    not_owner = engine.cancel(1, "mallory")
    assert (not_owner.result, not_owner.account) == (NOT_OWNER, "alice")
    assert engine.order(1) is not None
    done = engine.cancel(1, "alice")
    assert (done.result, done.qty, done.symbol, done.side, done.price) == (
        CANCELLED,
        5,
        "ELON",
        "buy",
        4_000,
    )
    assert engine.cancel(1).result == ALREADY_DONE
    assert engine.cancel(2).result == ALREADY_DONE  # the IOC finished at once
    assert engine.cancel(3).result == UNKNOWN_ORDER
    assert engine.cancel(0).result == UNKNOWN_ORDER
    assert engine.top("ELON") == (None, None)


def test_owner_lookup_for_the_edge() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "buy", "limit", 5, 4_000)
    assert engine.owner(1) == "alice"
    assert engine.owner(2) is None


def test_ids_are_sequences_never_reused_and_shared_across_symbols() -> None:
    engine = _engine()
    ids = [engine.place(s, "alice", "buy", "limit", 1, 100).order_id for s in ("ELON", "TECH")]
    engine.cancel(2)
    ids.append(engine.place("TECH", "bob", "sell", "limit", 1, 200).order_id)
    assert ids == [1, 2, 3]
    engine.place("ELON", "bob", "sell", "limit", 1, 100)
    assert engine.place("TECH", "alice", "buy", "limit", 1, 200).fills[0].trade_id == 2


def test_symbols_have_separate_books() -> None:
    engine = _engine()
    engine.place("ELON", "alice", "sell", "limit", 5, 4_000)
    report = engine.place("TECH", "bob", "buy", "limit", 5, 4_000)
    assert not report.fills and engine.top("TECH") == ((4_000, 5), None)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "a", "buy", "limit", 1, 100), "symbol"),
        (("ELON", "", "buy", "limit", 1, 100), "account"),
        (("ELON", "a", "hold", "limit", 1, 100), "side"),
        (("ELON", "a", "buy", "stop", 1, 100), "kind"),
        (("ELON", "a", "buy", "limit", 0, 100), "qty"),
        (("ELON", "a", "buy", "limit", 10_001, 100), "qty"),
        (("ELON", "a", "buy", "limit", True, 100), "qty"),
        (("ELON", "a", "buy", "limit", 1, 0), "price"),
        (("ELON", "a", "buy", "limit", 1, 10_000), "price"),
        (("ELON", "a", "buy", "limit", 1, 50.5), "price"),
        (("ELON", "a", "buy", "limit", 1, None), "price"),
        (("ELON", "a", "buy", "market", 1, 100), "price"),
        (("ELON", "a", "buy", "limit", 1, 100, "day"), "tif"),
        (("ELON", "a", "buy", "market", 1, None, "gtc"), "tif"),
    ],
)
def test_invalid_input_is_rejected_naming_the_field(args: tuple[object, ...], field: str) -> None:
    engine = _engine()
    report = engine.place(*args)  # type: ignore[arg-type]
    assert (report.status, report.reason, report.field) == (REJECTED, INVALID_ARGUMENT, field)
    assert report.message is not None and field in report.message
    assert engine.next_order_id == 1


def test_unknown_symbol_is_its_own_reason() -> None:
    report = _engine().place("NOPE", "a", "buy", "limit", 1, 100)
    assert (report.reason, report.field) == (UNKNOWN_SYMBOL, "symbol")


def test_limits_are_inclusive() -> None:
    engine = _engine()
    assert engine.place("ELON", "a", "buy", "limit", 10_000, 1).accepted
    assert engine.place("ELON", "b", "sell", "limit", 1, 9_999).accepted


def test_the_engine_returns_plain_tuples_in_the_documented_order() -> None:
    engine = Engine(["ELON"])
    engine.place("ELON", "alice", "sell", "limit", 5, 4_000)
    raw = engine.place("ELON", "bob", "buy", "limit", 7, 4_000, "ioc")
    assert type(raw) is tuple
    status, order_id, symbol, side, fills, resting, cancelled, stp, reason, field, msg = raw
    assert (status, order_id, symbol, side, resting, cancelled) == (
        ACCEPTED,
        2,
        "ELON",
        "buy",
        0,
        2,
    )
    assert (list(stp), reason, field, msg) == ([], None, None, None)
    assert [type(f) for f in fills] == [tuple]
    named = PlaceReport.of(raw)
    assert named[:4] == raw[:4] and named[5:7] == raw[5:7] and named[8:] == raw[8:]
    assert named.fills == [Fill(1, 1, 2, "alice", "bob", 4_000, 5, "buy", "ELON")] == fills
    assert (named.fills[0].buy_account, named.fills[0].sell_order_id) == ("bob", 1)
    assert engine.cancel(1) == (ALREADY_DONE, 1, None, None, None, None, 0)
