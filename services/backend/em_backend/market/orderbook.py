"""The gRPC client of the orderbook, behind a short deadline and a circuit breaker.

`pressure()` never raises on an unreachable orderbook: it answers the last value it saw for
the symbol, marked stale, so a dead orderbook degrades prices instead of failing them. The
trading code uses `call()` for PlaceOrder/CancelOrder and gets OrderbookUnavailable instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import grpc
from grpc import aio as grpc_aio

from em_backend import errors
from em_backend.domain import blending, breaker
from em_backend.metrics import Metrics
from everything_market.v1 import orderbook_pb2, orderbook_pb2_grpc

logger = logging.getLogger(__name__)


# gRPC backs off exponentially between reconnects (1 s growing to 120 s by default): after
# an orderbook restart, orders would keep failing for as long as the last wait, although
# the orderbook is back. Keep retrying the connection at least every second.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


@dataclass(frozen=True)
class Pressure:
    """What the orderbook says about a symbol; `market_price` is None when the book is empty."""

    market_price: Decimal | None
    trades: int
    buy_volume: int
    sell_volume: int
    net_pressure: float
    stale: bool


class OrderbookClient:
    def __init__(
        self,
        addr: str,
        *,
        timeout_seconds: float,
        failure_threshold: int,
        reset_seconds: float,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.addr = addr
        self.timeout_seconds = timeout_seconds
        self.breaker = breaker.CircuitBreaker(failure_threshold, reset_seconds)
        self._metrics = metrics
        self._clock = clock
        self._channel: grpc_aio.Channel = grpc_aio.insecure_channel(addr, options=CHANNEL_OPTIONS)
        self.stub: Any = orderbook_pb2_grpc.OrderbookStub(self._channel)
        self._last: dict[str, Pressure] = {}

    async def close(self) -> None:
        await self._channel.close()

    def remember(self, symbol: str, market_price: Decimal | None) -> None:
        """Seed the last known value (from the database at start-up)."""
        if symbol not in self._last:
            self._last[symbol] = Pressure(market_price, 0, 0, 0, 0.0, stale=True)

    async def call(self, method: str, request: Any, *, deadline: float | None = None) -> Any:
        """One unary call through the breaker; OrderbookUnavailable when it cannot be made."""
        now = self._clock()
        if not self.breaker.allow(now):
            self._metrics.orderbook_calls.labels("breaker_open").inc()
            raise errors.OrderbookUnavailable("the orderbook is unavailable (circuit open)")
        rpc = getattr(self.stub, method)
        try:
            response = await rpc(request, timeout=deadline or self.timeout_seconds)
        except grpc_aio.AioRpcError as exc:
            code = exc.code()
            if code in (
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                grpc.StatusCode.INTERNAL,
                grpc.StatusCode.UNKNOWN,
            ):
                self.breaker.record_failure(self._clock())
                self._metrics.orderbook_calls.labels("unavailable").inc()
                raise errors.OrderbookUnavailable(
                    f"the orderbook did not answer ({code.name})"
                ) from exc
            self.breaker.record_success()
            self._metrics.orderbook_calls.labels("error").inc()
            raise
        self.breaker.record_success()
        self._metrics.orderbook_calls.labels("ok").inc()
        return response

    async def pressure(self, symbol: str) -> Pressure:
        """Fresh pressure, or the last known value marked stale when the orderbook is down."""
        request = orderbook_pb2.GetPressureRequest(
            symbol=symbol, window=orderbook_pb2.PRESSURE_WINDOW_ONE_HOUR
        )
        try:
            response = await self.call("GetPressure", request)
        except (errors.OrderbookUnavailable, grpc_aio.AioRpcError) as exc:
            logger.warning(
                "orderbook pressure unavailable", extra={"symbol": symbol, "error": str(exc)}
            )
            last = self._last.get(symbol)
            if last is None:
                return Pressure(None, 0, 0, 0, 0.0, stale=True)
            return Pressure(last.market_price, last.trades, 0, 0, 0.0, stale=True)
        price = (
            blending.cents_to_points(response.market_price_cents)
            if response.HasField("market_price_cents")
            else None
        )
        fresh = Pressure(
            market_price=price,
            trades=int(response.trades),
            buy_volume=int(response.buy_volume),
            sell_volume=int(response.sell_volume),
            net_pressure=float(response.net_pressure),
            stale=False,
        )
        self._last[symbol] = fresh
        return fresh
