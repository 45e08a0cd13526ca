"""The orderbook's tables: orders, trades, and the command journal with its snapshots.

Prices are integer cents of a point (0-10000), the unit the matching engine computes in,
so no conversion happens between the book and its storage. The journal is the source of
truth for recovery: a shard's book is its latest snapshot plus the journal after `seq`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from em_common.db import NAMING_CONVENTION

TIMESTAMP = DateTime(timezone=True)
MAX_PRICE_CENTS = 10_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _cents_range(column: str) -> str:
    return f"{column} >= 0 AND {column} <= {MAX_PRICE_CENTS}"


class Order(Base):
    """An order as the book knows it; `(account_id, client_order_id)` makes placing idempotent.

    `account_id` is the backend's account id, deliberately without a foreign key: the
    orderbook does not own, and must not depend on, the backend's tables.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        CheckConstraint("side IN ('buy', 'sell')", name="side"),
        CheckConstraint("type IN ('limit', 'market')", name="type"),
        CheckConstraint("tif IN ('gtc', 'ioc', 'fok')", name="tif"),
        CheckConstraint(
            "status IN ('open', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired')",
            name="status",
        ),
        CheckConstraint(_cents_range("price_cents"), name="price_range"),
        CheckConstraint("type = 'market' OR price_cents IS NOT NULL", name="limit_has_price"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("filled_qty >= 0 AND filled_qty <= qty", name="filled_within_qty"),
        Index(None, "symbol", "status"),
        Index(None, "account_id", "created_at"),
    )

    order_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    client_order_id: Mapped[str] = mapped_column(Text, nullable=False)
    symbol: Mapped[str] = mapped_column(Text, nullable=False)
    side: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    tif: Mapped[str] = mapped_column(Text, nullable=False, server_default="gtc")
    price_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: market
    qty: Mapped[int] = mapped_column(BigInteger, nullable=False)
    filled_qty: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="open")
    created_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now(), onupdate=func.now()
    )


class Trade(Base):
    """A match between a resting (maker) and an incoming (taker) order."""

    __tablename__ = "trades"
    __table_args__ = (
        CheckConstraint(_cents_range("price_cents"), name="price_range"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("taker_side IN ('buy', 'sell')", name="taker_side"),
        Index(None, "symbol", "created_at"),
        Index(None, "maker_order_id"),
        Index(None, "taker_order_id"),
    )

    trade_id: Mapped[str] = mapped_column(Text, primary_key=True)
    symbol: Mapped[str] = mapped_column(Text, nullable=False)
    price_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    qty: Mapped[int] = mapped_column(BigInteger, nullable=False)
    maker_order_id: Mapped[str] = mapped_column(
        Text, ForeignKey("orders.order_id", ondelete="RESTRICT"), nullable=False
    )
    taker_order_id: Mapped[str] = mapped_column(
        Text, ForeignKey("orders.order_id", ondelete="RESTRICT"), nullable=False
    )
    maker_account_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    taker_account_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    taker_side: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )


class JournalEntry(Base):
    """One accepted command (place, cancel, …) in the order the engine applied it."""

    __tablename__ = "orderbook_journal"
    __table_args__ = (Index(None, "shard", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    shard: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )


class Snapshot(Base):
    """A shard's full book state as of journal `seq`; `digest` detects a corrupt restore."""

    __tablename__ = "orderbook_snapshots"
    __table_args__ = (UniqueConstraint("shard", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    shard: Mapped[str] = mapped_column(Text, nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    digest: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )


metadata = Base.metadata
