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

    `user_id` is NULL for system accounts (the play-money issuer, for instance).
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("user_id"),
        CheckConstraint("cash >= 0", name="cash_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("collateral >= 0", name="collateral_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    cash: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    reserved: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    collateral: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Position(Base):
    """Holdings per symbol; `quantity` is negative for a short position."""

    __tablename__ = "positions"
    __table_args__ = (
        CheckConstraint(price_range("avg_cost"), name="avg_cost_range"),
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
        Index(None, "symbol", "settled_at"),
        Index(None, "buyer_account_id"),
        Index(None, "seller_account_id"),
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
    price: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    qty: Mapped[int] = mapped_column(BigInteger, nullable=False)
    settled_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )


class OrderReservation(Base):
    """The backend's side of an order: the funds it holds back until fills or cancel.

    Written before the order reaches the book (so `order_id` is NULL until the orderbook
    answers); `(account_id, client_order_id)` makes a retried submission find its row.
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
        Index(None, "account_id", "status"),
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
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
