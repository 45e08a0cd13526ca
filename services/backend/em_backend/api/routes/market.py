"""Public market data of a symbol: the book, the pressure behind its Market Price, trades."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from grpc import aio as grpc_aio

from em_backend import errors
from em_backend.api.deps import RuntimeDep, SessionDep, TradingDep
from em_backend.domain import reservations
from em_backend.models import trading as models
from em_backend.store import trades as trade_store
from everything_market.v1 import orderbook_pb2 as pb

router = APIRouter(prefix="/api/v1/market", tags=["market"])

SymbolPath = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,15}$", examples=["ELON"])]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown symbol"}}


async def _known(runtime: RuntimeDep, symbol: str) -> None:
    if runtime.quotes.get(symbol) is None and await runtime.load_quote(symbol) is None:
        raise errors.NotFound(f"unknown symbol {symbol}")


def _price(cents: int | None) -> Any:
    return None if cents is None else reservations.from_cents(cents)


@router.get(
    "/{symbol}/snapshot",
    response_model=models.SnapshotPublic,
    responses={**NOT_FOUND, 503: {"description": "The orderbook is unreachable, no book seen"}},
)
async def snapshot(
    symbol: SymbolPath,
    runtime: RuntimeDep,
    trading: TradingDep,
    depth: Annotated[int, Query(ge=1, le=100)] = 10,
) -> models.SnapshotPublic:
    """Top of the book from the orderbook (or the last book update seen, marked stale)."""
    await _known(runtime, symbol)
    try:
        resp = await runtime.orderbook.call(
            "GetSnapshot", pb.GetSnapshotRequest(symbol=symbol, depth=depth)
        )
    except (errors.OrderbookUnavailable, grpc_aio.AioRpcError) as exc:
        book = trading.feed.books.get(symbol)
        if book is None:
            raise errors.Unavailable("the orderbook is unavailable") from exc
        return models.SnapshotPublic(
            symbol=symbol,
            bids=[models.LevelPublic(price=b.price, quantity=b.quantity) for b in book.bids][
                :depth
            ],
            asks=[models.LevelPublic(price=a.price, quantity=a.quantity) for a in book.asks][
                :depth
            ],
            last_trade_price=book.last_price,
            market_price=None,
            seq=book.seq,
            stale=True,
        )
    return models.SnapshotPublic(
        symbol=symbol,
        bids=[_level(level) for level in resp.bids],
        asks=[_level(level) for level in resp.asks],
        last_trade_price=_price(
            resp.last_trade_price_cents if resp.HasField("last_trade_price_cents") else None
        ),
        market_price=_price(
            resp.market_price_cents if resp.HasField("market_price_cents") else None
        ),
        seq=resp.seq,
        stale=False,
    )


def _level(level: pb.PriceLevel) -> models.LevelPublic:
    return models.LevelPublic(
        price=reservations.from_cents(level.price_cents),
        quantity=level.quantity,
        orders=level.orders,
    )


@router.get("/{symbol}/pressure", response_model=models.PressurePublic, responses=NOT_FOUND)
async def pressure(symbol: SymbolPath, runtime: RuntimeDep) -> models.PressurePublic:
    """Buy/sell volume and net pressure over the last hour (last known value when stale)."""
    await _known(runtime, symbol)
    p = await runtime.orderbook.pressure(symbol)
    return models.PressurePublic(
        symbol=symbol,
        market_price=p.market_price,
        buy_volume=p.buy_volume,
        sell_volume=p.sell_volume,
        net_pressure=p.net_pressure,
        trades=p.trades,
        stale=p.stale,
    )


@router.get("/{symbol}/trades", response_model=models.MarketTradesPublic, responses=NOT_FOUND)
async def market_trades(
    symbol: SymbolPath,
    runtime: RuntimeDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> models.MarketTradesPublic:
    """Recent settled trades of the symbol, newest first (no account details)."""
    await _known(runtime, symbol)
    rows = await trade_store.for_symbol(session, symbol, limit)
    data = [
        models.MarketTradePublic(
            trade_id=r.trade_id,
            symbol=r.symbol,
            price=r.price,
            quantity=r.qty,
            taker_side="buy" if r.taker_side == "buy" else "sell",
            executed_at=r.executed_at,
        )
        for r in rows
    ]
    return models.MarketTradesPublic(data=data, count=len(data))
