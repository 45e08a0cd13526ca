"""How one trade moves money and positions between buyer and seller (no I/O).

Positions keep an exact cost basis: what long units cost, or what short units were sold
for. A short of q units at basis b has posted `100 * q - b` collateral (100 - price per
unit), so closing part of a position removes a proportional share of the basis (rounded
to the cent; the last unit takes the remainder) and, for a short, frees `100 * units -
removed basis` of collateral. The buyer pays from its reserved funds; the seller's new
short units post collateral out of its reservation. Whatever the orders no longer need
after the trade is released by the caller, which recomputes `reservations.requirements`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from em_backend.domain.reservations import CENT, HUNDRED, ZERO, cents

Role = Literal["buyer", "seller"]
Bucket = Literal["cash", "reserved", "collateral"]
AVG_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Holding:
    quantity: int = 0
    basis: Decimal = ZERO

    @property
    def avg_cost(self) -> Decimal:
        if self.quantity == 0:
            return Decimal("0")
        return (self.basis / abs(self.quantity)).quantize(AVG_PLACES, ROUND_HALF_EVEN)

    @property
    def collateral(self) -> Decimal:
        """What a short position has posted; zero for a long or flat one."""
        if self.quantity >= 0:
            return ZERO
        return cents(HUNDRED * -self.quantity - self.basis)


@dataclass(frozen=True)
class Transfer:
    """Two ledger legs: `amount` leaves `source` and arrives at `target`."""

    source: tuple[Role, Bucket]
    target: tuple[Role, Bucket]
    amount: Decimal
    kind: str


@dataclass(frozen=True)
class Settlement:
    buyer: Holding
    seller: Holding
    transfers: tuple[Transfer, ...]

    def taken_from_reserved(self, role: Role) -> Decimal:
        return cents(
            sum(
                (t.amount for t in self.transfers if t.source == (role, "reserved")),
                ZERO,
            )
        )


def reduce(holding: Holding, units: int) -> tuple[Holding, Decimal]:
    """Close `units` of the position; returns the rest and the basis they carried."""
    size = abs(holding.quantity)
    if not 0 < units <= size:
        raise ValueError(f"cannot close {units} of a position of {size}")
    if units == size:
        return Holding(), holding.basis
    removed = (holding.basis * units / size).quantize(CENT, ROUND_HALF_EVEN)
    sign = 1 if holding.quantity > 0 else -1
    return Holding(holding.quantity - sign * units, cents(holding.basis - removed)), removed


def settle(price: Decimal, qty: int, buyer: Holding, seller: Holding) -> Settlement:
    """The buyer's and seller's positions after the trade, and the money it moves."""
    if qty <= 0 or not ZERO <= price <= HUNDRED:
        raise ValueError(f"invalid trade {qty} @ {price}")
    transfers = [Transfer(("buyer", "reserved"), ("seller", "cash"), cents(price * qty), "trade")]

    covered = min(qty, max(0, -buyer.quantity))
    new_buyer = buyer
    if covered:
        new_buyer, removed = reduce(buyer, covered)
        freed = cents(HUNDRED * covered - removed)
        if freed:
            transfers.append(
                Transfer(("buyer", "collateral"), ("buyer", "cash"), freed, "collateral_release")
            )
    bought = qty - covered
    if bought:
        new_buyer = Holding(new_buyer.quantity + bought, cents(new_buyer.basis + price * bought))

    closed = min(qty, max(0, seller.quantity))
    new_seller = seller
    if closed:
        new_seller, _ = reduce(seller, closed)
    opened = qty - closed
    if opened:
        new_seller = Holding(new_seller.quantity - opened, cents(new_seller.basis + price * opened))
        posted = cents((HUNDRED - price) * opened)
        if posted:
            transfers.append(
                Transfer(
                    ("seller", "reserved"), ("seller", "collateral"), posted, "collateral_post"
                )
            )
    return Settlement(new_buyer, new_seller, tuple(t for t in transfers if t.amount))


def unrealized_pnl(holding: Holding, mark: Decimal) -> Decimal:
    """Gain against the cost basis if the position were closed at `mark`."""
    if holding.quantity >= 0:
        return cents(mark * holding.quantity - holding.basis)
    return cents(holding.basis - mark * -holding.quantity)
