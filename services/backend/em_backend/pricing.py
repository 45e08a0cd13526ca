"""Glue between the price writers and the readers: fetch pressures, publish new quotes.

A new quote goes into this replica's QuoteBook at once (a read right after a write sees
it) and to every replica through the fan-out, which also feeds the WebSocket hubs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from em_backend.live import messages
from em_backend.live.fanout import Fanout
from em_backend.market.orderbook import OrderbookClient, Pressure
from em_backend.market.quotes import Quote, QuoteBook

logger = logging.getLogger(__name__)


class Pricing:
    def __init__(self, orderbook: OrderbookClient, quotes: QuoteBook, fanout: Fanout) -> None:
        self.orderbook = orderbook
        self.quotes = quotes
        self.fanout = fanout

    async def pressures(self, symbols: Iterable[str]) -> dict[str, Pressure]:
        """Pressure for each symbol, concurrently; stale last-known values when unreachable."""
        wanted = sorted(set(symbols))
        results = await asyncio.gather(*(self.orderbook.pressure(s) for s in wanted))
        return dict(zip(wanted, results, strict=True))

    async def publish_quotes(self, quotes: Iterable[Quote], *, market: bool = False) -> None:
        for quote in quotes:
            self.quotes.put(quote)
            if market:
                await self.publish(messages.market_update(quote))
            await self.publish(messages.final_update(quote))

    async def publish(self, message: dict[str, Any]) -> None:
        try:
            await self.fanout.publish(message)
        except Exception:
            logger.warning("live publish failed", exc_info=True, extra={"type": message["type"]})

    async def on_live(self, message: dict[str, Any]) -> None:
        """Fan-out listener: keep this replica's quotes in step with other replicas."""
        if message.get("type") == messages.FINAL_UPDATE:
            try:
                self.quotes.put(Quote.from_public(message))
            except (KeyError, ValueError, ArithmeticError):
                logger.warning("ignoring malformed final_update")
