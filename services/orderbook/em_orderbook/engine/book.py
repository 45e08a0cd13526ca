"""The book of one symbol: two sides of price levels, each level a FIFO of resting orders.

Layout chosen for CPython speed. A side keeps a dict key -> level and a list of keys sorted
ascending with the *best* level last, so the best price is `keys[-1]`, consuming it is
`keys.pop()` and a new level usually lands near the end of the list (`bisect.insort` only when
a level is created). Bids are keyed by price, asks by -price, which lets one matching loop serve
both sides: an incoming order with own key k crosses every opposite level whose key is >= -k.

Cancels are lazy: a cancelled order is marked dead (`remaining = 0`) and left in its level's
deque, to be skipped when matching reaches it. A level whose live count reaches zero is dropped
at once, and a level whose deque holds more dead than live orders is compacted, so dead orders
never outlive their level by much and memory stays proportional to the live book.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from collections.abc import Iterator
from typing import Any, Final

from em_orderbook.engine import orders

COMPACT_SLACK = 32


class Level:
    """Orders at one price in time priority; `total` and `count` cover live orders only."""

    __slots__ = ("count", "key", "orders", "price", "side", "total")

    def __init__(self, price: int, key: int, side: BookSide) -> None:
        self.price = price
        self.key = key
        self.side = side
        self.orders: deque[Order] = deque()
        self.total = 0
        self.count = 0


# A resting order is a list [order_id, account, remaining, level], not an object: resting
# orders are the engine's most frequent long-lived allocation, and a 4-item list costs about a
# third of a `__slots__` instance to create. `remaining == 0` marks it dead (lazily cancelled,
# still queued). `level` lets a cancel find its queue without a search; the level's deque holds
# the only other reference and is cleared when the level is dropped, so no cycle outlives it.
Order = list[Any]
ORDER_ID: Final = 0
ACCOUNT: Final = 1
REMAINING: Final = 2
LEVEL: Final = 3


class BookSide:
    """One side of a book. `sign` is +1 for bids, -1 for asks: key = sign * price."""

    __slots__ = ("keys", "levels", "name", "sign", "symbol")

    def __init__(self, symbol: str, name: str) -> None:
        self.symbol = symbol
        self.name = name
        self.sign = 1 if name == orders.BUY else -1
        self.keys: list[int] = []
        self.levels: dict[int, Level] = {}

    def rest(self, order_id: int, account: str, qty: int, price: int) -> Order:
        """Queue an order at the back of its level, creating the level if needed.

        `Engine.place` inlines the same steps on its hot path; this copy serves snapshot
        restore.
        """
        key = self.sign * price
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = Level(price, key, self)
            keys = self.keys
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                insort(keys, key)
        order: Order = [order_id, account, qty, level]
        level.orders.append(order)
        level.total += qty
        level.count += 1
        return order

    def can_fill(self, qty: int, threshold: int, account: str) -> bool:
        """Whether other accounts' orders on levels with key >= `threshold` cover `qty`.

        Orders of `account` itself do not count: self-trade prevention would cancel them.
        """
        levels = self.levels
        for key in reversed(self.keys):
            if key < threshold:
                return False
            for order in levels[key].orders:
                if order[REMAINING] and order[ACCOUNT] != account:
                    qty -= order[REMAINING]
                    if qty <= 0:
                        return True
        return False

    def best(self) -> tuple[int, int] | None:
        """(price, quantity) of the best level, or None when the side is empty."""
        if not self.keys:
            return None
        level = self.levels[self.keys[-1]]
        return (level.price, level.total)

    def depth(self, n: int) -> list[tuple[int, int, int]]:
        """(price, quantity, live order count) of the best `n` levels, best first."""
        levels = self.levels
        out: list[tuple[int, int, int]] = []
        for key in reversed(self.keys[-n:] if n > 0 else []):
            level = levels[key]
            out.append((level.price, level.total, level.count))
        return out

    def iter_levels(self) -> Iterator[Level]:
        """Levels best first."""
        levels = self.levels
        for key in reversed(self.keys):
            yield levels[key]

    def live_orders(self, level: Level) -> Iterator[Order]:
        """Live orders of a level in time priority."""
        return (o for o in level.orders if o[REMAINING])


class Book:
    """Both sides of one symbol plus its last trade."""

    __slots__ = ("asks", "bids", "last_trade", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = BookSide(symbol, orders.BUY)
        self.asks = BookSide(symbol, orders.SELL)
        self.last_trade: orders.FillTuple | None = None
