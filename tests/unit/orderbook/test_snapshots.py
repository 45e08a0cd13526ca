"""Snapshots: JSON-able, restorable, digest-stable, and strict about what they accept."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from em_orderbook.engine import SnapshotError
from tests.support.orderbook_model import NamedEngine


def _busy_engine() -> NamedEngine:
    engine = NamedEngine(["X", "Y"])
    engine.place("X", "a", "sell", "limit", 5, 101)
    engine.place("X", "b", "sell", "limit", 5, 101)
    engine.place("X", "c", "sell", "limit", 5, 102)
    engine.place("X", "d", "buy", "limit", 7, 101)
    engine.place("X", "a", "buy", "limit", 3, 99)
    engine.place("Y", "a", "buy", "limit", 3, 50)
    engine.cancel(3)
    return engine


def test_snapshot_is_plain_json_in_priority_order() -> None:
    snapshot = _busy_engine().to_snapshot()
    assert json.loads(json.dumps(snapshot)) == snapshot
    x = snapshot["books"][0]
    assert x["symbol"] == "X"
    assert x["asks"] == [[101, [[2, "b", 3]]]]
    assert x["bids"] == [[99, [[5, "a", 3]]]]
    assert x["last_trade"]["trade_id"] == 2
    assert (snapshot["next_order_id"], snapshot["next_trade_id"]) == (7, 3)


def test_restore_gives_the_same_digest_and_the_same_future() -> None:
    original = _busy_engine()
    restored = NamedEngine.from_snapshot(json.loads(json.dumps(original.to_snapshot())))
    assert restored.digest() == original.digest()
    for engine in (original, restored):
        engine.place("X", "z", "buy", "market", 4)
        engine.place("X", "z", "sell", "limit", 9, 99)
    assert restored.digest() == original.digest()
    assert restored.cancel(2).result == original.cancel(2).result


def test_digest_is_stable_and_sensitive() -> None:
    a, b = _busy_engine(), _busy_engine()
    assert a.digest() == b.digest()
    assert len(a.digest()) == 64
    b.place("Y", "q", "sell", "limit", 1, 9_000)
    assert a.digest() != b.digest()


def test_digest_ignores_lazily_cancelled_leftovers() -> None:
    a = NamedEngine(["X"])
    a.place("X", "a", "buy", "limit", 1, 100)
    a.place("X", "b", "buy", "limit", 1, 100)
    a.cancel(2)
    assert len(a.book("X").bids.levels[100].orders) == 2
    assert a.digest() == NamedEngine.from_snapshot(a.to_snapshot()).digest()


def _broken(mutate: Any) -> dict[str, Any]:
    snapshot = copy.deepcopy(_busy_engine().to_snapshot())
    mutate(snapshot)
    return snapshot


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.update(format="v0"),
        lambda s: s.update(next_order_id=0),
        lambda s: s.update(next_order_id=2),  # an order id that was never issued
        lambda s: s.update(books={}),
        lambda s: s["books"][0].update(symbol=""),
        lambda s: s["books"].append(copy.deepcopy(s["books"][0])),
        lambda s: s["books"][0]["asks"][0].__setitem__(0, 10_000),
        lambda s: s["books"][0]["asks"][0][1][0].__setitem__(2, 0),
        lambda s: s["books"][0]["asks"][0][1][0].__setitem__(1, ""),
        lambda s: s["books"][0]["asks"][0].__setitem__(1, []),
        lambda s: s["books"][0]["asks"].append([101, [[6, "x", 1]]]),
        lambda s: s["books"][0]["bids"].append([100, [[6, "x", 1]]]),  # levels out of order
        lambda s: s["books"][0]["bids"].insert(0, [101, [[6, "x", 1]]]),  # crossed
        lambda s: s["books"][1]["bids"][0][1].append([2, "x", 1]),  # duplicate id
        lambda s: s["books"][0]["last_trade"].update(trade_id=3),
        lambda s: s["books"][0]["last_trade"].update(symbol="Y"),
        lambda s: s["books"][0]["last_trade"].pop("qty"),
    ],
)
def test_malformed_snapshots_are_refused(mutate: Any) -> None:
    with pytest.raises(SnapshotError):
        NamedEngine.from_snapshot(_broken(mutate))
