"""The trading part of a running backend: order flow, settlement consumer hook, live feed,
rate limiters and the reconciler of pending orders, built and started by `wiring`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import pydantic
from fastapi import WebSocket
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from em_backend import security
from em_backend.db.rawpool import RawPool
from em_backend.domain.ratelimit import Limiter
from em_backend.live.fanout import Fanout
from em_backend.live.hub import Hub
from em_backend.market.orderbook import OrderbookClient
from em_backend.metrics import Metrics
from em_backend.settings import Settings
from em_backend.streams import Handler
from em_backend.trading import settling
from em_backend.trading.feed import MarketFeed
from em_backend.trading.metrics import TradingMetrics
from em_backend.trading.ordering import Orders
from em_common import contracts

logger = logging.getLogger(__name__)


class Trading:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        orderbook: OrderbookClient,
        nc: Nats,
        hub: Hub,
        fanout: Fanout,
        metrics: Metrics,
        paused: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self._paused = paused
        self.metrics = TradingMetrics(metrics.registry)
        self._lag = metrics.settlement_lag
        self._durable = RawPool(settings.database_url, settings.db_order_pool_size)
        self._relaxed = RawPool(settings.database_url, settings.db_order_pool_size, relaxed=True)
        self.orders = Orders(
            sessions,
            orderbook,
            fanout.publish,
            self.metrics,
            timeout_seconds=settings.order_timeout_ms / 1000,
            pending_grace_seconds=settings.pending_order_grace_seconds,
            durable=self._durable,
            relaxed=self._relaxed,
        )
        self.feed = MarketFeed(nc, hub)
        self.auth_limiter = Limiter(settings.auth_rate_per_minute / 60, settings.auth_burst)
        self.order_limiter = Limiter(settings.order_rate_per_second, settings.order_burst)
        self._task: asyncio.Task[None] | None = None

    @property
    def jwt_secret(self) -> str:
        return self.settings.jwt_secret.get_secret_value()

    async def start(self) -> None:
        await self.feed.start()
        self._task = asyncio.create_task(self._reconcile_forever(), name="order-reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.feed.stop()
        await self._durable.close()
        await self._relaxed.close()

    def settlement_handler(self) -> Handler:
        """Second handler of the MARKET trades consumer: settle, idempotent on trade_id."""

        async def handle(msg: Msg) -> None:
            try:
                event = contracts.TradeEvent.model_validate_json(msg.data)
            except pydantic.ValidationError:
                self.metrics.settlements.labels("invalid").inc()
                return
            trade = settling.Trade.from_event(event)
            if trade is None:
                self.metrics.settlements.labels("foreign").inc()
                return
            try:
                outcome = await self.orders.settle(trade)
            except settling.NotLinked:
                self.metrics.settlements.labels("not_linked").inc()
                raise
            self.metrics.settlements.labels(outcome).inc()
            if outcome == "settled":
                self._lag.observe(max(0.0, time.time() - event.executed_at.timestamp()))

        return handle

    async def ws_account(self, websocket: WebSocket) -> int | None:
        """The account of a socket that offers a valid token (`?token=` or a Bearer header)."""
        token = websocket.query_params.get("token")
        header = websocket.headers.get("authorization", "")
        if not token and header.lower().startswith("bearer "):
            token = header[7:].strip()
        if not token:
            return None
        try:
            return security.decode(self.jwt_secret, token).account_id
        except security.InvalidToken:
            return None

    async def _reconcile_forever(self) -> None:
        interval = max(0.5, self.settings.pending_order_grace_seconds / 2)
        while True:
            await asyncio.sleep(interval)
            if self._paused():
                continue  # maintenance: writers are stopped
            try:
                resolved = await self.orders.reconcile_once()
                if resolved:
                    logger.info("resolved pending orders", extra={"count": resolved})
            except Exception:
                logger.warning("order reconciliation failed", exc_info=True)
