"""Property tests: the engine against the obviously-correct model, plus invariants.

Random sequences of places and cancels run through both; after every step the reports, the
books and the invariants (uncrossed book, no over-fill, conserved quantity, price-time order,
FOK/IOC semantics, no self-trade) must hold.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from em_orderbook.engine import PlaceReport
from tests.support.orderbook_model import ModelBook, NamedEngine

SYMBOLS = ["X", "Y"]
ACCOUNTS = ["a", "b", "c"]

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _operations(
    prices: st.SearchStrategy[int], max_size: int, cancel_ids: int, min_size: int = 0
) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    places = st.tuples(
        st.just("place"),
        st.sampled_from(["X", "X", "X", "Y"]),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(["buy", "sell"]),
        st.sampled_from(["limit", "limit", "limit", "market"]),
        st.one_of(st.integers(1, 3), st.integers(1, 30)),
        prices,
        st.sampled_from([None, None, "gtc", "ioc", "fok"]),
    )
    owners = st.sampled_from([None, None, *ACCOUNTS])
    # "cancel" names a raw id (often unknown or finished); "cancel_live" the k-th live order.
    cancels = st.tuples(st.just("cancel"), st.integers(0, cancel_ids), owners)
    live_cancels = st.tuples(st.just("cancel_live"), st.integers(0, 1000), owners)
    # Seven places for every three cancels (one_of would pick each branch equally often).
    choice = st.integers(0, 9).flatmap(
        lambda k: places if k < 7 else cancels if k < 8 else live_cancels
    )
    return st.lists(choice, min_size=min_size, max_size=max_size)


operations = _operations(st.integers(97, 103), max_size=100, cancel_ids=100, min_size=10)


def _passive(side: str, account: str, qty: int, offset: int) -> tuple[Any, ...]:
    price = 99 - offset if side == "buy" else 100 + offset
    return ("place", "X", account, side, "limit", qty, price, None)


# Two levels a side, long runs, many cancels of live orders, occasional sweeps: deep queues
# full of dead entries that get compacted and then matched through.
_passives = st.builds(
    _passive,
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(ACCOUNTS),
    st.integers(1, 5),
    st.integers(0, 1),
)
_sweeps = st.tuples(
    st.just("place"),
    st.just("X"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(["buy", "sell"]),
    st.just("market"),
    st.integers(1, 60),
    st.none(),
    st.sampled_from([None, "fok"]),
)
_live_cancels = st.tuples(st.just("cancel_live"), st.integers(0, 1000), st.none())
deep_operations = st.lists(
    st.one_of(_passives, _live_cancels, _passives, _live_cancels, _sweeps),
    min_size=100,
    max_size=300,
)


def _place_args(op: tuple[Any, ...]) -> tuple[Any, ...]:
    _, symbol, account, side, kind, qty, price, tif = op
    if kind == "market":
        tif = None if tif in (None, "gtc") else tif
        return (symbol, account, side, kind, qty, None, tif)
    return (symbol, account, side, kind, qty, price, tif)


def _engine_view(report: PlaceReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "order_id": report.order_id,
        "fills": [tuple(f) for f in report.fills],
        "resting": report.resting,
        "cancelled_qty": report.cancelled_qty,
        "self_trade_cancels": [tuple(c) for c in report.self_trade_cancels],
        "reason": report.reason,
        "field": report.field,
    }


class Ledger:
    """What the reports alone say each order should still have resting."""

    def __init__(self) -> None:
        self.original: dict[int, int] = {}
        self.filled: dict[int, int] = {}
        self.live: dict[int, int] = {}

    def placed(self, args: tuple[Any, ...], report: PlaceReport) -> None:
        qty = args[4]
        if not report.accepted:
            assert report.order_id is None and not report.fills and not report.resting
            return
        assert report.order_id is not None
        self.original[report.order_id] = qty
        for fill in report.fills:
            self.filled[fill.taker_order_id] = self.filled.get(fill.taker_order_id, 0) + fill.qty
            self.filled[fill.maker_order_id] = self.filled.get(fill.maker_order_id, 0) + fill.qty
            self.live[fill.maker_order_id] -= fill.qty
            if self.live[fill.maker_order_id] == 0:
                del self.live[fill.maker_order_id]
        for cancel in report.self_trade_cancels:
            assert self.live.pop(cancel.order_id) == cancel.qty
        assert qty == report.filled + report.resting + report.cancelled_qty
        if report.resting:
            self.live[report.order_id] = report.resting
        for order_id, filled in self.filled.items():
            assert filled <= self.original[order_id], "over-filled"


def _check_invariants(engine: NamedEngine, ledger: Ledger, args: tuple[Any, ...], rep: Any) -> None:
    if isinstance(rep, PlaceReport) and rep.accepted:
        side, tif = args[2], args[6]
        prices = [f.price for f in rep.fills]
        assert prices == sorted(prices, reverse=(side == "sell")), "price priority"
        for a, b in zip(rep.fills, rep.fills[1:], strict=False):
            if a.price == b.price:
                assert a.maker_order_id < b.maker_order_id, "time priority"
        assert all(f.maker_account != f.taker_account for f in rep.fills), "self-trade"
        if tif == "fok":
            assert rep.filled == args[4]
        if tif == "ioc" or args[3] == "market":
            assert rep.resting == 0
        limit = args[5]
        if limit is not None:
            through = [p for p in prices if (p > limit if side == "buy" else p < limit)]
            assert not through, "traded through the limit"
    for symbol in SYMBOLS:
        bid, ask = engine.top(symbol)
        assert bid is None or ask is None or bid[0] < ask[0], "crossed book"
    assert engine.open_orders() == len(ledger.live)
    for order_id, remaining in ledger.live.items():
        view = engine.order(order_id)
        assert view is not None and view.remaining == remaining


def _run(engine: NamedEngine, model: ModelBook, ledger: Ledger, ops: list[tuple[Any, ...]]) -> None:
    for op in ops:
        if op[0] == "place":
            args = _place_args(op)
            rep = engine.place(*args)
            expected = model.place(*args)
            assert _engine_view(rep) == {
                "status": expected.status,
                "order_id": expected.order_id,
                "fills": expected.fills,
                "resting": expected.resting,
                "cancelled_qty": expected.cancelled_qty,
                "self_trade_cancels": expected.self_trade_cancels,
                "reason": expected.reason,
                "field": expected.field,
            }
            ledger.placed(args, rep)
            _check_invariants(engine, ledger, args, rep)
        else:
            _, order_id, account = op
            if op[0] == "cancel_live":
                live = sorted(ledger.live)
                order_id = live[order_id % len(live)] if live else 0
            crep = engine.cancel(order_id, account)
            assert (crep.result, crep.qty) == model.cancel(order_id, account)
            if crep.cancelled:
                assert ledger.live.pop(order_id) == crep.qty
            _check_invariants(engine, ledger, (), crep)
    for symbol in SYMBOLS:
        bids, asks = engine.depth(symbol, 10_000)
        assert bids == model.levels(symbol, "buy")
        assert asks == model.levels(symbol, "sell")
        last = engine.last_trade(symbol)
        assert (tuple(last) if last else None) == model.last_trade.get(symbol)


@PROPERTY_SETTINGS
@given(operations)
def test_engine_matches_the_model_and_keeps_its_invariants(ops: list[tuple[Any, ...]]) -> None:
    _run(NamedEngine(SYMBOLS), ModelBook(SYMBOLS), Ledger(), ops)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep_operations)
def test_deep_queues_with_many_cancels_match_the_model(ops: list[tuple[Any, ...]]) -> None:
    # Compact as soon as dead entries outnumber live ones, so that compaction runs often.
    _run(NamedEngine(SYMBOLS, compact_slack=0), ModelBook(SYMBOLS), Ledger(), ops)


@PROPERTY_SETTINGS
@given(operations, operations)
def test_restored_snapshot_has_same_digest_and_same_future(
    before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    engine, model, ledger = NamedEngine(SYMBOLS), ModelBook(SYMBOLS), Ledger()
    _run(engine, model, ledger, before)
    snapshot = json.loads(json.dumps(engine.to_snapshot()))
    restored = NamedEngine.from_snapshot(snapshot)
    assert restored.digest() == engine.digest()
    assert restored.to_snapshot() == engine.to_snapshot()

    # The restored engine behaves exactly like the original from here on.
    twin_ledger = Ledger()
    twin_ledger.original, twin_ledger.filled = dict(ledger.original), dict(ledger.filled)
    twin_ledger.live = dict(ledger.live)
    twin_model = ModelBook(SYMBOLS)
    twin_model.resting = [type(o)(**vars(o)) for o in model.resting]
    twin_model.next_order_id, twin_model.next_trade_id = model.next_order_id, model.next_trade_id
    twin_model.last_trade = dict(model.last_trade)
    _run(engine, model, ledger, after)
    _run(restored, twin_model, twin_ledger, after)
    assert restored.digest() == engine.digest()


arbitrary = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 10_002),
    st.sampled_from(["", "X", "Z", "buy", "sell", "limit", "market", "gtc", "ioc", "fok"]),
    st.floats(allow_nan=False, min_value=-1, max_value=20_000),
)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["X", "Z", "", 7, ["X"]]),
    st.sampled_from(["a", "", None]),
    st.sampled_from(["buy", "sell", "BUY", None]),
    st.sampled_from(["limit", "market", "stop"]),
    st.one_of(st.integers(-1, 10_001), arbitrary),
    st.one_of(st.integers(0, 10_000), arbitrary),
    st.one_of(st.sampled_from([None, "gtc", "ioc", "fok"]), arbitrary),
)
def test_validation_names_the_same_field_as_the_model(
    symbol: Any, account: Any, side: Any, kind: Any, qty: Any, price: Any, tif: Any
) -> None:
    engine, model = NamedEngine(["X"]), ModelBook(["X"])
    for args in (("X", "y", "sell", "limit", 10_000, 9999), ("X", "z", "buy", "limit", 10_000, 1)):
        engine.place(*args)
        model.place(*args)
    before = engine.digest()
    rep = engine.place(symbol, account, side, kind, qty, price, tif)
    expected = model.place(symbol, account, side, kind, qty, price, tif)
    assert (rep.status, rep.reason, rep.field) == (
        expected.status,
        expected.reason,
        expected.field,
    )
    if not rep.accepted:
        assert engine.digest() == before
        assert rep.order_id is None
