"""Public market data: the book from the orderbook (or the last book seen), pressure, trades."""

from __future__ import annotations

from tests.support.trading_stack import Stack, until


async def test_snapshot_pressure_and_trades(stack: Stack) -> None:
    await stack.list_symbol("ELON")
    alice, bob = await stack.trader(), await stack.trader()
    await alice.order(symbol="ELON", side="buy", price="40.00", quantity=5)
    await alice.order(symbol="ELON", side="buy", price="41.00", quantity=2)
    await bob.order(symbol="ELON", side="sell", price="60.00", quantity=3)
    await bob.order(symbol="ELON", side="sell", price="41.00", quantity=1)
    await stack.settled(1)

    snap = (await stack.client.get("/api/v1/market/ELON/snapshot", params={"depth": 5})).json()
    assert snap["stale"] is False
    assert [(b["price"], b["quantity"]) for b in snap["bids"]] == [("41.00", 1), ("40.00", 5)]
    assert [(a["price"], a["quantity"]) for a in snap["asks"]] == [("60.00", 3)]
    assert snap["last_trade_price"] == "41.00"

    pressure = (await stack.client.get("/api/v1/market/ELON/pressure")).json()
    assert (pressure["sell_volume"], pressure["trades"], pressure["stale"]) == (1, 1, False)
    assert pressure["market_price"] == "41.00"

    trades = (await stack.client.get("/api/v1/market/ELON/trades")).json()["data"]
    assert [(t["price"], t["quantity"], t["taker_side"]) for t in trades] == [("41.00", 1, "sell")]
    assert set(trades[0]) == {
        "trade_id",
        "symbol",
        "price",
        "quantity",
        "taker_side",
        "executed_at",
    }

    unknown = await stack.client.get("/api/v1/market/NOPE/snapshot")
    assert unknown.status_code == 404

    # The orderbook goes away: the snapshot falls back to the last book update, marked stale.
    # (Book updates are coalesced, at most one per symbol per 100 ms: wait for the newest.)
    feed = stack.runtime.trading.feed  # type: ignore[union-attr]

    def bids_seen() -> list[str]:
        book = feed.books.get("ELON")
        return [] if book is None else [f"{b.price:.2f}" for b in book.bids]

    await until(lambda: bids_seen() == ["41.00", "40.00"], 10, "the newest book update")
    await stack.stop_orderbook()
    stale = (await stack.client.get("/api/v1/market/ELON/snapshot")).json()
    assert stale["stale"] is True
    assert [b["price"] for b in stale["bids"]] == ["41.00", "40.00"]
