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
    """One account in one symbol: its position and the orders loaded so far.

    Buy orders are independent of each other (each holds price x live units), so only the
    ones a change touches are loaded. Sell orders share one pool with the long position,
    so touching any of them, or changing the long quantity, loads the whole pool.
    """

    def __init__(
        self, session: AsyncSession, account_id: int, symbol: str, holding: Holding
    ) -> None:
        self.session = session
        self.account_id = account_id
        self.symbol = symbol
        self.holding = holding
        self._initial_long = max(0, holding.quantity)
        self.holding_changed = False
        self.orders: dict[int, order_store.OrderRow] = {}
        self.pool_loaded = False
        self.held = Decimal(0)
        self.taken = Decimal(0)

    def _keep(self, row: order_store.OrderRow) -> order_store.OrderRow:
        held = self.orders.get(row.id)
        if held is not None:
            return held
        self.orders[row.id] = row
        self.held += row.reserved
        return row

    async def load_pool(self) -> None:
        if self.pool_loaded:
            return
        for row in await order_store.live_sells(self.session, self.account_id, self.symbol):
            self._keep(row)
        self.pool_loaded = True

    async def order(
        self, side: str, *, reservation_id: int | None = None, order_id: str | None = None
    ) -> order_store.OrderRow | None:
        """A live order of this account in this symbol, by reservation id or order id."""

        def wanted(r: order_store.OrderRow) -> bool:
            return (reservation_id is not None and r.id == reservation_id) or (
                order_id is not None and r.order_id == order_id
            )

        cached = next((r for r in self.orders.values() if wanted(r)), None)
        if cached is not None:
            return cached
        if side == "sell":
            await self.load_pool()
            return next((r for r in self.orders.values() if wanted(r)), None)
        found = await order_store.live_row(
            self.session,
            self.account_id,
            self.symbol,
            reservation_id=reservation_id,
            order_id=order_id,
        )
        return None if found is None or found.side != side else self._keep(found)

    async def add_new(self, row: order_store.OrderRow) -> None:
        """An order inserted in this transaction (it holds nothing yet)."""
        if row.side == "sell":
            await self.load_pool()
        self._keep(row)

    def forget(self, row: order_store.OrderRow) -> None:
        """An order deleted in this transaction: what it held is released."""
        self.orders.pop(row.id, None)

    def set_holding(self, holding: Holding) -> None:
        self.holding = holding
        self.holding_changed = True

    async def rebalance(self) -> Decimal:
        """Re-attribute the reservation; returns what to release (negative: to reserve)."""
        if max(0, self.holding.quantity) != self._initial_long:
            await self.load_pool()
        rows = list(self.orders.values())
        held = reservations.requirements((o.domain for o in rows), self.holding.quantity)
        for order in rows:
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
            raise Inconsistent(f"account {account_id} is unknown or not locked")
        key = (account_id, symbol)
        found = self._exposures.get(key)
        if found is None:
            holding = await order_store.holding(self.session, account_id, symbol)
            found = self._exposures[key] = Exposure(self.session, account_id, symbol, holding)
        return found

    def free_cash(self, account_id: int) -> Decimal:
        return self.balances[account_id].cash + self.moves.delta(account_id, "cash")

    async def finish(self, *, may_reserve: tuple[int, str] | None = None, ref: str) -> None:
        """Release (or, for `may_reserve`, reserve) and write everything."""
        for key, exposure in self._exposures.items():
            change = await exposure.rebalance()
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
            await order_store.save(self.session, list(exposure.orders.values()))
            if exposure.holding_changed:
                await order_store.save_holding(
                    self.session, account, exposure.symbol, exposure.holding
                )
        await self.moves.flush(self.session)
