"""Final = w_m·Market + w_r·Reality with the market side from the orderbook over gRPC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from nats.aio.client import Client
from websockets.asyncio.client import connect

from em_common import contracts
from tests.integration.backend.helpers import event, eventually, list_symbol, signed
from tests.support.backend_server import RunningBackend
from tests.support.orderbook_standin import OrderbookStandIn


async def final(http: httpx.AsyncClient, symbol: str) -> dict[str, Any]:
    result: dict[str, Any] = (await http.get(f"/api/v1/stocks/{symbol}/final")).json()
    return result


async def ingest(http: httpx.AsyncClient, stocks: list[str], impact: str) -> None:
    body, sig = signed(event(stocks, impact))
    response = await http.post("/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": sig})
    assert response.json()["status"] == "applied", response.text


def trade(symbol: str, trade_id: str, price: str) -> bytes:
    return (
        contracts.TradeEvent(
            trade_id=trade_id,
            symbol=symbol,
            seq=1,
            price=Decimal(price),
            quantity=3,
            taker_side="buy",
            buy_order_id="o-1",
            sell_order_id="o-2",
            buy_account_id="1",
            sell_account_id="2",
            executed_at=datetime.now(UTC),
        )
        .model_dump_json()
        .encode()
    )


async def test_final_blends_market_and_reality(
    backend: RunningBackend,
    http: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    orderbook: OrderbookStandIn,
) -> None:
    await list_symbol(admin, "ELON")
    orderbook.set_pressure("ELON", 7000, trades=5)
    await ingest(http, ["ELON"], "3.33")
    got = await final(http, "ELON")
    # 0.6 * 70.00 + 0.4 * 53.33 = 63.332 -> 63.33
    assert got["market_price"] == "70.00"
    assert got["reality_score"] == "53.33"
    assert got["final_price"] == "63.33"
    assert got["confidence"] == "0.5000"
    assert got["market_stale"] is False

    patched = await admin.patch(
        "/api/v1/admin/stocks/ELON", json={"market_weight": "0.25", "reality_weight": "0.75"}
    )
    assert patched.status_code == 200
    # 0.25 * 70 + 0.75 * 53.33 = 57.4975 -> 57.50
    assert (await final(http, "ELON"))["final_price"] == "57.50"


async def test_trade_on_market_stream_reprices(
    backend: RunningBackend,
    http: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    orderbook: OrderbookStandIn,
    bus: Client,
) -> None:
    await list_symbol(admin, "ELON")
    async with connect(f"{backend.ws_url}/ws/updates?symbols=ELON") as ws:
        orderbook.set_pressure("ELON", 6000, trades=1)
        await bus.jetstream().publish(
            contracts.trades_subject("ELON"),
            trade("ELON", "t-1", "60.00"),
            headers={"Nats-Msg-Id": "t-1"},
        )
        got = await eventually(lambda: final(http, "ELON"), lambda f: f["market_price"] == "60.00")
        assert got["final_price"] == "56.00"  # 0.6 * 60 + 0.4 * 50
        types = []
        while "final_update" not in types:
            types.append(json.loads(await ws.recv())["type"])
        # The trade itself also reaches subscribers (a `trade` message, from the trading feed).
        assert [t for t in types if t != "trade"] == ["market_update", "final_update"]


async def test_unreachable_orderbook_keeps_last_price_marked_stale(
    backend: RunningBackend,
    http: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    orderbook: OrderbookStandIn,
) -> None:
    await list_symbol(admin, "ELON")
    orderbook.set_pressure("ELON", 8000, trades=10)
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
