"""A stand-in orderbook: the real proto over real loopback gRPC, with a tiny matcher.

No test uses it any more: the backend, trading and browser tests run the real orderbook
service (tests/support/orderbook.py), with real faults (tests/support/slow_link.py). Its
one remaining user is bench/backend.py (`python -m tests.support.orderbook_standin`), until
that benchmark moves to the real service as well.

The matcher: the real gRPC contract over a tiny in-memory book.

It speaks `everything_market.v1.Orderbook` on a loopback port and publishes `TradeEvent`s
and `BookEvent`s to the MARKET stream (with `Nats-Msg-Id`) the way the real service does:
price-time priority at the maker's price, GTC/IOC/FOK, market orders as IOC, self-trade
prevention by cancelling the account's resting orders, idempotency on (account,
client_order_id). Publishing runs in a background task, so a trade can reach the stream
before or after the PlaceOrder answer, as with the real one. It keeps nothing on disk: the
integrator replaces it with the real orderbook once that lands.

Test knobs: `answer_delay` (process the order, then answer late: a client timeout with the
order placed) and `hold_publishing()` (messages queue until `release_publishing()`).

Run standalone (for benchmarks): `python -m tests.support.orderbook_standin --nats URL`.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

import grpc
from grpc import aio as grpc_aio
from nats.aio.client import Client as Nats

from em_common import contracts
from everything_market.v1 import orderbook_pb2 as pb
from everything_market.v1 import orderbook_pb2_grpc as pb_grpc

SYMBOL = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")
ACCOUNT = re.compile(r"^[1-9][0-9]{0,18}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
LIVE = (pb.ORDER_STATUS_OPEN, pb.ORDER_STATUS_PARTIALLY_FILLED)


def points(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class Order:
    number: int
    order_id: str
    symbol: str
    account: str
    client_order_id: str
    side: Any
    kind: Any
    tif: Any
    price: int | None
    qty: int
    filled: int = 0
    status: Any = pb.ORDER_STATUS_OPEN

    @property
    def remaining(self) -> int:
        return self.qty - self.filled


@dataclass
class Book:
    bids: list[Order] = field(default_factory=list)  # best first: price desc, then time
    asks: list[Order] = field(default_factory=list)  # best first: price asc, then time
    bid_levels: dict[int, list[int]] = field(default_factory=dict)  # price -> [qty, orders]
    ask_levels: dict[int, list[int]] = field(default_factory=dict)
    seq: int = 0
    last_price: int | None = None
    trades: list[tuple[float, int, int, int]] = field(default_factory=list)  # ts, price, qty, side


@dataclass
class FixedPressure:
    market_price_cents: int | None
    trades: int = 0
    buy_volume: int = 0
    sell_volume: int = 0
    net_pressure: float = 0.0


class StandinOrderbook(pb_grpc.OrderbookServicer):
    def __init__(self, nc: Nats | None) -> None:
        self._nc = nc
        self.pressures: dict[str, FixedPressure] = {}
        self.pressure_calls = 0
        self._epoch = uuid.uuid4().hex[:8]
        self._numbers = 0
        self._trades = 0
        self.orders: dict[str, Order] = {}
        self.answers: dict[tuple[str, str], pb.PlaceOrderResponse] = {}
        self.books: dict[str, Book] = {}
        self.answer_delay = 0.0
        self.placed = 0
        self._lock = asyncio.Lock()
        self._outbox: asyncio.Queue[tuple[str, str, bytes]] = asyncio.Queue()
        self._publishing = asyncio.Event()
        self._publishing.set()
        self._task: asyncio.Task[None] | None = None
        self._sending = False
        self.omit_fills = False

    # --- lifecycle and knobs ---------------------------------------------------------

    def start_publisher(self) -> None:
        if self._nc is not None:
            self._task = asyncio.create_task(self._publish_forever())

    async def stop_publisher(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def hold_publishing(self) -> None:
        self._publishing.clear()

    def release_publishing(self) -> None:
        self._publishing.set()

    async def drained(self, within: float = 10.0) -> None:
        """Wait until every queued message is stored in the stream."""
        async with asyncio.timeout(within):
            while not self._outbox.empty() or self._sending:  # noqa: ASYNC110 - polls a queue
                await asyncio.sleep(0.01)

    async def _publish_forever(self) -> None:
        assert self._nc is not None
        js = self._nc.jetstream()
        while True:
            subject, msg_id, body = await self._outbox.get()
            self._sending = True
            try:
                await self._publishing.wait()
                while True:
                    try:
                        await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id})
                        break
                    except Exception:
                        await asyncio.sleep(0.05)
            finally:
                self._sending = False

    def _emit(self, subject: str, msg_id: str, payload: dict[str, Any]) -> None:
        if self._nc is not None:
            self._outbox.put_nowait((subject, msg_id, json.dumps(payload).encode()))

    # --- gRPC -----------------------------------------------------------------------

    async def PlaceOrder(
        self, request: pb.PlaceOrderRequest, context: grpc_aio.ServicerContext[Any, Any]
    ) -> pb.PlaceOrderResponse:
        await self._validate(request, context)
        key = (request.account_id, request.client_order_id)
        async with self._lock:
            previous = self.answers.get(key)
            if previous is not None:
                answer = pb.PlaceOrderResponse()
                answer.CopyFrom(previous)
                answer.duplicate = True
                return answer
            answer = self._place(request)
            self.answers[key] = answer
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        if self.omit_fills:
            answer = pb.PlaceOrderResponse()
            answer.CopyFrom(self.answers[key])
            del answer.fills[:]
        return answer

    async def PlaceOrders(
        self, request: pb.PlaceOrdersRequest, context: grpc_aio.ServicerContext[Any, Any]
    ) -> pb.PlaceOrdersResponse:
        resp = pb.PlaceOrdersResponse()
        for order in request.orders:
            resp.results.add(response=await self.PlaceOrder(order, context))
        return resp

    async def CancelOrder(
        self, request: pb.CancelOrderRequest, context: grpc_aio.ServicerContext[Any, Any]
    ) -> pb.CancelOrderResponse:
        async with self._lock:
            order = self.orders.get(request.order_id)
            if order is None or order.symbol != request.symbol:
                await _abort(context, grpc.StatusCode.NOT_FOUND, f"order {request.order_id}")
            if order.account != request.account_id:
                await _abort(context, grpc.StatusCode.PERMISSION_DENIED, "not your order")
            if order.status not in LIVE:
                await _abort(context, grpc.StatusCode.FAILED_PRECONDITION, "order is finished")
            book = self._book(order.symbol)
            side = book.bids if order.side == pb.SIDE_BUY else book.asks
            side.remove(order)
            _level(book, order, -order.remaining, -1)
            order.status = pb.ORDER_STATUS_CANCELLED
            self._emit_book(order.symbol)
            return pb.CancelOrderResponse(
                order_id=order.order_id,
                status=pb.ORDER_STATUS_CANCELLED,
                cancelled_quantity=order.remaining,
            )

    async def GetOrder(
        self, request: pb.GetOrderRequest, context: grpc_aio.ServicerContext[Any, Any]
    ) -> pb.OrderState:
        order = self.orders.get(request.order_id)
        if order is None:
            await _abort(context, grpc.StatusCode.NOT_FOUND, f"order {request.order_id}")
        return pb.OrderState(
            order_id=order.order_id,
            symbol=order.symbol,
            account_id=order.account,
            client_order_id=order.client_order_id,
            side=order.side,
            type=order.kind,
            time_in_force=order.tif,
            price_cents=order.price or 0,
            quantity=order.qty,
            filled_quantity=order.filled,
            status=order.status,
        )

    async def GetSnapshot(
        self, request: pb.GetSnapshotRequest, context: grpc_aio.ServicerContext[Any, Any]
    ) -> pb.GetSnapshotResponse:
        if not SYMBOL.match(request.symbol):
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "symbol")
        book = self._book(request.symbol)
        depth = request.depth or 10
        resp = pb.GetSnapshotResponse(symbol=request.symbol, seq=book.seq)
        for price, qty, count in _top(book.bid_levels, bids=True)[:depth]:
            resp.bids.add(price_cents=price, quantity=qty, orders=count)
        for price, qty, count in _top(book.ask_levels, bids=False)[:depth]:
            resp.asks.add(price_cents=price, quantity=qty, orders=count)
        if book.last_price is not None:
            resp.last_trade_price_cents = book.last_price
        market = self._market_price(book)
        if market is not None:
            resp.market_price_cents = market
        return resp

    async def GetPressure(
        self, request: pb.GetPressureRequest, context: grpc_aio.ServicerContext[Any, Any]
    ) -> pb.GetPressureResponse:
        self.pressure_calls += 1
        if not SYMBOL.match(request.symbol):
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "symbol is required")
        fixed = self.pressures.get(request.symbol)
        if fixed is not None:
            pinned = pb.GetPressureResponse(
                symbol=request.symbol,
                window=request.window,
                trades=fixed.trades,
                buy_volume=fixed.buy_volume,
                sell_volume=fixed.sell_volume,
                net_pressure=fixed.net_pressure,
            )
            if fixed.market_price_cents is not None:
                pinned.market_price_cents = fixed.market_price_cents
            return pinned
        book = self._book(request.symbol)
        buy = sum(q for _, _, q, side in book.trades if side == pb.SIDE_BUY)
        sell = sum(q for _, _, q, side in book.trades if side == pb.SIDE_SELL)
        resp = pb.GetPressureResponse(
            symbol=request.symbol,
            window=request.window or pb.PRESSURE_WINDOW_ONE_MINUTE,
            buy_volume=buy,
            sell_volume=sell,
            net_pressure=(buy - sell) / (buy + sell) if buy + sell else 0.0,
            trades=len(book.trades),
        )
        market = self._market_price(book)
        if market is not None:
            resp.market_price_cents = market
        return resp

    # --- matching -------------------------------------------------------------------

    async def _validate(
        self, r: pb.PlaceOrderRequest, context: grpc_aio.ServicerContext[Any, Any]
    ) -> None:
        bad = None
        if not SYMBOL.match(r.symbol):
            bad = "symbol"
        elif not ACCOUNT.match(r.account_id):
            bad = "account_id"
        elif not CLIENT_ID.match(r.client_order_id):
            bad = "client_order_id"
        elif r.side not in (pb.SIDE_BUY, pb.SIDE_SELL):
            bad = "side"
        elif r.type not in (pb.ORDER_TYPE_LIMIT, pb.ORDER_TYPE_MARKET):
            bad = "type"
        elif r.type == pb.ORDER_TYPE_LIMIT and not 1 <= r.price_cents <= 9999:
            bad = "price_cents"
        elif r.type == pb.ORDER_TYPE_MARKET and r.time_in_force == pb.TIME_IN_FORCE_GTC:
            bad = "time_in_force"
        elif not 1 <= r.quantity <= 10_000:
            bad = "quantity"
        if bad is not None:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{bad} is invalid")

    def _book(self, symbol: str) -> Book:
        return self.books.setdefault(symbol, Book())

    def _place(self, r: pb.PlaceOrderRequest) -> pb.PlaceOrderResponse:
        self._numbers += 1
        self.placed += 1
        market = r.type == pb.ORDER_TYPE_MARKET
        tif = r.time_in_force or (pb.TIME_IN_FORCE_IOC if market else pb.TIME_IN_FORCE_GTC)
        order = Order(
            number=self._numbers,
            order_id=f"S-{self._epoch}-{self._numbers}",
            symbol=r.symbol,
            account=r.account_id,
            client_order_id=r.client_order_id,
            side=r.side,
            kind=r.type,
            tif=tif,
            price=None if market else r.price_cents,
            qty=r.quantity,
        )
        self.orders[order.order_id] = order
        book = self._book(r.symbol)
        resp = pb.PlaceOrderResponse(order_id=order.order_id, client_order_id=r.client_order_id)
        opposite = book.asks if order.side == pb.SIDE_BUY else book.bids
        if tif == pb.TIME_IN_FORCE_FOK:
            available = sum(
                o.remaining for o in opposite if o.account != order.account and _crosses(order, o)
            )
            if available < order.qty:
                order.status = pb.ORDER_STATUS_CANCELLED
                resp.status = order.status
                resp.cancelled_quantity = order.qty
                return resp
        for maker in list(opposite):
            if order.remaining == 0 or not _crosses(order, maker):
                break
            if maker.account == order.account:
                opposite.remove(maker)
                _level(book, maker, -maker.remaining, -1)
                maker.status = pb.ORDER_STATUS_CANCELLED
                resp.self_trade_cancelled_order_ids.append(maker.order_id)
                continue
            qty = min(order.remaining, maker.remaining)
            assert maker.price is not None
            self._trade(book, order, maker, qty, maker.price, resp)
            _level(book, maker, -qty, 0 if maker.remaining else -1)
            if maker.remaining == 0:
                opposite.remove(maker)
        resp.filled_quantity = order.filled
        if order.remaining and tif == pb.TIME_IN_FORCE_GTC:
            own = book.bids if order.side == pb.SIDE_BUY else book.asks
            sign = -1 if order.side == pb.SIDE_BUY else 1
            bisect.insort(own, order, key=lambda o: (sign * (o.price or 0), o.number))
            _level(book, order, order.remaining, 1)
            resp.resting_quantity = order.remaining
            order.status = (
                pb.ORDER_STATUS_PARTIALLY_FILLED if order.filled else pb.ORDER_STATUS_OPEN
            )
        elif order.remaining:
            resp.cancelled_quantity = order.remaining
            order.status = pb.ORDER_STATUS_CANCELLED
        else:
            order.status = pb.ORDER_STATUS_FILLED
        resp.status = order.status
        self._emit_book(order.symbol)
        return resp

    def _trade(
        self, book: Book, taker: Order, maker: Order, qty: int, price: int, resp: Any
    ) -> None:
        self._trades += 1
        trade_id = f"ST-{self._epoch}-{self._trades}"
        taker.filled += qty
        maker.filled += qty
        maker.status = (
            pb.ORDER_STATUS_FILLED if maker.remaining == 0 else pb.ORDER_STATUS_PARTIALLY_FILLED
        )
        book.last_price = price
        book.seq += 1
        book.trades.append((datetime.now(UTC).timestamp(), price, qty, taker.side))
        resp.fills.add(
            trade_id=trade_id,
            maker_order_id=maker.order_id,
            taker_order_id=taker.order_id,
            maker_account_id=maker.account,
            taker_account_id=taker.account,
            price_cents=price,
            quantity=qty,
            taker_side=taker.side,
        )
        buy, sell = (taker, maker) if taker.side == pb.SIDE_BUY else (maker, taker)
        self._emit(
            contracts.trades_subject(taker.symbol),
            trade_id,
            {
                "trade_id": trade_id,
                "symbol": taker.symbol,
                "seq": book.seq,
                "price": points(price),
                "quantity": qty,
                "taker_side": "buy" if taker.side == pb.SIDE_BUY else "sell",
                "buy_order_id": buy.order_id,
                "sell_order_id": sell.order_id,
                "buy_account_id": buy.account,
                "sell_account_id": sell.account,
                "executed_at": datetime.now(UTC).isoformat(),
            },
        )

    def _emit_book(self, symbol: str) -> None:
        book = self._book(symbol)
        book.seq += 1
        self._emit(
            contracts.book_subject(symbol),
            f"SB-{self._epoch}-{symbol}-{book.seq}",
            {
                "symbol": symbol,
                "seq": book.seq,
                "bids": [
                    {"price": points(p), "quantity": q}
                    for p, q, _ in _top(book.bid_levels, bids=True)[:10]
                ],
                "asks": [
                    {"price": points(p), "quantity": q}
                    for p, q, _ in _top(book.ask_levels, bids=False)[:10]
                ],
                "last_price": None if book.last_price is None else points(book.last_price),
                "at": datetime.now(UTC).isoformat(),
            },
        )

    @staticmethod
    def _market_price(book: Book) -> int | None:
        if book.last_price is not None:
            return book.last_price
        if book.bids and book.asks:
            return ((book.bids[0].price or 0) + (book.asks[0].price or 0)) // 2
        return None


def _level(book: Book, order: Order, qty: int, orders: int) -> None:
    """Keep the per-price totals of resting orders (so a book update costs O(levels))."""
    levels = book.bid_levels if order.side == pb.SIDE_BUY else book.ask_levels
    assert order.price is not None
    level = levels.setdefault(order.price, [0, 0])
    level[0] += qty
    level[1] += orders
    if level[1] <= 0:
        del levels[order.price]


def _top(levels: dict[int, list[int]], bids: bool) -> list[tuple[int, int, int]]:
    return [(p, *levels[p]) for p in sorted(levels, reverse=bids)]  # type: ignore[misc]


def _crosses(taker: Order, maker: Order) -> bool:
    if taker.price is None:
        return True
    assert maker.price is not None
    return maker.price <= taker.price if taker.side == pb.SIDE_BUY else maker.price >= taker.price


async def _abort(
    context: grpc_aio.ServicerContext[Any, Any], code: grpc.StatusCode, message: str
) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("unreachable")


class OrderbookStandIn:
    """`async with OrderbookStandIn(nc) as ob:` → `ob.addr`, `ob.servicer`, `ob.set_pressure()`.

    Without a NATS client nothing is published (pricing tests need no stream).
    """

    def __init__(self, nc: Nats | None = None) -> None:
        self.servicer = StandinOrderbook(nc)
        self._server: grpc_aio.Server | None = None
        self.port = 0

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_pressure(self, symbol: str, price_cents: int | None, trades: int = 1) -> None:
        self.servicer.pressures[symbol] = FixedPressure(price_cents, trades=trades)

    async def start(self, port: int = 0) -> OrderbookStandIn:
        self._server = grpc_aio.server()
        pb_grpc.add_OrderbookServicer_to_server(self.servicer, self._server)
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        await self._server.start()
        self.servicer.start_publisher()
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None
        await self.servicer.stop_publisher()

    async def __aenter__(self) -> OrderbookStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def _main() -> None:
    from em_common import messaging

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--port", type=int, default=50051)
    args = parser.parse_args()
    nc = await messaging.connect(args.nats, name="orderbook-standin")
    await messaging.ensure_streams(nc.jetstream())
    server = await OrderbookStandIn(nc).start(args.port)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
        await nc.drain()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
