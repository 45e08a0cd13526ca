"""Fill and report types of the matching engine, and its constants.

Reports and fills are NamedTuples: immutable, comparable, cheap to serialise (`_asdict()`),
and, built on the hot path with `tuple.__new__(cls, values)`, about twice as fast to create as
a `__slots__` class with an `__init__`. The engine creates one report per call and one fill
per trade, so that difference is a visible share of the per-order budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

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


class Fill(NamedTuple):
    """One trade, always at the resting (maker) order's price."""

    trade_id: int
    maker_order_id: int
    taker_order_id: int
    maker_account: str
    taker_account: str
    price: int
    qty: int
    taker_side: str
    symbol: str

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


class CancelledOrder(NamedTuple):
    """A resting order removed by self-trade prevention, reported to the taker's caller."""

    order_id: int
    account: str
    side: str
    price: int
    qty: int


class PlaceReport(NamedTuple):
    """The outcome of `Engine.place`.

    Accepted: `order_id` is issued; `qty == filled + resting + cancelled_qty`, where
    `cancelled_qty` is the IOC/market remainder. `self_trade_cancels` lists resting orders of
    the same account that were cancelled instead of trading. Rejected: `order_id` is None, the
    book is untouched, `reason` is one of the rejection constants and, for invalid input,
    `field` names the offending argument.
    """

    status: str
    order_id: int | None
    symbol: str
    side: str
    fills: Sequence[Fill]
    resting: int
    cancelled_qty: int
    self_trade_cancels: Sequence[CancelledOrder]
    reason: str | None = None
    field: str | None = None
    message: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def filled(self) -> int:
        return sum(f.qty for f in self.fills)


class CancelReport(NamedTuple):
    """The outcome of `Engine.cancel`.

    `result` is CANCELLED, NOT_OWNER (nothing changed; `account` is the real owner so the edge
    can refuse), ALREADY_DONE (the id was issued but the order is filled or cancelled) or
    UNKNOWN_ORDER (the engine never issued that id).
    """

    result: str
    order_id: int
    symbol: str | None = None
    account: str | None = None
    side: str | None = None
    price: int | None = None
    qty: int = 0

    @property
    def cancelled(self) -> bool:
        return self.result == CANCELLED


class OrderView(NamedTuple):
    """A copy of a live resting order, for queries outside the hot path."""

    order_id: int
    symbol: str
    account: str
    side: str
    price: int
    remaining: int
