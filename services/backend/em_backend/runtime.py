"""Everything one backend process holds while it runs, built and torn down by the lifespan.

Routes reach it through `api.deps`; background work (control watch, consumers, quote
refresh) is started here so `app.py` stays a list of routers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client as Nats
from nats.js import JetStreamContext
from nats.js.kv import KeyValue
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from em_backend.control import Control
from em_backend.live.fanout import Fanout
from em_backend.live.hub import Hub
from em_backend.market.orderbook import OrderbookClient
from em_backend.market.quotes import QuoteBook
from em_backend.metrics import Metrics
from em_backend.settings import Settings
from em_backend.streams import DurableConsumer

logger = logging.getLogger(__name__)

DB_CHECK_TIMEOUT_SECONDS = 2.0


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
    consumers: dict[str, DurableConsumer] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

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

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.create_task(coro, name=name))

    async def stop_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
