"""Engine state as plain JSON-able data, and the digest that compares two engines.

A snapshot holds only what decides future behaviour: live orders in priority order (dead,
lazily cancelled entries are left out, which matching would skip anyway), the id counters and
each book's last trade. `load` checks the data before building anything, because a snapshot
comes from disk or the network and a corrupt one must fail loudly rather than match wrongly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from em_orderbook.engine import book as books
from em_orderbook.engine import orders
from em_orderbook.engine.errors import SnapshotError

FORMAT = "em-orderbook-engine/1"

_FILL_FIELDS = orders.Fill._fields


class Restored:
    """What `load` rebuilt, for `Engine.from_snapshot` to adopt."""

    __slots__ = ("books", "index", "next_order_id", "next_trade_id")

    def __init__(
        self,
        books_: list[books.Book],
        index: dict[int, books.Order],
        next_order_id: int,
        next_trade_id: int,
    ) -> None:
        self.books = books_
        self.index = index
        self.next_order_id = next_order_id
        self.next_trade_id = next_trade_id


def _dump_side(side: books.BookSide) -> list[Any]:
    return [
        [level.price, [o[: books.LEVEL] for o in side.live_orders(level)]]
        for level in side.iter_levels()
    ]


def _dump_fill(fill: orders.FillTuple | None) -> dict[str, Any] | None:
    if fill is None:
        return None
    return dict(zip(_FILL_FIELDS, fill, strict=True))


def dump(all_books: Iterable[books.Book], next_order_id: int, next_trade_id: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "next_order_id": next_order_id,
        "next_trade_id": next_trade_id,
        "books": [
            {
                "symbol": book.symbol,
                "bids": _dump_side(book.bids),
                "asks": _dump_side(book.asks),
                "last_trade": _dump_fill(book.last_trade),
            }
            for book in sorted(all_books, key=lambda b: b.symbol)
        ],
    }


def digest(snapshot: dict[str, Any]) -> str:
    """sha256 over canonical JSON (sorted keys, no whitespace) of a snapshot."""
    text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _int(value: Any, what: str, low: int, high: int | None = None) -> int:
    if type(value) is not int or value < low or (high is not None and value > high):
        bound = f"in {low}..{high}" if high is not None else f">= {low}"
        raise SnapshotError(f"{what} must be an integer {bound}")
    return value


def _str(value: Any, what: str) -> str:
    if type(value) is not str or not value:
        raise SnapshotError(f"{what} must be a non-empty string")
    return value


def _load_side(
    side: books.BookSide, data: Any, index: dict[int, books.Order], next_order_id: int
) -> None:
    if not isinstance(data, list):
        raise SnapshotError(f"{side.symbol} {side.name}: levels must be a list")
    previous: int | None = None
    for entry in data:
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[1], list):
            raise SnapshotError(f"{side.symbol} {side.name}: a level is [price, [orders]]")
        price = _int(entry[0], "price", orders.MIN_PRICE, orders.MAX_PRICE)
        key = side.sign * price
        if previous is not None and key >= previous:
            raise SnapshotError(f"{side.symbol} {side.name}: levels must be best first, unique")
        if not entry[1]:
            raise SnapshotError(f"{side.symbol} {side.name}: level {price} has no orders")
        previous = key
        for item in entry[1]:
            if not isinstance(item, list) or len(item) != 3:
                raise SnapshotError("an order is [order_id, account, remaining]")
            order_id = _int(item[0], "order_id", 1, next_order_id - 1)
            if order_id in index:
                raise SnapshotError(f"order id {order_id} appears twice")
            account = _str(item[1], "account")
            remaining = _int(item[2], "remaining", orders.MIN_QTY, orders.MAX_QTY)
            index[order_id] = side.rest(order_id, account, remaining, price)


def _load_fill(data: Any, symbol: str, next_trade_id: int) -> orders.FillTuple | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != set(_FILL_FIELDS):
        raise SnapshotError(f"{symbol}: last_trade must have the fields {_FILL_FIELDS}")
    if data["taker_side"] not in (orders.BUY, orders.SELL) or data["symbol"] != symbol:
        raise SnapshotError(f"{symbol}: last_trade has a bad side or symbol")
    return (
        _int(data["trade_id"], "trade_id", 1, next_trade_id - 1),
        _int(data["maker_order_id"], "maker_order_id", 1),
        _int(data["taker_order_id"], "taker_order_id", 1),
        _str(data["maker_account"], "maker_account"),
        _str(data["taker_account"], "taker_account"),
        _int(data["price"], "price", orders.MIN_PRICE, orders.MAX_PRICE),
        _int(data["qty"], "qty", orders.MIN_QTY, orders.MAX_QTY),
        data["taker_side"],
        symbol,
    )


def load(data: Any) -> Restored:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SnapshotError(f"not a snapshot of format {FORMAT}")
    next_order_id = _int(data.get("next_order_id"), "next_order_id", 1)
    next_trade_id = _int(data.get("next_trade_id"), "next_trade_id", 1)
    raw_books = data.get("books")
    if not isinstance(raw_books, list):
        raise SnapshotError("books must be a list")
    index: dict[int, books.Order] = {}
    restored: list[books.Book] = []
    seen: set[str] = set()
    for raw in raw_books:
        if not isinstance(raw, dict):
            raise SnapshotError("a book must be an object")
        symbol = _str(raw.get("symbol"), "symbol")
        if symbol in seen:
            raise SnapshotError(f"book {symbol} appears twice")
        seen.add(symbol)
        book = books.Book(symbol)
        _load_side(book.bids, raw.get("bids"), index, next_order_id)
        _load_side(book.asks, raw.get("asks"), index, next_order_id)
        bid, ask = book.bids.best(), book.asks.best()
        if bid is not None and ask is not None and bid[0] >= ask[0]:
            raise SnapshotError(f"{symbol}: crossed book (bid {bid[0]} >= ask {ask[0]})")
        book.last_trade = _load_fill(raw.get("last_trade"), symbol, next_trade_id)
        restored.append(book)
    return Restored(restored, index, next_order_id, next_trade_id)
