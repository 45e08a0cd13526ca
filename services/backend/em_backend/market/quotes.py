"""The in-memory quote of every symbol: what `GET /stocks/{s}/final` answers from.

Kept fresh by the event paths (every `final_update`, local or from another replica, passes
through `put`) and reloaded from the database periodically as a safety net for lossy
fan-out. Quotes are immutable; an update swaps the dict entry, so readers need no lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Quote:
    symbol: str
    final: Decimal
    reality: Decimal
    market: Decimal | None
    market_weight: Decimal
    reality_weight: Decimal
    confidence: Decimal
    stale: bool
    last_updated: datetime

    def to_message(self) -> dict[str, Any]:
        """JSON-ready fields (decimals as strings with two places, as on the wire)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = str(value)
            elif isinstance(value, datetime):
                data[key] = value.isoformat()
        return data

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Quote:
        market = data.get("market")
        return cls(
            symbol=str(data["symbol"]),
            final=Decimal(str(data["final"])),
            reality=Decimal(str(data["reality"])),
            market=None if market is None else Decimal(str(market)),
            market_weight=Decimal(str(data["market_weight"])),
            reality_weight=Decimal(str(data["reality_weight"])),
            confidence=Decimal(str(data["confidence"])),
            stale=bool(data.get("stale", False)),
            last_updated=datetime.fromisoformat(str(data["last_updated"])),
        )


class QuoteBook:
    def __init__(self) -> None:
        self._quotes: dict[str, Quote] = {}

    def __len__(self) -> int:
        return len(self._quotes)

    def get(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def put(self, quote: Quote) -> None:
        """Keep the newer of the held and the offered quote (fan-out may reorder)."""
        held = self._quotes.get(quote.symbol)
        if held is None or quote.last_updated >= held.last_updated:
            self._quotes[quote.symbol] = quote

    def replace_all(self, quotes: Iterable[Quote]) -> None:
        fresh = {q.symbol: q for q in quotes}
        for symbol, held in self._quotes.items():
            offered = fresh.get(symbol)
            if offered is not None and held.last_updated > offered.last_updated:
                fresh[symbol] = held
        self._quotes = fresh

    def discard(self, symbol: str) -> None:
        self._quotes.pop(symbol, None)
