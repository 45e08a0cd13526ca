"""Per-symbol trade statistics behind GetPressure and the market price.

The engine reads no clock, so time enters here: every journal batch carries the service's
wall-clock stamp, and trades are bucketed per second of that stamp. Replaying the journal
therefore rebuilds exactly the same buckets and EWMA. An hour of per-second buckets is the
most a symbol keeps, whatever the trade rate.

Market price: the EWMA (alpha = EWMA_ALPHA, 0.25) of trade prices, updated on every trade,
while the window holds at least one trade; otherwise the mid of the best bid and ask; absent
when the book has no two sides to take a mid from.
"""

from __future__ import annotations

from collections import deque
from typing import Any

HOUR_S = 3600


class Pressure:
    __slots__ = ("buckets", "ewma", "last_trade_ms")

    def __init__(self) -> None:
        # [second, buy volume, sell volume, trades], oldest first.
        self.buckets: deque[list[int]] = deque()
        self.ewma: float | None = None
        self.last_trade_ms = 0

    def record(self, ts_ms: int, price: int, qty: int, taker_buys: bool, alpha: float) -> None:
        ewma = self.ewma
        self.ewma = float(price) if ewma is None else ewma + alpha * (price - ewma)
        self.last_trade_ms = ts_ms
        second = ts_ms // 1000
        buckets = self.buckets
        if buckets and buckets[-1][0] == second:
            bucket = buckets[-1]
        else:
            bucket = [second, 0, 0, 0]
            buckets.append(bucket)
            horizon = second - HOUR_S
            while buckets[0][0] <= horizon:
                buckets.popleft()
        if taker_buys:
            bucket[1] += qty
        else:
            bucket[2] += qty
        bucket[3] += 1

    def window(self, now_ms: int, seconds: int) -> tuple[int, int, int]:
        """(buy volume, sell volume, trades) over the last `seconds` seconds."""
        start = now_ms // 1000 - seconds
        buy = sell = trades = 0
        for second, b, s, n in reversed(self.buckets):
            if second <= start:
                break
            buy += b
            sell += s
            trades += n
        return buy, sell, trades

    def market_price(
        self, now_ms: int, seconds: int, best_bid: int | None, best_ask: int | None
    ) -> int | None:
        if self.ewma is not None and self.last_trade_ms // 1000 > now_ms // 1000 - seconds:
            return int(self.ewma + 0.5)
        if best_bid is not None and best_ask is not None:
            return (best_bid + best_ask + 1) // 2
        return None

    def dump(self) -> dict[str, Any]:
        return {
            "buckets": [list(b) for b in self.buckets],
            "ewma": self.ewma,
            "last_trade_ms": self.last_trade_ms,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Pressure:
        pressure = cls()
        pressure.buckets = deque([int(x) for x in b] for b in data["buckets"])
        ewma = data["ewma"]
        pressure.ewma = None if ewma is None else float(ewma)
        pressure.last_trade_ms = int(data["last_trade_ms"])
        return pressure


def net(buy: int, sell: int) -> float:
    total = buy + sell
    return 0.0 if total == 0 else (buy - sell) / total
