"""Orders, fills, portfolio and public market data as the API sees them.

Prices are points on the 0-100 scale with two decimals; money is credits to the cent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from em_common import constants

SymbolStr = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,15}$", examples=["ELON"])]
LimitPrice = Annotated[
    Decimal, Field(ge=Decimal("0.01"), le=Decimal("99.99"), max_digits=4, decimal_places=2)
]
ClientOrderId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", examples=["c-1"])
]
OrderStatus = Literal["pending", "open", "partially_filled", "filled", "cancelled", "rejected"]


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: SymbolStr
    side: Literal["buy", "sell"]
    type: Literal["limit", "market"] = "limit"
    time_in_force: Literal["GTC", "IOC", "FOK"] | None = Field(
        None, description="Default GTC for limit orders, IOC for market orders (never GTC)"
    )
    price: LimitPrice | None = Field(
        None, description="Required for limit orders; ignored for market"
    )
    quantity: int = Field(ge=constants.QUANTITY_MIN, le=constants.QUANTITY_MAX)
    client_order_id: ClientOrderId | None = Field(
        None,
        description="Idempotency key: a retry with the same id never places a second order",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.type == "limit" and self.price is None:
            raise ValueError("a limit order needs a price")
        if self.type == "market" and self.time_in_force == "GTC":
            raise ValueError("a market order cannot rest: use IOC or FOK")
        return self

    @property
    def tif(self) -> str:
        return self.time_in_force or ("GTC" if self.type == "limit" else "IOC")

    @property
    def limit(self) -> Decimal | None:
        return self.price if self.type == "limit" else None


class FillPublic(BaseModel):
    trade_id: str
    price: Decimal
    quantity: int
    liquidity: Literal["taker", "maker"]


class OrderPublic(BaseModel):
    order_id: str | None = Field(description="The orderbook's id; null until it has answered")
    client_order_id: str
    symbol: str
    side: Literal["buy", "sell"]
    type: Literal["limit", "market"]
    time_in_force: Literal["GTC", "IOC", "FOK"]
    price: Decimal | None
    quantity: int
    filled_quantity: int = Field(description="Settled fills")
    remaining_quantity: int = Field(description="Neither settled nor cancelled")
    average_fill_price: Decimal | None
    reserved: Decimal = Field(description="Cash this order holds back right now")
    status: OrderStatus
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime


class OrderPlaced(OrderPublic):
    fills: list[FillPublic] = Field(description="Fills the orderbook reported for this order")
    duplicate: bool = Field(description="True when this answers a retry of an earlier request")


class OrdersPublic(BaseModel):
    data: list[OrderPublic]
    count: int


class TradePublic(BaseModel):
    """One of the trader's own fills."""

    trade_id: str
    symbol: str
    side: Literal["buy", "sell"]
    order_id: str
    price: Decimal
    quantity: int
    liquidity: Literal["taker", "maker"]
    executed_at: datetime
    settled_at: datetime


class TradesPublic(BaseModel):
    data: list[TradePublic]
    count: int


class PositionPublic(BaseModel):
    symbol: str
    quantity: int = Field(description="Negative when short")
    average_cost: Decimal
    cost_basis: Decimal
    mark_price: Decimal | None = Field(description="The Final Price the position is marked at")
    market_value: Decimal | None
    unrealized_pnl: Decimal | None
    collateral: Decimal = Field(description="Posted for a short position")


class PortfolioPublic(BaseModel):
    cash: Decimal
    reserved: Decimal
    collateral: Decimal
    positions: list[PositionPublic]
    positions_value: Decimal = Field(description="Sum of quantity x mark price")
    unrealized_pnl: Decimal
    equity: Decimal = Field(description="cash + reserved + collateral + positions_value")
    starting_cash: Decimal


class LevelPublic(BaseModel):
    price: Decimal
    quantity: int
    orders: int | None = None


class SnapshotPublic(BaseModel):
    symbol: str
    bids: list[LevelPublic]
    asks: list[LevelPublic]
    last_trade_price: Decimal | None
    market_price: Decimal | None
    seq: int
    stale: bool = Field(description="True when served from the last book update seen")


class PressurePublic(BaseModel):
    symbol: str
    market_price: Decimal | None
    buy_volume: int
    sell_volume: int
    net_pressure: float
    trades: int
    stale: bool


class MarketTradePublic(BaseModel):
    trade_id: str
    symbol: str
    price: Decimal
    quantity: int
    taker_side: Literal["buy", "sell"]
    executed_at: datetime


class MarketTradesPublic(BaseModel):
    data: list[MarketTradePublic]
    count: int
