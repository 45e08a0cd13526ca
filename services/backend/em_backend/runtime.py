"""Everything one backend process holds while it runs, built and torn down by `wiring`.

Routes reach it through `api.deps.RuntimeDep`; background work (control watch, consumers,
quote refresh) is started by `wiring.running` so `app.py` stays a list of routers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket
from nats.aio.client import Client as Nats
from nats.js import JetStreamContext
from nats.js.kv import KeyValue
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from em_backend.control import Control
from em_backend.db import tables
from em_backend.ingest.pipeline import Ingestor
from em_backend.live.fanout import Fanout
from em_backend.live.hub import Hub
from em_backend.market.orderbook import OrderbookClient
from em_backend.market.quotes import Quote, QuoteBook
from em_backend.metrics import Metrics
from em_backend.pricing import Pricing
from em_backend.review import Reviewer
from em_backend.settings import Settings
from em_backend.store import stocks as stock_store
from em_backend.streams import DurableConsumer
from em_backend.trading.service import Trading

logger = logging.getLogger(__name__)

DB_CHECK_TIMEOUT_SECONDS = 2.0

# Resolves a WebSocket to the trader's account id (None: anonymous). Set by trader auth.
WsAuthenticator = Callable[[WebSocket], Awaitable[int | None]]


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    control: Control
    hub: Hub
    quotes: QuoteBook
    orderbook: OrderbookClient
    nc: Nats
    js: JetStreamContext
    kv: KeyValue
    fanout: Fanout
    pricing: Pricing
    ingestor: Ingestor
    reviewer: Reviewer
    consumers: dict[str, DurableConsumer] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ws_account: WsAuthenticator | None = None
    trading: Trading | None = None

    async def database_ok(self) -> bool:
        """A cheap round trip to PostgreSQL, bounded so /health never hangs."""
        try:
            async with asyncio.timeout(DB_CHECK_TIMEOUT_SECONDS):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:
            logger.warning("database check failed", extra={"error": type(exc).__name__})
            return False
        return True

    async def load_quote(self, symbol: str) -> Quote | None:
        """A symbol missing from memory (listed on another replica a moment ago)."""
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(tables.Stock, tables.Score)
                    .join(tables.Score, tables.Score.symbol == tables.Stock.symbol)
                    .where(tables.Stock.symbol == symbol)
                )
            ).first()
        if row is None:
            return None
        quote = stock_store.quote_of(row[0], row[1], stale=False)
        self.quotes.put(quote)
        return quote

    async def refresh_quotes(self) -> None:
        async with self.sessions() as session:
            self.quotes.replace_all(await stock_store.load_quotes(session))
        for quote in self.quotes.all():
            self.orderbook.remember(quote.symbol, quote.market)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.create_task(coro, name=name))

    async def stop_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
