"""The pure matching engine: price-time priority books, no I/O, no clock, deterministic.

The gRPC server owns one `Engine`, calls `place` / `cancel` and turns the reports (plain
tuples; `PlaceReport.of` / `CancelReport.of` name them) into responses, journal entries and
published trades.
"""

from __future__ import annotations

from em_orderbook.engine.errors import EngineError, SnapshotError, UnknownSymbolError
from em_orderbook.engine.matching import Engine
from em_orderbook.engine.orders import (
    ACCEPTED,
    ALREADY_DONE,
    BUY,
    CANCELLED,
    FOK,
    FOK_UNFILLABLE,
    GTC,
    INVALID_ARGUMENT,
    IOC,
    LIMIT,
    MARKET,
    MAX_PRICE,
    MAX_QTY,
    MIN_PRICE,
    MIN_QTY,
    NO_LIQUIDITY,
    NOT_OWNER,
    REJECTED,
    SELL,
    UNKNOWN_ORDER,
    UNKNOWN_SYMBOL,
    CancelledOrder,
    CancelReport,
    CancelTuple,
    Fill,
    FillTuple,
    OrderView,
    PlaceReport,
    PlaceTuple,
    SelfTradeTuple,
)

__all__ = [
    "ACCEPTED",
    "ALREADY_DONE",
    "BUY",
    "CANCELLED",
    "FOK",
    "FOK_UNFILLABLE",
    "GTC",
    "INVALID_ARGUMENT",
    "IOC",
    "LIMIT",
    "MARKET",
    "MAX_PRICE",
    "MAX_QTY",
    "MIN_PRICE",
    "MIN_QTY",
    "NOT_OWNER",
    "NO_LIQUIDITY",
    "REJECTED",
    "SELL",
    "UNKNOWN_ORDER",
    "UNKNOWN_SYMBOL",
    "CancelReport",
    "CancelTuple",
    "CancelledOrder",
    "Engine",
    "EngineError",
    "Fill",
    "FillTuple",
    "OrderView",
    "PlaceReport",
    "PlaceTuple",
    "SelfTradeTuple",
    "SnapshotError",
    "UnknownSymbolError",
]
