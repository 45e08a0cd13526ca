"""The catalogue: stocks rows and their current scores, read and written in one session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend import errors
from em_backend.db import tables
from em_backend.domain import blending, history, indexes
from em_backend.market.quotes import Quote
from em_backend.models import stocks as models


async def get(session: AsyncSession, symbol: str) -> tables.Stock:
    stock = await session.get(tables.Stock, symbol)
    if stock is None:
        raise errors.NotFound(f"unknown symbol {symbol}")
    return stock


async def list_all(session: AsyncSession) -> Sequence[tables.Stock]:
    result = await session.scalars(select(tables.Stock).order_by(tables.Stock.symbol))
    return result.all()


async def existing(session: AsyncSession, symbols: Iterable[str]) -> set[str]:
    wanted = set(symbols)
    result = await session.scalars(
        select(tables.Stock.symbol).where(tables.Stock.symbol.in_(wanted))
    )
    return set(result.all())


async def index_definitions(session: AsyncSession) -> dict[str, list[indexes.Component]]:
    result = await session.execute(
        select(tables.Stock.symbol, tables.Stock.components).where(tables.Stock.kind == "index")
    )
    return {symbol: indexes.parse(components) for symbol, components in result.all()}


async def create(session: AsyncSession, body: models.StockCreate) -> tables.Stock:
    """Insert a symbol with its score row; an index starts at its components' average."""
    now = datetime.now(UTC)
    components = [indexes.Component(c.symbol, c.weight) for c in body.components]
    reality = blending.to_cents(body.initial_score)
    if body.kind == "index":
        await _check_components(session, components)
        scores = await reality_scores(session, [c.symbol for c in components])
        reality = indexes.weighted_average(components, scores)
    stock = tables.Stock(
        symbol=body.symbol,
        name=body.name,
        description=body.description,
        kind=body.kind,
        components=indexes.dump(components),
        aliases=list(body.aliases),
        market_weight=body.market_weight,
        reality_weight=body.reality_weight,
        initial_score=body.initial_score,
        created_at=now,
        updated_at=now,
    )
    session.add(stock)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise errors.Conflict(f"symbol {body.symbol} already exists") from exc
    session.add(
        tables.Score(
            symbol=body.symbol,
            reality_score=reality,
            market_price=None,
            final_price=reality,
            confidence=Decimal(0),
            updated_at=now,
        )
    )
    session.add(
        tables.ScoreHistory(
            symbol=body.symbol,
            ts=now,
            final_price=reality,
            reality_score=reality,
            market_price=None,
        )
    )
    await session.flush()
    return stock


async def update(session: AsyncSession, symbol: str, body: models.StockUpdate) -> tables.Stock:
    stock = await session.get(tables.Stock, symbol, with_for_update=True)
    if stock is None:
        raise errors.NotFound(f"unknown symbol {symbol}")
    if body.name is not None:
        stock.name = body.name
    if body.description is not None:
        stock.description = body.description
    if body.aliases is not None:
        stock.aliases = list(body.aliases)
    if body.market_weight is not None and body.reality_weight is not None:
        stock.market_weight = body.market_weight
        stock.reality_weight = body.reality_weight
    if body.components is not None:
        if stock.kind != "index":
            raise errors.Invalid("only an index has components")
        components = [indexes.Component(c.symbol, c.weight) for c in body.components]
        try:
            indexes.validate(symbol, components)
        except ValueError as exc:
            raise errors.Invalid(str(exc)) from exc
        await _check_components(session, components)
        stock.components = indexes.dump(components)
    stock.updated_at = datetime.now(UTC)
    await session.flush()
    return stock


async def _check_components(session: AsyncSession, components: Sequence[indexes.Component]) -> None:
    """Components must be listed stocks (not indexes: one level keeps recomputes simple)."""
    result = await session.execute(
        select(tables.Stock.symbol, tables.Stock.kind).where(
            tables.Stock.symbol.in_({c.symbol for c in components})
        )
    )
    kinds = dict(result.all())
    missing = sorted({c.symbol for c in components} - kinds.keys())
    if missing:
        raise errors.Invalid(f"unknown component symbols: {', '.join(missing)}")
    nested = sorted(s for s, kind in kinds.items() if kind == "index")
    if nested:
        raise errors.Invalid(f"components must be stocks, not indexes: {', '.join(nested)}")


async def reality_scores(session: AsyncSession, symbols: Iterable[str]) -> dict[str, Decimal]:
    result = await session.execute(
        select(tables.Score.symbol, tables.Score.reality_score).where(
            tables.Score.symbol.in_(set(symbols))
        )
    )
    return {symbol: score for symbol, score in result.all()}


async def load_quotes(session: AsyncSession) -> list[Quote]:
    """Every symbol's current quote, for the in-memory QuoteBook."""
    result = await session.execute(
        select(tables.Stock, tables.Score).join(
            tables.Score, tables.Score.symbol == tables.Stock.symbol
        )
    )
    return [quote_of(stock, score, stale=False) for stock, score in result.all()]


def quote_of(stock: tables.Stock, score: tables.Score, *, stale: bool) -> Quote:
    return Quote(
        symbol=stock.symbol,
        final=score.final_price,
        reality=score.reality_score,
        market=score.market_price,
        market_weight=stock.market_weight,
        reality_weight=stock.reality_weight,
        confidence=score.confidence,
        stale=stale,
        last_updated=score.updated_at,
    )


async def history_points(
    session: AsyncSession, symbol: str, since: datetime | None, limit: int = 100_000
) -> list[history.Point]:
    """Points oldest first; at most `limit` of the newest when the range is huge."""
    query = select(
        tables.ScoreHistory.ts,
        tables.ScoreHistory.final_price,
        tables.ScoreHistory.reality_score,
        tables.ScoreHistory.market_price,
    ).where(tables.ScoreHistory.symbol == symbol)
    if since is not None:
        query = query.where(tables.ScoreHistory.ts >= since)
    query = query.order_by(tables.ScoreHistory.ts.desc(), tables.ScoreHistory.id.desc())
    rows = (await session.execute(query.limit(limit))).all()
    return [
        history.Point(ts, final, reality, market) for ts, final, reality, market in reversed(rows)
    ]
