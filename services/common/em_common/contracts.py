"""JSON payloads that travel over NATS (and the HTTP ingest), validated on both ends.

The reality event keeps the seed system's contract; trades and book updates are published by
the orderbook and consumed by the backend. Prices on the wire are points with two decimals
(exact Decimal), quantities are integers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Symbol = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]
Points = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]

REALITY_SUBJECT = "reality.events"
CONTROL_BUCKET = "em-control"


def trades_subject(symbol: str) -> str:
    return f"market.{symbol}.trades"


def book_subject(symbol: str) -> str:
    return f"market.{symbol}.book"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Model):
    id: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000)
    trust: float = Field(ge=0, le=1)


class LlmCall(_Model):
    """One LLM call made for an event; the backend stores it in `llm_calls`."""

    model: str
    input_hash: str
    output: dict[str, object] | None = None
    latency_ms: int = Field(ge=0)
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    outcome: Literal["used", "invalid_json", "timeout", "error"] = "used"


class RealityEvent(_Model):
    """A scored news event moving the Reality Score of one or more symbols."""

    event_id: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    timestamp: datetime
    stocks: list[Symbol] = Field(min_length=1, max_length=50)
    quick_score: float = Field(ge=-1, le=1)
    impact_points: Decimal = Field(ge=-100, le=100, max_digits=5, decimal_places=2)
    summary: str = Field(max_length=2000)
    sources: list[SourceRef] = Field(min_length=1, max_length=100)
    num_independent_sources: int = Field(ge=1)
    llm_mode: Literal["disabled", "skipped", "used", "fallback", "budget_exhausted"]
    llm_calls: list[LlmCall] = Field(default_factory=list, max_length=10)

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamp must carry a timezone")
        return value.astimezone(UTC)


class TradeEvent(_Model):
    """A fill in the orderbook: published once per trade, `Nats-Msg-Id` = trade_id."""

    trade_id: str
    symbol: Symbol
    seq: int = Field(ge=1)
    price: Points
    quantity: int = Field(ge=1)
    taker_side: Literal["buy", "sell"]
    buy_order_id: str
    sell_order_id: str
    buy_account_id: str
    sell_account_id: str
    executed_at: datetime


class BookLevel(_Model):
    price: Points
    quantity: int = Field(ge=0)


class BookEvent(_Model):
    """Top levels of a symbol's book after a change; `seq` lets consumers spot a gap."""

    symbol: Symbol
    seq: int = Field(ge=1)
    bids: list[BookLevel]
    asks: list[BookLevel]
    last_price: Points | None = None
    at: datetime


class MaintenanceState(_Model):
    enabled: bool = False
    message: str = ""
    until: datetime | None = None


class Announcement(_Model):
    message: str
    starts_at: datetime


class AdminAccess(_Model):
    enabled: bool = True
