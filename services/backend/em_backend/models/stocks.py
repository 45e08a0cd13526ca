"""Symbols as the API sees them: what an admin sends and what anyone reads back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from em_backend.domain import indexes
from em_backend.models.text import Text

SymbolStr = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,15}$", examples=["ELON"])]
Weight = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)]
PointsIn = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Alias = Annotated[Text, Field(min_length=1, max_length=100)]


class ComponentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: SymbolStr
    weight: Annotated[Decimal, Field(gt=0, le=1, max_digits=5, decimal_places=4)]


class _Weights(BaseModel):
    @staticmethod
    def _check_weights(market: Decimal, reality: Decimal) -> None:
        if market + reality != 1:
            raise ValueError("market_weight + reality_weight must equal 1")


class StockCreate(_Weights):
    model_config = ConfigDict(extra="forbid")

    symbol: SymbolStr
    name: Text = Field(min_length=1, max_length=100)
    description: Text = Field(default="", max_length=2000)
    kind: Literal["stock", "index"] = "stock"
    components: list[ComponentIn] = Field(default_factory=list, max_length=50)
    aliases: list[Alias] = Field(default_factory=list, max_length=50)
    market_weight: Weight = Decimal("0.6")
    reality_weight: Weight = Decimal("0.4")
    initial_score: PointsIn = Decimal("50")

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._check_weights(self.market_weight, self.reality_weight)
        if self.kind == "stock" and self.components:
            raise ValueError("only an index has components")
        if self.kind == "index":
            indexes.validate(
                self.symbol, [indexes.Component(c.symbol, c.weight) for c in self.components]
            )
        return self


class StockUpdate(_Weights):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=100)
    description: Text | None = Field(default=None, max_length=2000)
    components: list[ComponentIn] | None = Field(default=None, max_length=50)
    aliases: list[Alias] | None = Field(default=None, max_length=50)
    market_weight: Weight | None = None
    reality_weight: Weight | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.market_weight is None) != (self.reality_weight is None):
            raise ValueError("market_weight and reality_weight change together")
        if self.market_weight is not None and self.reality_weight is not None:
            self._check_weights(self.market_weight, self.reality_weight)
        return self


class ComponentPublic(BaseModel):
    symbol: str
    weight: Decimal


class StockPublic(BaseModel):
    symbol: str
    name: str
    description: str
    kind: Literal["stock", "index"]
    components: list[ComponentPublic]
    aliases: list[str]
    market_weight: Decimal
    reality_weight: Decimal
    initial_score: Decimal
    final_price: Decimal | None = None
    reality_score: Decimal | None = None
    market_price: Decimal | None = None
    created_at: datetime
    updated_at: datetime


class StocksPublic(BaseModel):
    data: list[StockPublic]
    count: int


class FinalPublic(BaseModel):
    symbol: str
    final_price: Decimal
    reality_score: Decimal
    market_price: Decimal | None
    market_weight: Decimal
    reality_weight: Decimal
    confidence: Decimal
    market_stale: bool
    last_updated: datetime


class HistoryPointPublic(BaseModel):
    ts: datetime
    final_price: Decimal
    reality_score: Decimal
    market_price: Decimal | None


class HistoryPublic(BaseModel):
    symbol: str
    range: Literal["1h", "1d", "1w", "all"]
    points: list[HistoryPointPublic]
