"""A stand-in orderbook for backend tests: the real proto over real loopback gRPC.

It is not a model of matching: it answers GetPressure with whatever pressure a test set for
a symbol (an empty book when none), and every other RPC with UNIMPLEMENTED. Tests assert on
what the backend does with those answers, never on this server's behaviour. Replace it with
the real orderbook server once that exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio as grpc_aio

from everything_market.v1 import orderbook_pb2, orderbook_pb2_grpc


@dataclass
class FixedPressure:
    market_price_cents: int | None
    trades: int = 0
    buy_volume: int = 0
    sell_volume: int = 0
    net_pressure: float = 0.0


class _Servicer(orderbook_pb2_grpc.OrderbookServicer):
    def __init__(self) -> None:
        self.pressures: dict[str, FixedPressure] = {}
        self.pressure_calls = 0

    async def _unimplemented(self, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not served by the stand-in")

    async def PlaceOrder(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context)

    async def PlaceOrders(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context)

    async def CancelOrder(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context)

    async def GetOrder(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context)

    async def GetSnapshot(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context)

    async def GetPressure(self, request: Any, context: Any) -> Any:
        self.pressure_calls += 1
        if not request.symbol:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "symbol is required")
        fixed = self.pressures.get(request.symbol)
        response = orderbook_pb2.GetPressureResponse(symbol=request.symbol, window=request.window)
        if fixed is not None:
            if fixed.market_price_cents is not None:
                response.market_price_cents = fixed.market_price_cents
            response.trades = fixed.trades
            response.buy_volume = fixed.buy_volume
            response.sell_volume = fixed.sell_volume
            response.net_pressure = fixed.net_pressure
        return response


class OrderbookStandIn:
    """`async with OrderbookStandIn() as ob:` → `ob.addr`, `ob.set_pressure(...)`."""

    def __init__(self) -> None:
        self.servicer = _Servicer()
        self._server: grpc_aio.Server | None = None
        self.port = 0

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_pressure(self, symbol: str, price_cents: int | None, trades: int = 1) -> None:
        self.servicer.pressures[symbol] = FixedPressure(price_cents, trades=trades)

    async def start(self, port: int = 0) -> OrderbookStandIn:
        self._server = grpc_aio.server()
        orderbook_pb2_grpc.add_OrderbookServicer_to_server(self.servicer, self._server)
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        await self._server.start()
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None

    async def __aenter__(self) -> OrderbookStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
