"""Writing prices: move Reality Scores for an event, recompute indexes and Final Prices.

Runs inside the caller's transaction. Score rows are locked in symbol order (`FOR UPDATE`)
so concurrent writers (ingest on one replica, a trade on another) serialise per symbol
and never deadlock. Market prices are fetched by the caller *before* the locks are taken:
a slow orderbook must not hold rows locked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend.db import tables
from em_backend.domain import blending, indexes
from em_backend.market.orderbook import Pressure
from em_backend.market.quotes import Quote
from em_backend.store import stocks as stock_store
from em_common import contracts

WINDOW_24H = timedelta(hours=24)
ADMIN_SOURCE = "admin:components"


@dataclass(frozen=True)
class Change:
    symbol: str
    old: Decimal
    new: Decimal

    @property
    def delta(self) -> Decimal:
        return self.new - self.old


def primary_source(event: contracts.RealityEvent) -> str:
    """The source an event's impact is attributed to (the publisher lists it first)."""
    return event.sources[0].id


async def source_impacts_24h(
    session: AsyncSession, symbol: str, now: datetime
) -> dict[str, Decimal]:
    """Absolute Reality Score movement per source for a symbol over the last 24 h."""
    result = await session.execute(
        select(tables.ScoreChange.source, func.sum(func.abs(tables.ScoreChange.delta)))
        .where(
            tables.ScoreChange.symbol == symbol,
            tables.ScoreChange.created_at > now - WINDOW_24H,
        )
        .group_by(tables.ScoreChange.source)
    )
    return {source: Decimal(total or 0) for source, total in result.all()}


async def _lock(
    session: AsyncSession, symbols: Iterable[str]
) -> dict[str, tuple[tables.Stock, tables.Score]]:
    result = await session.execute(
        select(tables.Stock, tables.Score)
        .join(tables.Score, tables.Score.symbol == tables.Stock.symbol)
        .where(tables.Stock.symbol.in_(set(symbols)))
        .order_by(tables.Stock.symbol)
        .with_for_update(of=tables.Score)
    )
    return {stock.symbol: (stock, score) for stock, score in result.all()}


async def apply_event(
    session: AsyncSession,
    event: contracts.RealityEvent,
    index_defs: Mapping[str, list[indexes.Component]],
    pressures: Mapping[str, Pressure],
    now: datetime | None = None,
) -> tuple[list[Change], list[Quote]]:
    """Move each named stock by the event's impact, then indexes, then Final Prices."""
    now = now or datetime.now(UTC)
    source = primary_source(event)
    direct = sorted({s for s in event.stocks if s not in index_defs})
    affected_indexes = sorted({i for s in direct for i in indexes.containing(s, index_defs)})
    # Index rows are derived from their components: lock them too, read components after.
    locked = await _lock(session, [*direct, *affected_indexes])
    changes: list[Change] = []
    for symbol in direct:
        _, score = locked[symbol]
        new = blending.move_reality(score.reality_score, event.impact_points)
        changes.append(Change(symbol, score.reality_score, new))
        score.reality_score = new
    if affected_indexes:
        component_symbols = {c.symbol for i in affected_indexes for c in index_defs[i]}
        values = await stock_store.reality_scores(session, component_symbols)
        values.update({c.symbol: c.new for c in changes})
        for index in affected_indexes:
            _, score = locked[index]
            new = indexes.weighted_average(index_defs[index], values)
            changes.append(Change(index, score.reality_score, new))
            score.reality_score = new
    for change in changes:
        session.add(
            tables.ScoreChange(
                symbol=change.symbol,
                event_id=event.event_id,
                old_score=change.old,
                new_score=change.new,
                delta=change.delta,
                source=source,
                created_at=now,
            )
        )
    quotes = _reprice_locked(session, locked, pressures, now)
    await session.flush()
    return changes, quotes


async def reprice(
    session: AsyncSession,
    symbols: Iterable[str],
    pressures: Mapping[str, Pressure],
    now: datetime | None = None,
) -> list[Quote]:
    """Recompute Final Prices from the stored Reality Scores and fresh market pressure."""
    locked = await _lock(session, symbols)
    quotes = _reprice_locked(session, locked, pressures, now or datetime.now(UTC))
    await session.flush()
    return quotes


def _reprice_locked(
    session: AsyncSession,
    locked: Mapping[str, tuple[tables.Stock, tables.Score]],
    pressures: Mapping[str, Pressure],
    now: datetime,
) -> list[Quote]:
    quotes: list[Quote] = []
    for symbol in sorted(locked):
        stock, score = locked[symbol]
        pressure = pressures.get(symbol)
        stale = pressure.stale if pressure is not None else True
        market = pressure.market_price if pressure is not None else score.market_price
        if pressure is not None and pressure.stale and pressure.market_price is None:
            market = score.market_price
        final = blending.final_price(
            score.reality_score, market, stock.market_weight, stock.reality_weight
        )
        trades = pressure.trades if pressure is not None else 0
        score.market_price = market
        score.final_price = final
        score.confidence = (
            blending.confidence(trades, stale=stale) if market is not None else Decimal(0)
        )
        score.updated_at = now
        session.add(
            tables.ScoreHistory(
                symbol=symbol,
                ts=now,
                final_price=final,
                reality_score=score.reality_score,
                market_price=market,
            )
        )
        quotes.append(stock_store.quote_of(stock, score, stale=stale and market is not None))
    return quotes


async def recompute_index(session: AsyncSession, index: str, now: datetime | None = None) -> None:
    """Set an index's Reality Score from its (possibly new) components; recorded as admin."""
    now = now or datetime.now(UTC)
    index_defs = await stock_store.index_definitions(session)
    components = index_defs.get(index)
    if not components:
        return
    locked = await _lock(session, [index])
    values = await stock_store.reality_scores(session, [c.symbol for c in components])
    _, score = locked[index]
    new = indexes.weighted_average(components, values)
    if new != score.reality_score:
        session.add(
            tables.ScoreChange(
                symbol=index,
                event_id=None,
                old_score=score.reality_score,
                new_score=new,
                delta=new - score.reality_score,
                source=ADMIN_SOURCE,
                created_at=now,
            )
        )
        score.reality_score = new
    await session.flush()
