"""Public market data of listed symbols: the catalogue, quotes and chart history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from em_backend import errors
from em_backend.api.deps import RuntimeDep, SessionDep
from em_backend.db import tables
from em_backend.domain import history
from em_backend.market.quotes import QuoteBook
from em_backend.models import stocks as models
from em_backend.runtime import Runtime
from em_backend.store import stocks as stock_store

router = APIRouter(prefix="/api/v1/stocks", tags=["stocks"])

SymbolPath = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,15}$", examples=["ELON"])]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown symbol"}}


def to_public(stock: tables.Stock, quotes: QuoteBook) -> models.StockPublic:
    quote = quotes.get(stock.symbol)
    return models.StockPublic(
        symbol=stock.symbol,
        name=stock.name,
        description=stock.description,
        kind="index" if stock.kind == "index" else "stock",
        components=[models.ComponentPublic.model_validate(c) for c in stock.components],
        aliases=list(stock.aliases),
        market_weight=stock.market_weight,
        reality_weight=stock.reality_weight,
        initial_score=stock.initial_score,
        final_price=quote.final if quote else None,
        reality_score=quote.reality if quote else None,
        market_price=quote.market if quote else None,
        created_at=stock.created_at,
        updated_at=stock.updated_at,
    )


@router.get("", response_model=models.StocksPublic)
async def list_stocks(session: SessionDep, runtime: RuntimeDep) -> models.StocksPublic:
    """All listed symbols with their current prices."""
    rows = await stock_store.list_all(session)
    data = [to_public(row, runtime.quotes) for row in rows]
    return models.StocksPublic(data=data, count=len(data))


@router.get("/{symbol}", response_model=models.StockPublic, responses=NOT_FOUND)
async def get_stock(
    symbol: SymbolPath, session: SessionDep, runtime: RuntimeDep
) -> models.StockPublic:
    """One symbol's definition and current prices."""
    return to_public(await stock_store.get(session, symbol), runtime.quotes)


@router.get("/{symbol}/final", response_model=models.FinalPublic, responses=NOT_FOUND)
async def get_final(symbol: SymbolPath, request: Request) -> Response:
    """Final, Reality and Market prices with weights and confidence (served from memory)."""
    # The hot read: the runtime straight from app state, no dependency to solve.
    runtime: Runtime = request.app.state.runtime
    quote = runtime.quotes.get(symbol)
    if quote is None:
        quote = await runtime.load_quote(symbol)
    if quote is None:
        raise errors.NotFound(f"unknown symbol {symbol}")
    return Response(quote.json_bytes, media_type="application/json")


@router.get("/{symbol}/history", response_model=models.HistoryPublic, responses=NOT_FOUND)
async def get_history(
    symbol: SymbolPath,
    session: SessionDep,
    range_: Annotated[Literal["1h", "1d", "1w", "all"], Query(alias="range")] = "1d",
    points: Annotated[int, Query(ge=10, le=2000)] = history.DEFAULT_POINTS,
) -> models.HistoryPublic:
    """Final/Reality/Market time series for charts, downsampled to at most `points`."""
    await stock_store.get(session, symbol)
    since = history.since(range_, datetime.now(UTC))
    rows = await stock_store.history_points(session, symbol, since)
    kept = history.downsample(rows, points)
    return models.HistoryPublic(
        symbol=symbol,
        range=range_,
        points=[
            models.HistoryPointPublic(
                ts=p.ts, final_price=p.final, reality_score=p.reality, market_price=p.market
            )
            for p in kept
        ],
    )
