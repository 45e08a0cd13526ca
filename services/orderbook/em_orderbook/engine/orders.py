"""Fill and report shapes of the matching engine, and its constants.

The engine returns plain tuples: `place` -> `PlaceTuple` (its fills `FillTuple`, its
self-trade cancels `CancelTuple`), `cancel` -> `CancelTuple`... see the aliases below. A
tuple literal is the cheapest object CPython builds; a NamedTuple instance costs about three
times as much (`tuple.__new__` on a subclass allocates through the generic path), and with one
report per call plus one per fill that was 15 % of the engine's time per order.

Callers that prefer names wrap a result once: `PlaceReport.of(engine.place(...))`. Each
NamedTuple below has exactly the field order of its tuple, so unpacking works the same on
either, and a `Fill` compares equal to the tuple it was made from.
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


FillTuple = tuple[int, int, int, str, str, int, int, str, str]
"""(trade_id, maker_order_id, taker_order_id, maker_account, taker_account, price, qty,
taker_side, symbol)"""

SelfTradeTuple = tuple[int, str, str, int, int]
"""(order_id, account, side, price, qty) of a resting order cancelled by self-trade prevention"""

PlaceTuple = tuple[
    str,
    int | None,
    str,
    str,
    Sequence[FillTuple],
    int,
    int,
    Sequence[SelfTradeTuple],
    str | None,
    str | None,
    str | None,
]
"""(status, order_id, symbol, side, fills, resting, cancelled_qty, self_trade_cancels, reason,
field, message)"""

CancelTuple = tuple[str, int, str | None, str | None, str | None, int | None, int]
"""(result, order_id, symbol, account, side, price, qty)"""


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
    """The outcome of `Engine.place`, with names.

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

    @classmethod
    def of(cls, raw: PlaceTuple) -> PlaceReport:
        (status, order_id, symbol, side, fills, resting, cancelled, stp, reason, field, msg) = raw
        return cls(
            status,
            order_id,
            symbol,
            side,
            [Fill._make(f) for f in fills],
            resting,
            cancelled,
            [CancelledOrder._make(c) for c in stp],
            reason,
            field,
            msg,
        )

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def filled(self) -> int:
        return sum(f.qty for f in self.fills)


class CancelReport(NamedTuple):
    """The outcome of `Engine.cancel`, with names.

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

    @classmethod
    def of(cls, raw: CancelTuple) -> CancelReport:
        return cls._make(raw)

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
