"""The shard state: what a journal batch produces, idempotency, retention, snapshots."""

from __future__ import annotations

import random
from typing import Any

from em_orderbook import commands, state


def place(
    sym: str, acct: str, coid: str, side: str, price: int | None, qty: int, **kw: Any
) -> list[Any]:
    kind = "limit" if price is not None else "market"
    tif = kw.get("tif", "gtc" if kind == "limit" else "ioc")
    return [commands.PLACE, sym, acct, coid, side, kind, tif, price, qty]


def cancel(sym: str, number: int, acct: str) -> list[Any]:
    return [commands.CANCEL, sym, number, acct]


def test_a_batch_reports_results_trades_book_changes_and_changed_orders() -> None:
    market = state.MarketState(retain=100, alpha=0.25)
    out = market.apply(1, 1_000, [place("AB", "1", "a", "sell", 5000, 5)])
    [(maker, dup)] = out.results
    assert not dup and maker.status == state.OPEN and maker.order_id == 1
    assert out.books == [("AB", 1, [], [(5000, 5, 1)], None)]

    out = market.apply(2, 2_000, [place("AB", "2", "b", "buy", 5100, 3), cancel("AB", 1, "1")])
    (taker, _), (result, qty) = out.results
    assert taker.status == state.FILLED and taker.result[5] == 3
    assert (result, qty) == ("cancelled", 2)
    [(fill, seq)] = out.trades
    assert (fill.price, fill.qty, seq) == (5000, 3, 2)
    assert out.books == [("AB", 3, [], [], 5000)]  # one book event per symbol per batch
    assert maker.status == state.CANCELLED and maker.filled == 3
    assert {id(r) for r in out.changed} == {id(maker), id(taker)}


def test_the_same_client_order_id_is_answered_from_memory() -> None:
    market = state.MarketState(retain=100, alpha=0.25)
    market.apply(1, 0, [place("AB", "1", "x", "buy", 4000, 5)])
    out = market.apply(
        2, 0, [place("AB", "1", "x", "buy", 4100, 9), place("AB", "2", "x", "buy", 4100, 9)]
    )
    (first, dup), (other, other_dup) = out.results
    assert dup and first.price == 4000 and first.qty == 5
    assert not other_dup and other.order_id == 2


def test_rejections_are_remembered_but_issue_no_order() -> None:
    market = state.MarketState(retain=100, alpha=0.25)
    out = market.apply(1, 0, [place("AB", "1", "m", "buy", None, 5)])
    [(record, _)] = out.results
    assert record.status == state.REJECTED and record.order_id == 0
    assert record.result[2] == "no_liquidity" and not out.books and not out.changed
    assert market.apply(2, 0, [place("AB", "1", "m", "buy", None, 5)]).results[0] == (record, True)


def test_finished_orders_are_forgotten_after_retain_newer_ones() -> None:
    market = state.MarketState(retain=2, alpha=0.25)
    for i in range(1, 5):
        market.apply(i, 0, [place("AB", "1", f"c{i}", "buy", 100, 1, tif="ioc")])
    assert [r.client_order_id for r in market.finished] == ["c3", "c4"]
    assert ("1", "c1") not in market.by_key and 1 not in market.records
    live = market.apply(5, 0, [place("AB", "1", "live", "buy", 100, 1)]).results[0][0]
    for i in range(6, 10):
        market.apply(i, 0, [place("AB", "1", f"c{i}", "buy", 50, 1, tif="ioc")])
    assert market.records[live.order_id] is live  # live orders are never forgotten


def _random_batches(seed: int, n: int) -> list[list[list[Any]]]:
    rng = random.Random(seed)
    batches: list[list[list[Any]]] = []
    issued = 0
    for b in range(n):
        batch = []
        for _ in range(rng.randint(1, 4)):
            sym = rng.choice(["AB", "CD"])
            acct = str(rng.randint(1, 5))
            if issued and rng.random() < 0.15:
                batch.append(cancel(sym, rng.randint(1, issued), acct))
                continue
            issued += 1
            side = rng.choice(["buy", "sell"])
            price = None if rng.random() < 0.1 else 5000 + rng.randint(-5, 5)
            batch.append(
                place(
                    sym,
                    acct,
                    f"c{b}-{len(batch)}-{rng.randint(0, 30)}",
                    side,
                    price,
                    rng.randint(1, 9),
                )
            )
        batches.append(batch)
    return batches


def test_snapshot_plus_tail_equals_full_replay() -> None:
    batches = _random_batches(7, 300)
    full = state.MarketState(retain=50, alpha=0.25)
    for seq, batch in enumerate(batches, 1):
        full.apply(seq, seq * 1_000, batch)
    for cut in (0, 1, 150, 299):
        part = state.MarketState(retain=50, alpha=0.25)
        for seq, batch in enumerate(batches[:cut], 1):
            part.apply(seq, seq * 1_000, batch)
        restored = state.MarketState.from_snapshot(part.to_snapshot(), alpha=0.25)
        assert restored.state_digest() == part.state_digest()
        for seq, batch in enumerate(batches[cut:], cut + 1):
            restored.apply(seq, seq * 1_000, batch)
        assert restored.digest() == full.digest()
        assert restored.state_digest() == full.state_digest()


def test_batches_must_follow_each_other() -> None:
    market = state.MarketState(retain=10, alpha=0.25)
    market.apply(1, 0, [])
    try:
        market.apply(3, 0, [])
    except Exception as exc:
        assert "does not follow" in str(exc)
    else:
        raise AssertionError("a gap in the journal was accepted")


def test_book_changes_are_announced_at_most_once_per_interval() -> None:
    market = state.MarketState(retain=10, alpha=0.25, book_interval_ms=100)
    first = market.apply(1, 1_000, [place("AB", "1", "a", "sell", 5000, 5)])
    assert [b[:2] for b in first.books] == [("AB", 1)]
    held = market.apply(2, 1_050, [place("AB", "1", "b", "sell", 5001, 5)])
    assert held.books == [] and list(market.pending_books) == ["AB"]
    # A later batch (here a tick) announces the held change with the state as it is then.
    tick = market.apply(3, 1_100, [[commands.TICK]])
    assert tick.results == [None]
    assert tick.books == [("AB", 2, [], [(5000, 5, 1), (5001, 5, 1)], None)]
    # Held changes survive a snapshot, so a replay announces them at the same point.
    market.apply(4, 1_150, [place("AB", "1", "c", "sell", 5002, 5)])
    restored = state.MarketState.from_snapshot(market.to_snapshot(), alpha=0.25)
    assert (
        restored.apply(5, 1_200, [[commands.TICK]]).books
        == market.apply(5, 1_200, [[commands.TICK]]).books
    )
