"""What open orders hold back from an account's cash (bounded contracts, ARCHITECTURE §6).

A unit bought at p costs p; a unit sold short posts 100 - p as collateral. An order reserves
for its worst case: a buy at its limit (a market buy at 100, the highest possible price),
each short unit of a sell at 100 - limit (a market sell at 100, as if it filled at 0).

The sell orders of one account in one symbol are reserved as a pool, because the long
position backs only so many of them and they may fill in any order. With S units offered
and L held long, at most S - L units can end up short, and in the worst case they are the
ones needing the most collateral; the pool reserves exactly their sum. That sum only
shrinks on a fill (a unit closing a long leaves S - L alone and removes a unit; a unit
opening a short frees at least its own 100 - limit) or a cancel, so funds are checked once,
at placement, and afterwards only released. The share of the pool each order holds is
attributed deterministically (largest requirement first, newest first on ties).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

Side = Literal["buy", "sell"]


def cents(value: Decimal) -> Decimal:
    """Money to the cent; every amount here is already exact, this fixes the exponent."""
    return value.quantize(CENT)


@dataclass(frozen=True)
class Order:
    """One order as reservations see it: terms and progress (fills settled, units closed)."""

    key: int
    side: Side
    limit: Decimal | None  # None for a market order
    qty: int
    filled: int = 0
    closed: int = 0

    @property
    def live(self) -> int:
        """Units that may still fill (or are filled but not yet settled)."""
        return self.qty - self.filled - self.closed

    @property
    def reserve_price(self) -> Decimal:
        """The worst execution price the reservation has to cover."""
        if self.limit is not None:
            return self.limit
        return HUNDRED if self.side == "buy" else Decimal(0)

    @property
    def unit_requirement(self) -> Decimal:
        """Cash one live unit may need: its price (buy) or its short collateral (sell)."""
        price = self.reserve_price
        return price if self.side == "buy" else HUNDRED - price


def requirements(orders: Iterable[Order], long_qty: int) -> dict[int, Decimal]:
    """What each order of one account in one symbol holds back, by order key.

    `long_qty` is the position's quantity when positive (a short or flat position backs
    no sell units).
    """
    held: dict[int, Decimal] = {}
    sells: list[Order] = []
    for order in orders:
        held[order.key] = ZERO
        if order.live <= 0:
            continue
        if order.side == "buy":
            held[order.key] = cents(order.unit_requirement * order.live)
        else:
            sells.append(order)
    uncovered = sum(o.live for o in sells) - max(0, long_qty)
    for order in sorted(sells, key=lambda o: (o.unit_requirement, o.key), reverse=True):
        if uncovered <= 0:
            break
        units = min(order.live, uncovered)
        held[order.key] = cents(order.unit_requirement * units)
        uncovered -= units
    return held


def total(held: Mapping[int, Decimal]) -> Decimal:
    return cents(sum(held.values(), ZERO))


def to_cents(points: Decimal) -> int:
    """A price in points (two decimals) as the orderbook's integer cents."""
    return int((points * 100).to_integral_value())


def from_cents(value: int) -> Decimal:
    return cents(Decimal(value) / 100)
