"""Traders and their money: balances, positions, the ledger, settlement bookkeeping.

Money only moves between accounts, so balances never go negative and the ledger's legs
of one transaction sum to zero; the first is a constraint, the second the writer's duty.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from em_backend.db.base import (
    AVG_COST,
    MONEY,
    PRICE,
    TIMESTAMP,
    Base,
    created_at,
    price_range,
    updated_at,
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(Text, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()


class Account(Base):
    """A trader's money in three buckets whose total only ever moves between accounts.

    `user_id` is NULL for system accounts, which carry a `system_key` instead. The
    play-money issuer (`system_key = 'issuer'`) is the one balance allowed below zero: it
    pays every starting grant, so its cash is minus the money in circulation and the sum
    over all accounts stays exactly zero.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("user_id"),
        UniqueConstraint("system_key"),
        CheckConstraint("cash >= 0 OR system_key IS NOT NULL", name="cash_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("collateral >= 0", name="collateral_non_negative"),
        CheckConstraint("user_id IS NULL OR system_key IS NULL", name="user_or_system"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    system_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    cash: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    reserved: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    collateral: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Position(Base):
    """Holdings per symbol; `quantity` is negative for a short position.

    `cost_basis` is exact to the cent: what the long units cost, or what selling the short
    units brought in. A short's collateral is then `100 * |quantity| - cost_basis`, and
    `avg_cost` is `cost_basis / |quantity|` kept for display.
    """

    __tablename__ = "positions"
    __table_args__ = (
        CheckConstraint(price_range("avg_cost"), name="avg_cost_range"),
        CheckConstraint("cost_basis >= 0", name="cost_basis_non_negative"),
        CheckConstraint("quantity <> 0 OR cost_basis = 0", name="flat_has_no_basis"),
        Index(None, "symbol"),
    )

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(
        Text, ForeignKey("stocks.symbol", ondelete="RESTRICT"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    avg_cost: Mapped[Decimal] = mapped_column(AVG_COST, nullable=False, server_default="0")
    cost_basis: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = updated_at()


class LedgerEntry(Base):
    """One leg of a double-entry transaction: the legs sharing a `txn_id` sum to zero.

    `bucket` says which balance of the account moved; `kind` says why (trade, reserve,
    release, grant, …); `ref` names the trade or order behind it.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("bucket IN ('cash', 'reserved', 'collateral')", name="bucket"),
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        Index(None, "account_id", "created_at"),
        Index(None, "txn_id"),
        Index(None, "ref"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    txn_id: Mapped[str] = mapped_column(Text, nullable=False)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    bucket: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    ref: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created_at()


class SettledTrade(Base):
    """A trade from the MARKET stream already applied to accounts; makes settling idempotent."""

    __tablename__ = "settled_trades"
    __table_args__ = (
        CheckConstraint(price_range("price"), name="price_range"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("taker_side IN ('buy', 'sell')", name="taker_side"),
        Index(None, "symbol", "settled_at"),
        Index(None, "buyer_account_id"),
        Index(None, "seller_account_id"),
        Index(None, "buy_order_id"),
        Index(None, "sell_order_id"),
    )

    trade_id: Mapped[str] = mapped_column(Text, primary_key=True)
    symbol: Mapped[str] = mapped_column(
        Text, ForeignKey("stocks.symbol", ondelete="RESTRICT"), nullable=False
    )
    buyer_account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    seller_account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    buy_order_id: Mapped[str] = mapped_column(Text, nullable=False)
    sell_order_id: Mapped[str] = mapped_column(Text, nullable=False)
    taker_side: Mapped[str] = mapped_column(Text, nullable=False)
    price: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    qty: Mapped[int] = mapped_column(BigInteger, nullable=False)
    executed_at: Mapped[datetime] = mapped_column(TIMESTAMP, nullable=False)
    settled_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )


class OrderReservation(Base):
    """The backend's side of an order: the funds it holds back until fills or cancel.

    Written before the order reaches the book (so `order_id` is NULL until the orderbook
    answers); `(account_id, client_order_id)` makes a retried submission find its row.
    The live quantity is `qty - filled_qty - closed_qty`: fills count when settled, closed
    units (cancelled, rejected, IOC/FOK remainders) when the orderbook reports them.
    """

    __tablename__ = "order_reservations"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        UniqueConstraint("order_id"),
        CheckConstraint("side IN ('buy', 'sell')", name="side"),
        CheckConstraint(
            "status IN ('pending', 'open', 'filled', 'cancelled', 'rejected')", name="status"
        ),
        CheckConstraint(price_range("price"), name="price_range"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("order_type IN ('limit', 'market')", name="order_type"),
        CheckConstraint("time_in_force IN ('GTC', 'IOC', 'FOK')", name="time_in_force"),
        CheckConstraint(
            "filled_qty >= 0 AND closed_qty >= 0 AND filled_qty + closed_qty <= qty",
            name="progress_within_qty",
        ),
        CheckConstraint("filled_value >= 0", name="filled_value_non_negative"),
        Index(None, "account_id", "status"),
        Index(None, "account_id", "symbol", "side"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    client_order_id: Mapped[str] = mapped_column(Text, nullable=False)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    symbol: Mapped[str] = mapped_column(
        Text, ForeignKey("stocks.symbol", ondelete="RESTRICT"), nullable=False
    )
    side: Mapped[str] = mapped_column(Text, nullable=False)
    price: Mapped[Decimal | None] = mapped_column(PRICE, nullable=True)  # NULL: market order
    qty: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reserved: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    order_type: Mapped[str] = mapped_column(Text, nullable=False, server_default="limit")
    time_in_force: Mapped[str] = mapped_column(Text, nullable=False, server_default="GTC")
    filled_qty: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    closed_qty: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    filled_value: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
