"""An obviously-correct order book, the oracle for the engine's property tests.

Written for clarity, not speed: all resting orders live in one list, and every incoming order
sorts the opposite side afresh by (best price, arrival). It states the rules once, in the most
literal form, and shares no code with the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from em_orderbook.engine import CancelReport, Engine, PlaceReport

MIN_PRICE, MAX_PRICE, MIN_QTY, MAX_QTY = 1, 9999, 1, 10_000

# A fill as the engine reports it, as a tuple:
# (trade_id, maker_order_id, taker_order_id, maker_account, taker_account, price, qty,
#  taker_side, symbol)
FillTuple = tuple[int, int, int, str, str, int, int, str, str]
# A self-trade cancel: (order_id, account, side, price, qty)
CancelTuple = tuple[int, str, str, int, int]


@dataclass
class RestingOrder:
    order_id: int
    symbol: str
    account: str
    side: str
    price: int
    remaining: int


@dataclass
class ModelReport:
    status: str
    order_id: int | None = None
    fills: list[FillTuple] = field(default_factory=list)
    resting: int = 0
    cancelled_qty: int = 0
    self_trade_cancels: list[CancelTuple] = field(default_factory=list)
    reason: str | None = None
    field: str | None = None


class ModelBook:
    def __init__(self, symbols: list[str]) -> None:
        self.symbols = set(symbols)
        self.resting: list[RestingOrder] = []
        self.next_order_id = 1
        self.next_trade_id = 1
        self.last_trade: dict[str, FillTuple] = {}

    @staticmethod
    def _field_error(
        symbol: Any, account: Any, side: Any, kind: Any, qty: Any, price: Any, tif: Any
    ) -> tuple[str, str] | None:
        def is_int(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        if not isinstance(symbol, str) or symbol == "":
            return "invalid_argument", "symbol"
        if not isinstance(account, str) or account == "":
            return "invalid_argument", "account"
        if side not in ("buy", "sell"):
            return "invalid_argument", "side"
        if kind not in ("limit", "market"):
            return "invalid_argument", "kind"
        if not is_int(qty) or not MIN_QTY <= qty <= MAX_QTY:
            return "invalid_argument", "qty"
        if kind == "limit" and (not is_int(price) or not MIN_PRICE <= price <= MAX_PRICE):
            return "invalid_argument", "price"
        if kind == "market" and price is not None:
            return "invalid_argument", "price"
        allowed = ("gtc", "ioc", "fok") if kind == "limit" else ("ioc", "fok")
        if tif is not None and tif not in allowed:
            return "invalid_argument", "tif"
        return None

    def opposite(self, symbol: str, side: str) -> list[RestingOrder]:
        """Opposite orders, best price first, then oldest first."""
        others = [o for o in self.resting if o.symbol == symbol and o.side != side]
        if side == "buy":
            return sorted(others, key=lambda o: (o.price, o.order_id))
        return sorted(others, key=lambda o: (-o.price, o.order_id))

    def place(
        self,
        symbol: Any,
        account: Any,
        side: Any,
        kind: Any,
        qty: Any,
        price: Any = None,
        tif: Any = None,
    ) -> ModelReport:
        if isinstance(symbol, str) and symbol and symbol not in self.symbols:
            return ModelReport("rejected", reason="unknown_symbol", field="symbol")
        error = self._field_error(symbol, account, side, kind, qty, price, tif)
        if error is not None:
            return ModelReport("rejected", reason=error[0], field=error[1])
        if tif is None:
            tif = "gtc" if kind == "limit" else "ioc"

        def crosses(order: RestingOrder) -> bool:
            if price is None:
                return True
            return bool(order.price <= price if side == "buy" else order.price >= price)

        book = self.opposite(symbol, side)
        if kind == "market" and not book:
            return ModelReport("rejected", reason="no_liquidity")
        if tif == "fok":
            fillable = sum(o.remaining for o in book if crosses(o) and o.account != account)
            if fillable < qty:
                return ModelReport("rejected", reason="fok_unfillable")

        order_id: int = self.next_order_id
        report = ModelReport("accepted", order_id=order_id)
        self.next_order_id += 1
        remaining = qty
        for maker in book:
            if remaining == 0 or not crosses(maker):
                break
            if maker.account == account:
                self.resting.remove(maker)
                report.self_trade_cancels.append(
                    (maker.order_id, maker.account, maker.side, maker.price, maker.remaining)
                )
                continue
            traded = min(remaining, maker.remaining)
            fill: FillTuple = (
                self.next_trade_id,
                maker.order_id,
                order_id,
                maker.account,
                account,
                maker.price,
                traded,
                side,
                symbol,
            )
            self.next_trade_id += 1
            report.fills.append(fill)
            self.last_trade[symbol] = fill
            maker.remaining -= traded
            remaining -= traded
            if maker.remaining == 0:
                self.resting.remove(maker)
        if remaining and tif == "gtc":
            self.resting.append(RestingOrder(order_id, symbol, account, side, price, remaining))
            report.resting = remaining
        else:
            report.cancelled_qty = remaining
        return report

    def cancel(self, order_id: Any, account: Any = None) -> tuple[str, int]:
        """(result, cancelled quantity)."""
        for order in self.resting:
            if order.order_id == order_id:
                if account is not None and account != order.account:
                    return "not_owner", 0
                self.resting.remove(order)
                return "cancelled", order.remaining
        if isinstance(order_id, int) and 0 < order_id < self.next_order_id:
            return "finished", 0
        return "unknown", 0

    def levels(self, symbol: str, side: str) -> list[tuple[int, int, int]]:
        """(price, total qty, order count) best first."""
        totals: dict[int, list[int]] = {}
        for order in self.resting:
            if order.symbol == symbol and order.side == side:
                entry = totals.setdefault(order.price, [0, 0])
                entry[0] += order.remaining
                entry[1] += 1
        prices = sorted(totals, reverse=(side == "buy"))
        return [(p, totals[p][0], totals[p][1]) for p in prices]


class NamedEngine(Engine):
    """The engine with named reports, for readable tests (the engine returns plain tuples)."""

    def place(
        self,
        symbol: str,
        account: str,
        side: str,
        kind: str,
        qty: int,
        price: int | None = None,
        tif: str | None = None,
    ) -> PlaceReport:
        return PlaceReport.of(super().place(symbol, account, side, kind, qty, price, tif))

    def cancel(self, order_id: int, account: str | None = None) -> CancelReport:
        return CancelReport.of(super().cancel(order_id, account))
