"""Order, fill and report types of the matching engine.

Everything here is a `__slots__` class rather than a dataclass or NamedTuple: the engine builds
one report per call and one fill per trade on its hot path, and a plain slots `__init__` is
the cheapest typed object CPython offers. Reports are read-only by convention; the engine never
touches one after returning it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

# Limits mirror em_common.constants (PRICE_CENTS_MIN/MAX, QUANTITY_MIN/MAX); the engine keeps
# its own copy so that it stays importable without settings machinery.
MIN_PRICE: Final = 1
MAX_PRICE: Final = 9999
MIN_QTY: Final = 1
MAX_QTY: Final = 10_000

BUY: Final = "buy"
SELL: Final = "sell"
LIMIT: Final = "limit"
MARKET: Final = "market"
GTC: Final = "gtc"
IOC: Final = "ioc"
FOK: Final = "fok"

ACCEPTED: Final = "accepted"
REJECTED: Final = "rejected"

# Rejection reasons of `place`.
INVALID_ARGUMENT: Final = "invalid_argument"
UNKNOWN_SYMBOL: Final = "unknown_symbol"
NO_LIQUIDITY: Final = "no_liquidity"
FOK_UNFILLABLE: Final = "fok_unfillable"

# Results of `cancel`.
CANCELLED: Final = "cancelled"
UNKNOWN_ORDER: Final = "unknown"
ALREADY_DONE: Final = "finished"
NOT_OWNER: Final = "not_owner"


class Fill:
    """One trade, always at the resting (maker) order's price."""

    __slots__ = (
        "maker_account",
        "maker_order_id",
        "price",
        "qty",
        "symbol",
        "taker_account",
        "taker_order_id",
        "taker_side",
        "trade_id",
    )

    def __init__(
        self,
        trade_id: int,
        maker_order_id: int,
        taker_order_id: int,
        maker_account: str,
        taker_account: str,
        price: int,
        qty: int,
        taker_side: str,
        symbol: str,
    ) -> None:
        self.trade_id = trade_id
        self.maker_order_id = maker_order_id
        self.taker_order_id = taker_order_id
        self.maker_account = maker_account
        self.taker_account = taker_account
        self.price = price
        self.qty = qty
        self.taker_side = taker_side
        self.symbol = symbol

    @property
    def buy_order_id(self) -> int:
        return self.taker_order_id if self.taker_side == BUY else self.maker_order_id

    @property
    def sell_order_id(self) -> int:
        return self.maker_order_id if self.taker_side == BUY else self.taker_order_id

    @property
    def buy_account(self) -> str:
        return self.taker_account if self.taker_side == BUY else self.maker_account

    @property
    def sell_account(self) -> str:
        return self.maker_account if self.taker_side == BUY else self.taker_account

    def as_tuple(self) -> tuple[int, int, int, str, str, int, int, str, str]:
        return (
            self.trade_id,
            self.maker_order_id,
            self.taker_order_id,
            self.maker_account,
            self.taker_account,
            self.price,
            self.qty,
            self.taker_side,
            self.symbol,
        )

    def __repr__(self) -> str:
        return "Fill" + repr(self.as_tuple())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fill) and self.as_tuple() == other.as_tuple()

    def __hash__(self) -> int:
        return hash(self.as_tuple())


class CancelledOrder:
    """A resting order removed by self-trade prevention, reported to the taker's caller."""

    __slots__ = ("account", "order_id", "price", "qty", "side")

    def __init__(self, order_id: int, account: str, side: str, price: int, qty: int) -> None:
        self.order_id = order_id
        self.account = account
        self.side = side
        self.price = price
        self.qty = qty

    def as_tuple(self) -> tuple[int, str, str, int, int]:
        return (self.order_id, self.account, self.side, self.price, self.qty)

    def __repr__(self) -> str:
        return "CancelledOrder" + repr(self.as_tuple())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CancelledOrder) and self.as_tuple() == other.as_tuple()

    def __hash__(self) -> int:
        return hash(self.as_tuple())


class PlaceReport:
    """The outcome of `Engine.place`.

    Accepted: `order_id` is issued; `qty == filled + resting + cancelled_qty`, where
    `cancelled_qty` is the IOC/market remainder. `self_trade_cancels` lists resting orders of
    the same account that were cancelled instead of trading. Rejected: `order_id` is None, the
    book is untouched, `reason` is one of the rejection constants and, for invalid input,
    `field` names the offending argument.
    """

    __slots__ = (
        "cancelled_qty",
        "field",
        "fills",
        "message",
        "order_id",
        "reason",
        "resting",
        "self_trade_cancels",
        "side",
        "status",
        "symbol",
    )

    def __init__(
        self,
        status: str,
        order_id: int | None,
        symbol: str,
        side: str,
        fills: Sequence[Fill],
        resting: int,
        cancelled_qty: int,
        self_trade_cancels: Sequence[CancelledOrder],
        reason: str | None = None,
        field: str | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.order_id = order_id
        self.symbol = symbol
        self.side = side
        self.fills = fills
        self.resting = resting
        self.cancelled_qty = cancelled_qty
        self.self_trade_cancels = self_trade_cancels
        self.reason = reason
        self.field = field
        self.message = message

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def filled(self) -> int:
        return sum(f.qty for f in self.fills)

    def __repr__(self) -> str:
        return (
            f"PlaceReport(status={self.status!r}, order_id={self.order_id!r}, "
            f"symbol={self.symbol!r}, side={self.side!r}, fills={list(self.fills)!r}, "
            f"resting={self.resting!r}, cancelled_qty={self.cancelled_qty!r}, "
            f"self_trade_cancels={list(self.self_trade_cancels)!r}, reason={self.reason!r}, "
            f"field={self.field!r}, message={self.message!r})"
        )


class CancelReport:
    """The outcome of `Engine.cancel`.

    `result` is CANCELLED, NOT_OWNER (nothing changed; `account` is the real owner so the edge
    can refuse), ALREADY_DONE (the id was issued but the order is filled or cancelled) or
    UNKNOWN_ORDER (the engine never issued that id).
    """

    __slots__ = ("account", "order_id", "price", "qty", "result", "side", "symbol")

    def __init__(
        self,
        result: str,
        order_id: int,
        symbol: str | None = None,
        account: str | None = None,
        side: str | None = None,
        price: int | None = None,
        qty: int = 0,
    ) -> None:
        self.result = result
        self.order_id = order_id
        self.symbol = symbol
        self.account = account
        self.side = side
        self.price = price
        self.qty = qty

    @property
    def cancelled(self) -> bool:
        return self.result == CANCELLED

    def __repr__(self) -> str:
        return (
            f"CancelReport(result={self.result!r}, order_id={self.order_id!r}, "
            f"symbol={self.symbol!r}, account={self.account!r}, side={self.side!r}, "
            f"price={self.price!r}, qty={self.qty!r})"
        )


class OrderView:
    """A read-only copy of a live resting order, for queries outside the hot path."""

    __slots__ = ("account", "order_id", "price", "remaining", "side", "symbol")

    def __init__(
        self, order_id: int, symbol: str, account: str, side: str, price: int, remaining: int
    ) -> None:
        self.order_id = order_id
        self.symbol = symbol
        self.account = account
        self.side = side
        self.price = price
        self.remaining = remaining

    def __repr__(self) -> str:
        return (
            f"OrderView(order_id={self.order_id!r}, symbol={self.symbol!r}, "
            f"account={self.account!r}, side={self.side!r}, price={self.price!r}, "
            f"remaining={self.remaining!r})"
        )
