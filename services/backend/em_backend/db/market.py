"""Catalogue and scoring tables: what is listed, its prices, and why they moved.

A bug in a handler must fail loudly rather than store a price outside 0-100 or weights
that do not sum to 1, so those rules are constraints here as well as checks in code.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from em_backend.db.base import PRICE, TIMESTAMP, WEIGHT, Base, created_at, price_range, updated_at


class Stock(Base):
    """A listed symbol; `kind='index'` rows derive their scores from `components`."""

    __tablename__ = "stocks"
    __table_args__ = (
        CheckConstraint(r"symbol ~ '^[A-Z0-9_]{1,32}$'", name="symbol_format"),
        CheckConstraint("kind IN ('stock', 'index')", name="kind"),
        CheckConstraint("jsonb_typeof(components) = 'array'", name="components_array"),
        CheckConstraint(
            "kind = 'index' OR jsonb_array_length(components) = 0", name="components_only_index"
        ),
        CheckConstraint(
            "min_price >= 0 AND min_price < max_price AND max_price <= 100", name="price_bounds"
        ),
        CheckConstraint(price_range("initial_score"), name="initial_score_range"),
        CheckConstraint("market_weight >= 0 AND market_weight <= 1", name="market_weight_range"),
        CheckConstraint("reality_weight >= 0 AND reality_weight <= 1", name="reality_weight_range"),
        CheckConstraint("market_weight + reality_weight = 1", name="weights_sum"),
    )

    symbol: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    kind: Mapped[str] = mapped_column(Text, nullable=False, server_default="stock")
    # [{"symbol": "ELON", "weight": "0.5"}, …] for indexes; weights are validated by the app.
    components: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    aliases: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    min_price: Mapped[Decimal] = mapped_column(PRICE, nullable=False, server_default="0")
    max_price: Mapped[Decimal] = mapped_column(PRICE, nullable=False, server_default="100")
    market_weight: Mapped[Decimal] = mapped_column(WEIGHT, nullable=False, server_default="0.6")
    reality_weight: Mapped[Decimal] = mapped_column(WEIGHT, nullable=False, server_default="0.4")
    initial_score: Mapped[Decimal] = mapped_column(PRICE, nullable=False, server_default="50")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Score(Base):
    """The current three prices of a symbol; one row per symbol."""

    __tablename__ = "scores"
    __table_args__ = (
        CheckConstraint(price_range("reality_score"), name="reality_score_range"),
        CheckConstraint(price_range("market_price"), name="market_price_range"),
        CheckConstraint(price_range("final_price"), name="final_price_range"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
    )

    symbol: Mapped[str] = mapped_column(
        Text, ForeignKey("stocks.symbol", ondelete="CASCADE"), primary_key=True
    )
    reality_score: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    market_price: Mapped[Decimal | None] = mapped_column(PRICE, nullable=True)
    final_price: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    confidence: Mapped[Decimal] = mapped_column(WEIGHT, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = updated_at()


class ScoreHistory(Base):
    """Points for charts, appended whenever a symbol's prices change."""

    __tablename__ = "score_history"
    __table_args__ = (
        Index(None, "symbol", "ts"),
        CheckConstraint(price_range("final_price"), name="final_price_range"),
        CheckConstraint(price_range("reality_score"), name="reality_score_range"),
        CheckConstraint(price_range("market_price"), name="market_price_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    symbol: Mapped[str] = mapped_column(
        Text, ForeignKey("stocks.symbol", ondelete="CASCADE"), nullable=False
    )
    ts: Mapped[datetime] = mapped_column(TIMESTAMP, nullable=False, server_default=func.now())
    final_price: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    reality_score: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    market_price: Mapped[Decimal | None] = mapped_column(PRICE, nullable=True)


class Event(Base):
    """A reality event as received; `event_id` makes redelivery harmless."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("event_id"),
        CheckConstraint("status IN ('applied', 'pending_review', 'rejected')", name="status"),
        Index(None, "status", "received_at"),
        # The public feed: applied events newest first, keyset on (decided_at, id).
        Index(None, "status", "decided_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )
    decided_at: Mapped[datetime | None] = mapped_column(TIMESTAMP, nullable=True)


class LlmAudit(Base):
    """A suspicious score change held for an admin, and the admin's decision."""

    __tablename__ = "llm_audit"
    __table_args__ = (
        CheckConstraint("decision IN ('approve', 'reject')", name="decision"),
        CheckConstraint("(decision IS NULL) = (approved_at IS NULL)", name="decision_has_time"),
        Index(None, "event_id"),
        Index(None, "symbol", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(
        Text, ForeignKey("events.event_id", ondelete="CASCADE"), nullable=False
    )
    symbol: Mapped[str] = mapped_column(
        Text, ForeignKey("stocks.symbol", ondelete="CASCADE"), nullable=False
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    delta: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    decision: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(TIMESTAMP, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created_at()


class ScoreChange(Base):
    """Every movement of a Reality Score, with its cause; feeds the 24 h source-share rule."""

    __tablename__ = "score_changes"
    __table_args__ = (
        CheckConstraint(price_range("old_score"), name="old_score_range"),
        CheckConstraint(price_range("new_score"), name="new_score_range"),
        Index(None, "symbol", "created_at"),
        Index(None, "event_id"),
        Index(None, "source", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    symbol: Mapped[str] = mapped_column(
        Text, ForeignKey("stocks.symbol", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("events.event_id", ondelete="SET NULL"), nullable=True
    )
    old_score: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    new_score: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    delta: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()


class LlmCall(Base):
    """One LLM request as reported by the Reality Engine; counted for the hourly budget."""

    __tablename__ = "llm_calls"
    __table_args__ = (
        CheckConstraint("latency_ms >= 0", name="latency_non_negative"),
        Index(None, "event_id"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # No foreign key: a call may precede its event, or its output may have been discarded.
    event_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    model: Mapped[str] = mapped_column(Text, nullable=False)
    input_hash: Mapped[str] = mapped_column(Text, nullable=False)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    valid: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = created_at()
