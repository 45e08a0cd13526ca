"""Public market data for WebSocket clients: `trade` and `book` from the MARKET subjects.

Every replica subscribes with plain core NATS to `market.*.trades` and `market.*.book` (the
durable consumer hands each message to one replica only, which suits settlement, not
fan-out) and delivers to its own sockets. A republished message (same trade id or book
sequence) is delivered once. The newest book per symbol is kept for the snapshot endpoint
to fall back on when the orderbook cannot be reached.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import pydantic
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from em_backend.live.hub import Hub
from em_common import contracts

logger = logging.getLogger(__name__)

TRADE = "trade"
BOOK = "book"
SEEN_TRADES = 10_000


def trade_message(event: contracts.TradeEvent) -> dict[str, Any]:
    """No account ids: who traded is private."""
    return {
        "type": TRADE,
        "symbol": event.symbol,
        "trade_id": event.trade_id,
        "price": str(event.price),
        "quantity": event.quantity,
        "taker_side": event.taker_side,
        "executed_at": event.executed_at.isoformat(),
    }


def book_message(event: contracts.BookEvent) -> dict[str, Any]:
    return {
        "type": BOOK,
        "symbol": event.symbol,
        "seq": event.seq,
        "bids": [{"price": str(b.price), "quantity": b.quantity} for b in event.bids],
        "asks": [{"price": str(a.price), "quantity": a.quantity} for a in event.asks],
        "last_price": None if event.last_price is None else str(event.last_price),
        "at": event.at.isoformat(),
    }


class MarketFeed:
    def __init__(self, nc: Nats, hub: Hub) -> None:
        self._nc = nc
        self._hub = hub
        self._subs: list[Subscription] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.books: dict[str, contracts.BookEvent] = {}

    async def start(self) -> None:
        self._subs = [
            await self._nc.subscribe(contracts.trades_subject("*"), cb=self._on_trade),
            await self._nc.subscribe(contracts.book_subject("*"), cb=self._on_book),
        ]

    async def stop(self) -> None:
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: S112 - the connection may already be closing
                continue
        self._subs = []

    async def _on_trade(self, msg: Msg) -> None:
        try:
            event = contracts.TradeEvent.model_validate_json(msg.data)
        except pydantic.ValidationError:
            return  # counted by the settlement consumer
        if event.trade_id in self._seen:
            return
        self._seen[event.trade_id] = None
        if len(self._seen) > SEEN_TRADES:
            self._seen.popitem(last=False)
        self._hub.deliver(trade_message(event))

    async def _on_book(self, msg: Msg) -> None:
        try:
            event = contracts.BookEvent.model_validate_json(msg.data)
        except pydantic.ValidationError:
            logger.warning("invalid book message", extra={"subject": msg.subject})
            return
        held = self.books.get(event.symbol)
        if held is not None and held.seq >= event.seq and held.at >= event.at:
            return
        self.books[event.symbol] = event
        self._hub.deliver(book_message(event))
