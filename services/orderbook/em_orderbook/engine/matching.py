"""Price-time matching for every symbol, with self-trade prevention.

`Engine` is the only mutable entry point. It reads no clock and does no I/O, so the same
sequence of calls always yields the same reports, ids and digest: the service journals the
calls and replays them after a restart.

`place` is the hot path and is written flat on purpose: one pass of cheap checks (a slow
validator runs only when one fails, to name the bad field), no helper calls inside the match
loop, no objects created for orders that never rest, and counters kept in locals.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable
from typing import Any, Self

from em_orderbook.engine import book as books
from em_orderbook.engine import orders, snapshots, validating
from em_orderbook.engine.errors import UnknownSymbolError

_NO_LIMIT = -(orders.MAX_PRICE + 1)

_BUY = orders.BUY
_SELL = orders.SELL
_LIMIT = orders.LIMIT
_MARKET = orders.MARKET
_GTC = orders.GTC
_IOC = orders.IOC
_FOK = orders.FOK
_ACCEPTED = orders.ACCEPTED
_MAX_PRICE = orders.MAX_PRICE
_MAX_QTY = orders.MAX_QTY
_CANCELLED = orders.CANCELLED
_NOT_OWNER = orders.NOT_OWNER
_DONE = orders.ALREADY_DONE
_UNKNOWN = orders.UNKNOWN_ORDER
_Level = books.Level


class Engine:
    """All books, the order-id index and the id counters."""

    __slots__ = ("_books", "_compact_slack", "_next_order_id", "_next_trade_id", "_orders")

    def __init__(
        self, symbols: Iterable[str] = (), *, compact_slack: int = books.COMPACT_SLACK
    ) -> None:
        """Start with an empty book for each symbol.

        `compact_slack` is how many dead entries a level may hold beyond twice its live count
        before a cancel compacts it; tests set 0 so that compaction runs all the time.
        """
        self._compact_slack = compact_slack
        self._books: dict[str, books.Book] = {}
        self._orders: dict[int, books.Order] = {}
        self._next_order_id = 1
        self._next_trade_id = 1
        for symbol in symbols:
            self.add_symbol(symbol)

    # -- symbols and reads ---------------------------------------------------------------

    def add_symbol(self, symbol: str) -> None:
        """Open a book for `symbol`; a no-op when it already has one."""
        if type(symbol) is not str or not symbol:
            raise ValueError("symbol must be a non-empty string")
        if symbol not in self._books:
            self._books[symbol] = books.Book(symbol)

    def symbols(self) -> list[str]:
        return sorted(self._books)

    def book(self, symbol: str) -> books.Book:
        try:
            return self._books[symbol]
        except KeyError:
            raise UnknownSymbolError(symbol) from None

    def top(self, symbol: str) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """((bid price, qty) | None, (ask price, qty) | None) in O(1)."""
        book = self.book(symbol)
        return book.bids.best(), book.asks.best()

    def depth(
        self, symbol: str, levels: int
    ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """Best `levels` bid and ask levels as (price, qty, orders), best first."""
        book = self.book(symbol)
        return book.bids.depth(levels), book.asks.depth(levels)

    def last_trade(self, symbol: str) -> orders.Fill | None:
        last = self.book(symbol).last_trade
        return None if last is None else orders.Fill._make(last)

    def order(self, order_id: int) -> orders.OrderView | None:
        """The live resting order with this id, or None when it is not (or no longer) open."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        level: books.Level = order[books.LEVEL]
        side = level.side
        return orders.OrderView(
            order_id,
            side.symbol,
            order[books.ACCOUNT],
            side.name,
            level.price,
            order[books.REMAINING],
        )

    def owner(self, order_id: int) -> str | None:
        """The account of a live resting order, so the edge can check it before cancelling."""
        order = self._orders.get(order_id)
        return None if order is None else order[books.ACCOUNT]

    def open_orders(self) -> int:
        return len(self._orders)

    @property
    def next_order_id(self) -> int:
        return self._next_order_id

    @property
    def next_trade_id(self) -> int:
        return self._next_trade_id

    # -- snapshots -----------------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        """Plain JSON-able state: every live order in priority order, counters, last trades."""
        return snapshots.dump(self._books.values(), self._next_order_id, self._next_trade_id)

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Self:
        engine = cls()
        restored = snapshots.load(data)
        engine._next_order_id = restored.next_order_id
        engine._next_trade_id = restored.next_trade_id
        for book in restored.books:
            engine._books[book.symbol] = book
        engine._orders = restored.index
        return engine

    def digest(self) -> str:
        """sha256 of the canonical snapshot: equal digests mean equal engines."""
        return snapshots.digest(self.to_snapshot())

    # -- commands ------------------------------------------------------------------------

    def cancel(self, order_id: int, account: str | None = None) -> orders.CancelTuple:
        """Cancel a live order. With `account`, an order owned by someone else is left alone."""
        order = self._orders.pop(order_id, None) if type(order_id) is int else None
        if order is None:
            issued = type(order_id) is int and 0 < order_id < self._next_order_id
            return (_DONE if issued else _UNKNOWN, order_id, None, None, None, None, 0)
        level: books.Level = order[3]  # [order_id, account, remaining, level]
        side = level.side
        owner = order[1]
        if account is not None and account != owner:
            self._orders[order_id] = order
            return (_NOT_OWNER, order_id, side.symbol, owner, side.name, level.price, 0)
        qty = order[2]
        order[2] = 0
        count = level.count - 1
        level.count = count
        level.total -= qty
        if not count:
            # Drop the level; clearing its deque breaks the level <-> dead order cycles.
            key = level.key
            keys = side.keys
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]
            del side.levels[key]
            level.orders.clear()
        elif len(level.orders) > count + count + self._compact_slack:
            level.orders = deque([o for o in level.orders if o[2]])
        return (_CANCELLED, order_id, side.symbol, owner, side.name, level.price, qty)

    def place(
        self,
        symbol: str,
        account: str,
        side: str,
        kind: str,
        qty: int,
        price: int | None = None,
        tif: str | None = None,
    ) -> orders.PlaceTuple:
        """Match an incoming order and rest, cancel or reject what is left.

        `kind` is LIMIT (needs `price`; `tif` GTC by default, IOC or FOK) or MARKET (no price;
        `tif` IOC by default or FOK). A market order meeting an empty opposite side, and a FOK
        order that cannot fill completely, are rejected without touching the book. Returns a
        plain `orders.PlaceTuple`; `orders.PlaceReport.of()` gives it names.
        """
        try:
            book = self._books[symbol]
        except (KeyError, TypeError):
            return self._reject(symbol, account, side, kind, qty, price, tif)
        if (
            type(qty) is not int
            or qty < 1
            or qty > _MAX_QTY
            or type(account) is not str
            or not account
        ):
            return self._reject(symbol, account, side, kind, qty, price, tif)
        if kind == _LIMIT:
            if type(price) is not int or price < 1 or price > _MAX_PRICE:
                return self._reject(symbol, account, side, kind, qty, price, tif)
            if side == _BUY:
                own = book.bids
                opp = book.asks
                key = price
            elif side == _SELL:
                own = book.asks
                opp = book.bids
                key = -price
            else:
                return self._reject(symbol, account, side, kind, qty, price, tif)
            threshold = -key
            if tif is None or tif == _GTC:
                rests = True
                fok = False
            elif tif == _IOC:
                rests = fok = False
            elif tif == _FOK:
                rests = False
                fok = True
            else:
                return self._reject(symbol, account, side, kind, qty, price, tif)
        elif kind == _MARKET:
            if price is not None:
                return self._reject(symbol, account, side, kind, qty, price, tif)
            if side == _BUY:
                own = book.bids
                opp = book.asks
            elif side == _SELL:
                own = book.asks
                opp = book.bids
            else:
                return self._reject(symbol, account, side, kind, qty, price, tif)
            key = threshold = _NO_LIMIT
            rests = False
            if tif is None or tif == _IOC:
                fok = False
            elif tif == _FOK:
                fok = True
            else:
                return self._reject(symbol, account, side, kind, qty, price, tif)
            if not opp.keys:
                return validating.refuse(
                    symbol, side, orders.NO_LIQUIDITY, "market order: the opposite side is empty"
                )
        else:
            return self._reject(symbol, account, side, kind, qty, price, tif)
        if fok and not opp.can_fill(qty, threshold, account):
            return validating.refuse(
                symbol, side, orders.FOK_UNFILLABLE, "fill-or-kill order cannot fill completely"
            )

        order_id = self._next_order_id
        self._next_order_id = order_id + 1
        keys = opp.keys
        remaining = qty
        fills: list[orders.FillTuple] | tuple[()] = ()
        stp: list[orders.SelfTradeTuple] | tuple[()] = ()
        if keys and keys[-1] >= threshold:
            index = self._orders
            levels = opp.levels
            trade_id = self._next_trade_id
            fills = []
            while True:
                level_key = keys[-1]
                level = levels[level_key]
                queue = level.orders
                level_price = level.price
                count = level.count
                total = level.total
                while count:
                    maker = queue[0]
                    available = maker[2]  # [order_id, account, remaining, level]
                    if not available:
                        queue.popleft()
                        continue
                    maker_id = maker[0]
                    if maker[1] == account:
                        queue.popleft()
                        count -= 1
                        total -= available
                        del index[maker_id]
                        if not stp:
                            stp = []
                        stp.append((maker_id, account, opp.name, level_price, available))
                        continue
                    if available <= remaining:
                        queue.popleft()
                        count -= 1
                        del index[maker_id]
                        traded = available
                    else:
                        maker[2] = available - remaining
                        traded = remaining
                    total -= traded
                    fills.append(
                        (
                            trade_id,
                            maker_id,
                            order_id,
                            maker[1],
                            account,
                            level_price,
                            traded,
                            side,
                            symbol,
                        )
                    )
                    trade_id += 1
                    remaining -= traded
                    if not remaining:
                        break
                if count:
                    level.count = count
                    level.total = total
                    break
                keys.pop()
                del levels[level_key]
                queue.clear()
                if not remaining or not keys or keys[-1] < threshold:
                    break
            self._next_trade_id = trade_id
            if fills:
                book.last_trade = fills[-1]
            if not remaining:
                return (_ACCEPTED, order_id, symbol, side, fills, 0, 0, stp, None, None, None)
        if not rests:
            return (_ACCEPTED, order_id, symbol, side, fills, 0, remaining, stp, None, None, None)
        own_levels = own.levels
        resting_level = own_levels.get(key)
        if resting_level is None:
            resting_level = own_levels[key] = _Level(price, key, own)  # type: ignore[arg-type]
            own_keys = own.keys
            if not own_keys or key > own_keys[-1]:
                own_keys.append(key)
            else:
                insort(own_keys, key)
        order = [order_id, account, remaining, resting_level]
        resting_level.orders.append(order)
        resting_level.total += remaining
        resting_level.count += 1
        self._orders[order_id] = order
        return (_ACCEPTED, order_id, symbol, side, fills, remaining, 0, stp, None, None, None)

    def _reject(
        self,
        symbol: object,
        account: object,
        side: object,
        kind: object,
        qty: object,
        price: object,
        tif: object,
    ) -> orders.PlaceTuple:
        known = type(symbol) is str and symbol in self._books
        return validating.reject(symbol, account, side, kind, qty, price, tif, known_symbol=known)
