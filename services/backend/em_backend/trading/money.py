"""One money transaction: locked accounts, their orders and positions, and the ledger legs.

Every change to orders or positions goes through an `Exposure` (one account in one
symbol). When the transaction finishes, each exposure recomputes what its orders must hold
back (`reservations.requirements`) and the difference to what they held is released to
cash, or, only for a new order, reserved from cash if there is enough. The ledger legs and
balance updates are written last, in the same database transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from em_backend import errors
from em_backend.domain import reservations
from em_backend.domain.settlement import Holding
from em_backend.store import ledger
from em_backend.store import orders as order_store

logger = logging.getLogger(__name__)


class InsufficientFunds(errors.Invalid):
    """A new order needs more cash than the account has free."""


class Inconsistent(errors.BackendError):
    """A trade or order update would break a money invariant (never expected)."""


class Exposure:
    def __init__(
        self, account_id: int, symbol: str, orders: list[order_store.OrderRow], holding: Holding
    ) -> None:
        self.account_id = account_id
        self.symbol = symbol
        self.orders = orders
        self.holding = holding
        self.holding_changed = False
        self.held = reservations.total({o.id: o.reserved for o in orders})
        self.taken = Decimal(0)

    def find(self, order_id: str) -> order_store.OrderRow | None:
        for order in self.orders:
            if order.order_id == order_id:
                return order
        return None

    def get(self, reservation_id: int) -> order_store.OrderRow | None:
        for order in self.orders:
            if order.id == reservation_id:
                return order
        return None

    def set_holding(self, holding: Holding) -> None:
        self.holding = holding
        self.holding_changed = True

    def rebalance(self) -> Decimal:
        """Re-attribute the reservation; returns what to release (negative: to reserve)."""
        held = reservations.requirements((o.domain for o in self.orders), self.holding.quantity)
        for order in self.orders:
            want = held[order.id]
            if order.reserved != want:
                order.reserved = want
                order.dirty = True
        total = reservations.total(held)
        change = self.held - total - self.taken
        self.held, self.taken = total, Decimal(0)
        return change


class MoneyTxn:
    """Collects changes inside an open database transaction; `finish()` writes them."""

    def __init__(self, session: AsyncSession, balances: dict[int, ledger.Balance]) -> None:
        self.session = session
        self.balances = balances
        self.moves = ledger.Movements()
        self._exposures: dict[tuple[int, str], Exposure] = {}

    @classmethod
    async def begin(cls, session: AsyncSession, account_ids: Iterable[int]) -> MoneyTxn:
        """Lock the accounts (all of them, up front, in id order)."""
        return cls(session, await ledger.lock(session, account_ids))

    async def exposure(self, account_id: int, symbol: str) -> Exposure:
        if account_id not in self.balances:
            raise Inconsistent(f"account {account_id} is not locked in this transaction")
        key = (account_id, symbol)
        found = self._exposures.get(key)
        if found is None:
            rows = await order_store.live_in_symbol(self.session, account_id, symbol)
            holding = await order_store.holding(self.session, account_id, symbol)
            found = self._exposures[key] = Exposure(account_id, symbol, rows, holding)
        return found

    def free_cash(self, account_id: int) -> Decimal:
        return self.balances[account_id].cash + self.moves.delta(account_id, "cash")

    async def finish(self, *, may_reserve: tuple[int, str] | None = None, ref: str) -> None:
        """Release (or, for `may_reserve`, reserve) and write everything."""
        for key, exposure in self._exposures.items():
            change = exposure.rebalance()
            account = exposure.account_id
            if change > 0:
                self.moves.move(
                    (account, "reserved"), (account, "cash"), change, kind="release", ref=ref
                )
            elif change < 0:
                need = -change
                if key != may_reserve:
                    raise Inconsistent(
                        f"account {account} {exposure.symbol}: reservation short by {need}"
                    )
                free = self.free_cash(account)
                if need > free:
                    raise InsufficientFunds(
                        f"insufficient funds: the order needs {need} and {free} is available"
                    )
                self.moves.move(
                    (account, "cash"), (account, "reserved"), need, kind="reserve", ref=ref
                )
            await order_store.save(self.session, exposure.orders)
            if exposure.holding_changed:
                await order_store.save_holding(
                    self.session, account, exposure.symbol, exposure.holding
                )
        await self.moves.flush(self.session)
