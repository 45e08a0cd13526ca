"""The in-memory quote of every symbol: what `GET /stocks/{s}/final` answers from.

Kept fresh by the event paths (every `final_update`, local or from another replica, passes
through `put`) and reloaded from the database periodically as a safety net for lossy
fan-out. Quotes are immutable and carry their serialised JSON, so a hot read is a dict
lookup and a byte copy; an update swaps the dict entry, so readers need no lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


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

    def public(self) -> dict[str, Any]:
        """The `FinalPublic` shape (decimals as strings, as pydantic serialises them)."""
        return {
            "symbol": self.symbol,
            "final_price": _dec(self.final),
            "reality_score": _dec(self.reality),
            "market_price": _dec(self.market),
            "market_weight": _dec(self.market_weight),
            "reality_weight": _dec(self.reality_weight),
            "confidence": _dec(self.confidence),
            "market_stale": self.stale,
            "last_updated": self.last_updated.isoformat(),
        }

    @cached_property
    def json_bytes(self) -> bytes:
        return json.dumps(self.public(), separators=(",", ":")).encode()

    @classmethod
    def from_public(cls, data: dict[str, Any]) -> Quote:
        market = data.get("market_price")
        return cls(
            symbol=str(data["symbol"]),
            final=Decimal(str(data["final_price"])),
            reality=Decimal(str(data["reality_score"])),
            market=None if market is None else Decimal(str(market)),
            market_weight=Decimal(str(data["market_weight"])),
            reality_weight=Decimal(str(data["reality_weight"])),
            confidence=Decimal(str(data["confidence"])),
            stale=bool(data.get("market_stale", False)),
            last_updated=datetime.fromisoformat(str(data["last_updated"])),
        )


class QuoteBook:
    def __init__(self) -> None:
        self._quotes: dict[str, Quote] = {}

    def __len__(self) -> int:
        return len(self._quotes)

    def get(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def all(self) -> list[Quote]:
        return list(self._quotes.values())

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
