"""Final = w_m·Market + w_r·Reality, with the market side from real trades on the real
orderbook: its GetPressure over gRPC gives the EWMA (alpha 0.25) of the trade prices."""

from __future__ import annotations

import json
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.integration.backend.helpers import (
    event,
    eventually,
    list_symbol,
    order,
    signed,
    trader,
)
from tests.support import orderbook as orderbook_support
from tests.support.backend_server import RunningBackend


async def final(http: httpx.AsyncClient, symbol: str) -> dict[str, Any]:
    result: dict[str, Any] = (await http.get(f"/api/v1/stocks/{symbol}/final")).json()
    return result


async def ingest(http: httpx.AsyncClient, stocks: list[str], impact: str) -> None:
    body, sig = signed(event(stocks, impact))
    response = await http.post("/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": sig})
    assert response.json()["status"] == "applied", response.text


async def cross(
    http: httpx.AsyncClient,
    maker: dict[str, str],
    taker: dict[str, str],
    symbol: str,
    price: str,
    quantity: int,
    *,
    taker_side: str = "buy",
) -> None:
    """One real trade: `maker` rests an order at `price`, `taker` takes all of it."""
    maker_side = "sell" if taker_side == "buy" else "buy"
    await order(http, maker, symbol=symbol, side=maker_side, price=price, quantity=quantity)
    taken = await order(http, taker, symbol=symbol, side=taker_side, price=price, quantity=quantity)
    assert [(f["price"], f["quantity"]) for f in taken["fills"]] == [(price, quantity)]


async def market_price_becomes(http: httpx.AsyncClient, symbol: str, price: str) -> dict[str, Any]:
    """The Final Price once the trade reached the backend over the MARKET stream."""
    return await eventually(lambda: final(http, symbol), lambda f: f["market_price"] == price)


async def test_final_blends_real_trades_and_reality(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "ELON")
    never_traded = await final(http, "ELON")
    assert (never_traded["market_price"], never_traded["final_price"]) == (None, "50.00")
    alice, bob = await trader(http, "alice"), await trader(http, "bob")

    await cross(http, bob, alice, "ELON", "60.00", 2)
    got = await market_price_becomes(http, "ELON", "60.00")
    assert got["final_price"] == "56.00"  # 0.6 * 60 + 0.4 * 50
    assert got["confidence"] == "0.1667"  # 1 trade: 1 / (1 + 5)

    await cross(http, alice, bob, "ELON", "70.00", 1, taker_side="sell")
    # EWMA: 60 + 0.25 * (70 - 60) = 62.50; 0.6 * 62.50 + 0.4 * 50 = 57.50
    got = await market_price_becomes(http, "ELON", "62.50")
    assert (got["final_price"], got["reality_score"], got["market_stale"]) == (
        "57.50",
        "50.00",
        False,
    )
    assert got["confidence"] == "0.2857"  # 2 / (2 + 5)
    pressure = (await http.get("/api/v1/market/ELON/pressure")).json()
    assert (pressure["market_price"], pressure["trades"]) == ("62.50", 2)
    assert (pressure["buy_volume"], pressure["sell_volume"]) == (2, 1)

    await ingest(http, ["ELON"], "3.33")
    got = await final(http, "ELON")
    # 0.6 * 62.50 + 0.4 * 53.33 = 37.50 + 21.332 = 58.832 -> 58.83
    assert (got["reality_score"], got["market_price"], got["final_price"]) == (
        "53.33",
        "62.50",
        "58.83",
    )

    patched = await admin.patch(
        "/api/v1/admin/stocks/ELON", json={"market_weight": "0.25", "reality_weight": "0.75"}
    )
    assert patched.status_code == 200
    # 0.25 * 62.50 + 0.75 * 53.33 = 15.625 + 39.9975 = 55.6225 -> 55.62
    assert (await final(http, "ELON"))["final_price"] == "55.62"


async def test_trade_on_market_stream_reprices(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "ELON")
    alice, bob = await trader(http, "alice"), await trader(http, "bob")
    async with connect(f"{backend.ws_url}/ws/updates?symbols=ELON") as ws:
        await cross(http, alice, bob, "ELON", "40.00", 3)
        got = await market_price_becomes(http, "ELON", "40.00")
        assert got["final_price"] == "44.00"  # 0.6 * 40 + 0.4 * 50
        types = []
        while "final_update" not in types:
            message = json.loads(await ws.recv())
            types.append(message["type"])
        # The trade and the book also reach subscribers (from the trading feed).
        assert [t for t in types if t not in ("trade", "book")] == [
            "market_update",
            "final_update",
        ]
        assert message["final_price"] == "44.00"


async def test_unreachable_orderbook_keeps_last_price_marked_stale(
    backend: RunningBackend,
    http: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    orderbook: orderbook_support.Shard,
) -> None:
    await list_symbol(admin, "ELON")
    alice, bob = await trader(http, "alice"), await trader(http, "bob")
    await cross(http, bob, alice, "ELON", "80.00", 1)
    await market_price_becomes(http, "ELON", "80.00")
    await ingest(http, ["ELON"], "1")
    assert (await final(http, "ELON"))["final_price"] == "68.40"  # 0.6*80 + 0.4*51
    await orderbook.stop()
    for _ in range(4):  # enough failures to open the breaker
        await ingest(http, ["ELON"], "1")
    got = await final(http, "ELON")
    assert got["market_price"] == "80.00"
    assert got["market_stale"] is True
    assert got["reality_score"] == "55.00"
    assert got["final_price"] == "70.00"  # 0.6*80 + 0.4*55
    assert backend.runtime.orderbook.breaker.state == "open"
    metrics = (await http.get("/metrics")).text
    assert 'em_backend_orderbook_calls_total{outcome="breaker_open"}' in metrics


async def test_index_reality_is_weighted_average(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "AAA", initial_score="60")
    await list_symbol(admin, "BBB", initial_score="30")
    index = await list_symbol(
        admin,
        "AB_INDEX",
        kind="index",
        components=[{"symbol": "AAA", "weight": "0.25"}, {"symbol": "BBB", "weight": "0.75"}],
    )
    assert index["reality_score"] == "37.50"
    await ingest(http, ["BBB"], "-10")
    assert (await final(http, "AB_INDEX"))["reality_score"] == "30.00"  # .25*60 + .75*20
    changed = await admin.patch(
        "/api/v1/admin/stocks/AB_INDEX",
        json={
            "components": [{"symbol": "AAA", "weight": "0.5"}, {"symbol": "BBB", "weight": "0.5"}]
        },
    )
    assert changed.status_code == 200, changed.text
    assert (await final(http, "AB_INDEX"))["reality_score"] == "40.00"
    bad = await admin.post(
        "/api/v1/admin/stocks",
        json={
            "symbol": "BAD",
            "name": "x",
            "kind": "index",
            "components": [{"symbol": "AAA", "weight": "0.5"}, {"symbol": "BBB", "weight": "0.4"}],
        },
    )
    assert bad.status_code == 422
    unknown = await admin.post(
        "/api/v1/admin/stocks",
        json={
            "symbol": "BAD",
            "name": "x",
            "kind": "index",
            "components": [{"symbol": "ZZZ", "weight": "1"}],
        },
    )
    assert unknown.status_code == 422
    dup = await admin.post("/api/v1/admin/stocks", json={"symbol": "AAA", "name": "again"})
    assert dup.status_code == 409


async def test_history_is_downsampled(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "ELON")
    for _ in range(12):
        await ingest(http, ["ELON"], "0.5")
    full = (await http.get("/api/v1/stocks/ELON/history", params={"range": "1h"})).json()
    assert len(full["points"]) == 13
    assert full["points"][-1]["reality_score"] == "56.00"
    thin = (
        await http.get("/api/v1/stocks/ELON/history", params={"range": "all", "points": 10})
    ).json()
    assert len(thin["points"]) <= 10
    assert thin["points"][-1]["reality_score"] == "56.00"
    assert (await http.get("/api/v1/stocks/NOPE/history")).status_code == 404
    assert (await http.get("/api/v1/stocks/ELON/history?range=2y")).status_code == 422
