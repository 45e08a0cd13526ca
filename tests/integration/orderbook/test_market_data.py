"""GetSnapshot, GetPressure, the MARKET stream events and the PostgreSQL read model."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import psycopg
import pytest
from nats.aio.client import Client
from nats.js import api

from em_common import contracts
from em_orderbook.settings import OrderbookSettings
from everything_market.v1 import orderbook_pb2 as pb
from tests.support import orderbook as ob


@pytest.fixture
def config(database_url: str, nats_url: str) -> OrderbookSettings:
    return ob.settings(database_url, nats_url, ob.unique("D"))


async def test_snapshot_and_pressure_values(config: OrderbookSettings) -> None:
    sym = ob.unique("P")
    one_hour = pb.GetPressureRequest(symbol=sym, window=pb.PRESSURE_WINDOW_ONE_HOUR)
    async with ob.service(config) as (_, stub):
        nothing = await stub.GetPressure(pb.GetPressureRequest(symbol=sym))
        assert not nothing.HasField("market_price_cents") and nothing.trades == 0
        await stub.PlaceOrder(ob.limit(sym, 1, "sell", 5300, 5))
        one_sided = await stub.GetPressure(pb.GetPressureRequest(symbol=sym))
        assert not one_sided.HasField("market_price_cents")  # no mid without two sides
        await stub.PlaceOrder(ob.limit(sym, 1, "sell", 5200, 10))
        await stub.PlaceOrder(ob.limit(sym, 2, "buy", 5000, 10))
        mid = await stub.GetPressure(pb.GetPressureRequest(symbol=sym))
        assert mid.market_price_cents == 5100 and mid.net_pressure == 0.0

        await stub.PlaceOrder(ob.limit(sym, 3, "buy", 5200, 4))  # trade at 5200
        await stub.PlaceOrder(ob.market(sym, 4, "sell", 2))  # trade at 5000

        snap = await stub.GetSnapshot(pb.GetSnapshotRequest(symbol=sym, depth=5))
        assert [(lv.price_cents, lv.quantity, lv.orders) for lv in snap.bids] == [(5000, 8, 1)]
        assert [(lv.price_cents, lv.quantity) for lv in snap.asks] == [(5200, 6), (5300, 5)]
        assert snap.last_trade_price_cents == 5000
        assert snap.market_price_cents == 5150  # EWMA: 5200, then 5200 + 0.25 * (5000 - 5200)
        assert snap.seq > 0
        for request in (pb.GetPressureRequest(symbol=sym), one_hour):
            pressure = await stub.GetPressure(request)
            assert (pressure.buy_volume, pressure.sell_volume, pressure.trades) == (4, 2, 2)
            assert pressure.net_pressure == pytest.approx(2 / 6)
            assert pressure.market_price_cents == 5150
        assert pressure.window == pb.PRESSURE_WINDOW_ONE_HOUR


async def _collect(nc: Client, symbol: str, count: int) -> list[tuple[str, dict[str, str], bytes]]:
    js = nc.jetstream()
    sub = await js.subscribe(
        f"market.{symbol}.*",
        ordered_consumer=True,
        deliver_policy=api.DeliverPolicy.ALL,
    )
    got: list[tuple[str, dict[str, str], bytes]] = []
    deadline = time.monotonic() + 20
    try:
        while len(got) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {len(got)} of {count} events arrived"
            try:
                msg = await sub.next_msg(timeout=remaining)
            except TimeoutError:
                continue
            got.append((msg.subject, dict(msg.headers or {}), msg.data))
    finally:
        await sub.unsubscribe()
    return got


async def test_events_arrive_in_order_with_sequence_numbers(
    database_url: str, nats_url: str, nc: Client
) -> None:
    config = ob.settings(database_url, nats_url, ob.unique("E"), orderbook_book_interval_ms=0)
    sym = ob.unique("E")
    async with ob.service(config) as (_, stub):
        placed = [await stub.PlaceOrder(ob.limit(sym, 1, "sell", 5000 + i, 2)) for i in range(3)]
        taker = await stub.PlaceOrder(ob.limit(sym, 2, "buy", 5002, 5))  # three trades
        await stub.CancelOrder(
            pb.CancelOrderRequest(symbol=sym, order_id=placed[2].order_id, account_id="1")
        )
        snap = await stub.GetSnapshot(pb.GetSnapshotRequest(symbol=sym))
        # 3 book events for the asks, 3 trades + 1 book event, 1 book event for the cancel.
        events = await _collect(nc, sym, 8)
    assert snap.seq == 8
    seqs = [json.loads(data)["seq"] for _, _, data in events]
    assert seqs == list(range(1, 9))
    trades = [
        (headers, contracts.TradeEvent.model_validate_json(data))
        for subject, headers, data in events
        if subject == contracts.trades_subject(sym)
    ]
    assert [t.trade_id for _, t in trades] == [f.trade_id for f in taker.fills]
    assert all(headers["Nats-Msg-Id"] == t.trade_id for headers, t in trades)
    assert [t.price for _, t in trades] == [Decimal("50.00"), Decimal("50.01"), Decimal("50.02")]
    assert {(t.buy_account_id, t.sell_account_id, t.taker_side) for _, t in trades} == {
        ("2", "1", "buy")
    }
    books = [
        contracts.BookEvent.model_validate_json(data)
        for subject, _, data in events
        if subject == contracts.book_subject(sym)
    ]
    last = books[-1]
    assert last.seq == snap.seq and last.bids == [] and last.asks == []
    assert last.last_price == Decimal("50.02")
    assert [b.seq for b in books] == [1, 2, 3, 7, 8]


async def test_orders_and_trades_land_in_postgres(
    config: OrderbookSettings, database_url: str
) -> None:
    sym = ob.unique("Q")
    async with ob.service(config) as (_, stub):
        maker = await stub.PlaceOrder(ob.limit(sym, 11, "sell", 4200, 5, coid="pg-maker"))
        taker = await stub.PlaceOrder(ob.limit(sym, 12, "buy", 4200, 3, coid="pg-taker"))
        deadline = time.monotonic() + 20
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            while True:
                cur = await conn.execute(
                    "SELECT order_id, account_id, client_order_id, filled_qty, status, price_cents"
                    " FROM orders WHERE symbol = %s ORDER BY order_id",
                    (sym,),
                )
                orders = await cur.fetchall()
                cur = await conn.execute(
                    "SELECT trade_id, price_cents, qty, maker_order_id, taker_order_id,"
                    " maker_account_id, taker_account_id, taker_side FROM trades"
                    " WHERE symbol = %s",
                    (sym,),
                )
                trades = await cur.fetchall()
                if len(orders) == 2 and trades and orders[0][3] == 3:
                    break
                assert time.monotonic() < deadline, (orders, trades)
                await asyncio.sleep(0.05)
    assert sorted(orders) == sorted(
        [
            (maker.order_id, 11, "pg-maker", 3, "partially_filled", 4200),
            (taker.order_id, 12, "pg-taker", 3, "filled", 4200),
        ]
    )
    [fill] = taker.fills
    assert trades == [
        (fill.trade_id, 4200, 3, maker.order_id, taker.order_id, 11, 12, "buy"),
    ]


async def test_book_changes_are_conflated_and_the_last_one_always_arrives(
    database_url: str, nats_url: str, nc: Client
) -> None:
    config = ob.settings(database_url, nats_url, ob.unique("F"), orderbook_book_interval_ms=200)
    sym = ob.unique("F")
    async with ob.service(config) as (_, stub):
        for i in range(10):
            await stub.PlaceOrder(ob.limit(sym, 1, "buy", 4000 + i, 1))
        deadline = time.monotonic() + 20
        while True:  # the final state is announced by a tick, without further orders
            last = await nc.jetstream().get_last_msg("MARKET", f"market.{sym}.book")
            if len(json.loads(last.data or b"{}")["bids"]) == 10:
                break
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        snap = await stub.GetSnapshot(pb.GetSnapshotRequest(symbol=sym))
        events = await _collect(nc, sym, snap.seq)
    books = [contracts.BookEvent.model_validate_json(data) for _, _, data in events]
    assert len(books) < 10  # ten changes, fewer announcements
    assert [b.seq for b in books] == list(range(1, len(books) + 1))
    assert [lv.price for lv in books[-1].bids] == [Decimal(4009 - i) / 100 for i in range(10)]
