"""The gRPC edge: requests checked, commands submitted, answers and errors translated.

Nothing here decides anything about orders; it validates (INVALID_ARGUMENT naming the
field), routes (FAILED_PRECONDITION naming the owning shard), pre-checks cancels against the
remembered records so that refusals never reach the journal, and maps results to protobuf.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, NoReturn

import grpc

from em_orderbook import commands, errors, pressure, responses, state
from em_orderbook.service import OrderbookService
from everything_market.v1 import orderbook_pb2 as pb
from everything_market.v1 import orderbook_pb2_grpc as pb_grpc

MAX_BATCH_ORDERS = 10_000

_CODES: dict[type[errors.OrderbookError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.WrongShard: grpc.StatusCode.FAILED_PRECONDITION,
    errors.OrderNotFound: grpc.StatusCode.NOT_FOUND,
    errors.NotOwner: grpc.StatusCode.PERMISSION_DENIED,
    errors.OrderFinished: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any], exc: errors.OrderbookError
) -> NoReturn:
    code = _CODES.get(type(exc), grpc.StatusCode.INTERNAL)
    await context.abort(code, str(exc))
    raise AssertionError("unreachable")  # abort raises


class OrderbookServicer(pb_grpc.OrderbookServicer):
    def __init__(self, service: OrderbookService) -> None:
        self.svc = service

    def _submit_place(
        self, cmd: commands.Command
    ) -> tuple[state.Record, bool] | asyncio.Future[Any]:
        """The remembered answer for a retry, or the future of a (possibly shared) placement."""
        key = (cmd[2], cmd[3])
        record = self.svc.market.by_key.get(key)
        if record is not None:
            return record, True
        sequencer = self.svc.sequencer
        if sequencer is None:
            raise errors.Unavailable("orderbook is still starting")
        pending = sequencer.pending_places
        future = pending.get(key)
        if future is None:
            future = pending[key] = sequencer.submit(cmd)
            return future
        return asyncio.ensure_future(_as_duplicate(future))

    def _checked(self, req: pb.PlaceOrderRequest) -> commands.Command:
        cmd = commands.place(req)
        self.svc.shard.check(cmd[1])
        return cmd

    async def PlaceOrder(
        self, request: pb.PlaceOrderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PlaceOrderResponse:
        started = time.perf_counter()
        svc = self.svc
        try:
            submitted = self._submit_place(self._checked(request))
            if isinstance(submitted, tuple):
                record, duplicate = submitted
            else:
                record, duplicate = await asyncio.shield(submitted)
        except errors.OrderbookError as exc:
            svc.metrics.reject(_reason(exc))
            await _abort(context, exc)
        _count(svc, record, duplicate)
        svc.metrics.latency_unary.observe(time.perf_counter() - started)
        return responses.place(record, duplicate, svc.ids)

    async def PlaceOrders(
        self, request: pb.PlaceOrdersRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PlaceOrdersResponse:
        started = time.perf_counter()
        svc = self.svc
        orders = request.orders
        if len(orders) > MAX_BATCH_ORDERS:
            await _abort(
                context,
                errors.InvalidArgument("orders", f"orders: at most {MAX_BATCH_ORDERS} per call"),
            )
        sequencer = svc.sequencer
        if sequencer is None or sequencer.queued + len(orders) > sequencer.max_queue:
            await _abort(context, errors.Unavailable("orderbook is overloaded; retry shortly"))
        slots: list[Any] = []
        try:
            for req in orders:
                try:
                    slots.append(self._submit_place(self._checked(req)))
                except (errors.InvalidArgument, errors.WrongShard) as exc:
                    svc.metrics.reject(_reason(exc))
                    slots.append(str(exc))
        except errors.Unavailable as exc:
            await _abort(context, exc)
        results = pb.PlaceOrdersResponse()
        add = results.results.add
        for slot in slots:
            if isinstance(slot, str):
                add(error=slot)
                continue
            try:
                record, duplicate = slot if isinstance(slot, tuple) else await asyncio.shield(slot)
            except errors.Unavailable as exc:
                await _abort(context, exc)
            _count(svc, record, duplicate)
            add(response=responses.place(record, duplicate, svc.ids))
        svc.metrics.latency_batch.observe(time.perf_counter() - started)
        return results

    async def CancelOrder(
        self, request: pb.CancelOrderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CancelOrderResponse:
        svc = self.svc
        try:
            symbol, number, record = self._lookup(request.symbol, request.order_id)
            account = commands.account(request.account_id)
            if record.account != account:
                raise errors.NotOwner(f"order {request.order_id} belongs to another account")
            if record.status not in state.LIVE:
                raise errors.OrderFinished(f"order {request.order_id} is already {record.status}")
            sequencer = svc.sequencer
            if sequencer is None:
                raise errors.Unavailable("orderbook is still starting")
            result, qty = await asyncio.shield(
                sequencer.submit([commands.CANCEL, symbol, number, account])
            )
            if result != "cancelled":
                raise errors.OrderFinished(f"order {request.order_id} is already {record.status}")
        except errors.OrderbookError as exc:
            svc.metrics.cancels.labels(type(exc).__name__).inc()
            await _abort(context, exc)
        svc.metrics.cancels.labels("cancelled").inc()
        return pb.CancelOrderResponse(
            order_id=request.order_id, status=pb.ORDER_STATUS_CANCELLED, cancelled_quantity=qty
        )

    def _lookup(self, raw_symbol: str, raw_order_id: str) -> tuple[str, int, state.Record]:
        symbol = commands.symbol(raw_symbol)
        self.svc.shard.check(symbol)
        order_id = commands.order_id(raw_order_id)
        number = self.svc.ids.parse_order(order_id)
        if number is None:
            raise errors.OrderNotFound(f"order {order_id} not found")
        record = self.svc.market.records.get(number)
        if record is None and number < self.svc.market.engine.next_order_id:
            raise errors.OrderFinished(
                f"order {order_id} finished long ago and is no longer kept in memory"
            )
        if record is None or record.symbol != symbol:
            raise errors.OrderNotFound(f"order {order_id} not found for symbol {symbol}")
        return symbol, number, record

    async def GetOrder(
        self, request: pb.GetOrderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.OrderState:
        try:
            _, _, record = self._lookup(request.symbol, request.order_id)
        except errors.OrderFinished as exc:
            row = await self.svc.stored_order(request.order_id)
            if row is None:
                await _abort(context, errors.OrderNotFound(str(exc)))
            return responses.db_order_state(row)
        except errors.OrderbookError as exc:
            await _abort(context, exc)
        return responses.order_state(record, self.svc.ids)

    async def GetSnapshot(
        self, request: pb.GetSnapshotRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetSnapshotResponse:
        try:
            symbol = commands.symbol(request.symbol)
            self.svc.shard.check(symbol)
            depth = commands.depth(request.depth)
        except errors.OrderbookError as exc:
            await _abort(context, exc)
        market = self.svc.market
        resp = pb.GetSnapshotResponse(symbol=symbol)
        sym = market.symbols.get(symbol)
        if sym is None:
            return resp
        engine = market.engine
        bids, asks = engine.depth(symbol, depth)
        resp.bids.extend(responses.levels(bids))
        resp.asks.extend(responses.levels(asks))
        last = engine.last_trade(symbol)
        if last is not None:
            resp.last_trade_price_cents = last.price
        price = sym.pressure.market_price(
            _now_ms(), 60, bids[0][0] if bids else None, asks[0][0] if asks else None
        )
        if price is not None:
            resp.market_price_cents = price
        resp.seq = sym.seq
        return resp

    async def GetPressure(
        self, request: pb.GetPressureRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetPressureResponse:
        try:
            symbol = commands.symbol(request.symbol)
            self.svc.shard.check(symbol)
            seconds = commands.window_seconds(request.window)
        except errors.OrderbookError as exc:
            await _abort(context, exc)
        window = pb.PRESSURE_WINDOW_ONE_HOUR if seconds == 3600 else pb.PRESSURE_WINDOW_ONE_MINUTE
        resp = pb.GetPressureResponse(symbol=symbol, window=window)
        sym = self.svc.market.symbols.get(symbol)
        if sym is None:
            return resp
        now = _now_ms()
        buy, sell, trades = sym.pressure.window(now, seconds)
        bid, ask = self.svc.market.engine.top(symbol)
        price = sym.pressure.market_price(
            now, seconds, None if bid is None else bid[0], None if ask is None else ask[0]
        )
        if price is not None:
            resp.market_price_cents = price
        resp.buy_volume = buy
        resp.sell_volume = sell
        resp.trades = trades
        resp.net_pressure = pressure.net(buy, sell)
        return resp


async def _as_duplicate(future: asyncio.Future[Any]) -> tuple[state.Record, bool]:
    record, _ = await asyncio.shield(future)
    return record, True


def _count(svc: OrderbookService, record: state.Record, duplicate: bool) -> None:
    m = svc.metrics
    if duplicate:
        m.duplicates.inc()
    elif record.status == state.REJECTED:
        m.rejected.inc()
        m.reject(record.result[2] or "rejected")
    else:
        m.accepted.inc()


def _reason(exc: errors.OrderbookError) -> str:
    if isinstance(exc, errors.InvalidArgument):
        return f"invalid_{exc.field}"
    if isinstance(exc, errors.WrongShard):
        return "wrong_shard"
    if isinstance(exc, errors.Unavailable):
        return "unavailable"
    return type(exc).__name__


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
