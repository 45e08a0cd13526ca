"""Writing prices: move Reality Scores, recompute indexes and Final Prices, in one transaction.

A `Board` holds the score rows of one transaction, locked in symbol order (`FOR UPDATE`) so
concurrent writers (ingest on one replica, a trade on another) serialise per symbol and never
deadlock. Events move scores in memory, in order; `finish()` writes score_changes, the new
scores and one history point per touched symbol. A batch of events thus costs a handful of
statements, not a handful per event. Market prices are fetched by the caller *before* the
locks are taken: a slow orderbook must not hold rows locked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend.db import tables
from em_backend.domain import blending, indexes
from em_backend.market.orderbook import Pressure
from em_backend.market.quotes import Quote
from em_backend.store import stocks as stock_store
from em_common import contracts

WINDOW_24H = timedelta(hours=24)
ADMIN_SOURCE = "admin:components"

Locked = dict[str, tuple[tables.Stock, tables.Score]]


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


def direct_symbols(
    event: contracts.RealityEvent, index_defs: Mapping[str, list[indexes.Component]]
) -> list[str]:
    """The stocks an event moves itself; indexes it names are derived from components."""
    return sorted({s for s in event.stocks if s not in index_defs})


def affected(symbols: Iterable[str], index_defs: Mapping[str, list[indexes.Component]]) -> set[str]:
    """The symbols and every index containing one of them."""
    direct = set(symbols)
    return direct | {i for s in direct for i in indexes.containing(s, index_defs)}


async def source_impacts_24h(
    session: AsyncSession, symbols: Iterable[str], now: datetime
) -> dict[str, dict[str, Decimal]]:
    """Absolute Reality Score movement per symbol and source over the last 24 h."""
    wanted = set(symbols)
    result: dict[str, dict[str, Decimal]] = {s: {} for s in wanted}
    if not wanted:
        return result
    rows = await session.execute(
        select(
            tables.ScoreChange.symbol,
            tables.ScoreChange.source,
            func.sum(func.abs(tables.ScoreChange.delta)),
        )
        .where(
            tables.ScoreChange.symbol.in_(wanted),
            tables.ScoreChange.created_at > now - WINDOW_24H,
        )
        .group_by(tables.ScoreChange.symbol, tables.ScoreChange.source)
    )
    for symbol, source, total in rows.all():
        result[symbol][source] = Decimal(total or 0)
    return result


async def lock(session: AsyncSession, symbols: Iterable[str]) -> Locked:
    wanted = set(symbols)
    if not wanted:
        return {}
    result = await session.execute(
        select(tables.Stock, tables.Score)
        .join(tables.Score, tables.Score.symbol == tables.Stock.symbol)
        .where(tables.Stock.symbol.in_(wanted))
        .order_by(tables.Stock.symbol)
        .with_for_update(of=tables.Score)
    )
    return {stock.symbol: (stock, score) for stock, score in result.all()}


@dataclass
class Board:
    """The locked rows of one transaction and the moves made to them so far."""

    locked: Locked
    index_defs: Mapping[str, list[indexes.Component]]
    values: dict[str, Decimal]
    rows: list[dict[str, object]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    def apply(self, event: contracts.RealityEvent, now: datetime) -> list[Change]:
        """Move each stock the event names, then the indexes containing them."""
        changes: list[Change] = []
        direct = direct_symbols(event, self.index_defs)
        for symbol in direct:
            _, score = self.locked[symbol]
            new = blending.move_reality(score.reality_score, event.impact_points)
            changes.append(self._set(symbol, new))
        for index in sorted(affected(direct, self.index_defs) - set(direct)):
            new = indexes.weighted_average(self.index_defs[index], self.values)
            changes.append(self._set(index, new))
        source = primary_source(event)
        for change in changes:
            self.rows.append(
                {
                    "symbol": change.symbol,
                    "event_id": event.event_id,
                    "old_score": change.old,
                    "new_score": change.new,
                    "delta": change.delta,
                    "source": source,
                    "created_at": now,
                }
            )
        return changes

    def _set(self, symbol: str, new: Decimal) -> Change:
        _, score = self.locked[symbol]
        change = Change(symbol, score.reality_score, new)
        score.reality_score = new
        self.values[symbol] = new
        self.touched.add(symbol)
        return change


async def open_board(
    session: AsyncSession,
    symbols: Iterable[str],
    index_defs: Mapping[str, list[indexes.Component]],
) -> Board:
    """Lock the stocks and the indexes containing them; read the components' scores."""
    wanted = affected(symbols, index_defs)
    locked = await lock(session, wanted)
    components = {c.symbol for i in wanted if i in index_defs for c in index_defs[i]}
    values = await stock_store.reality_scores(session, components - locked.keys())
    values.update({symbol: score.reality_score for symbol, (_, score) in locked.items()})
    return Board(locked=locked, index_defs=index_defs, values=values)


async def finish(
    session: AsyncSession, board: Board, pressures: Mapping[str, Pressure], now: datetime
) -> list[Quote]:
    """Write the score_changes rows, reprice every touched symbol, store history points."""
    await bulk_insert(session, tables.ScoreChange, board.rows)
    touched = {s: board.locked[s] for s in board.touched}
    quotes, history = _reprice_locked(touched, pressures, now)
    await bulk_insert(session, tables.ScoreHistory, history)
    await session.flush()
    return quotes


async def bulk_insert(
    session: AsyncSession, model: type[tables.Base], rows: Sequence[Mapping[str, object]]
) -> None:
    """One cached executemany on the table (no ORM unit of work: these rows are only
    written, never read back in the same transaction)."""
    if rows:
        table = model.__table__
        assert isinstance(table, Table)
        await session.execute(insert(table), list(rows))


async def reprice(
    session: AsyncSession,
    symbols: Iterable[str],
    pressures: Mapping[str, Pressure],
    now: datetime | None = None,
) -> list[Quote]:
    """Recompute Final Prices from the stored Reality Scores and fresh market pressure."""
    locked = await lock(session, symbols)
    quotes, history = _reprice_locked(locked, pressures, now or datetime.now(UTC))
    await bulk_insert(session, tables.ScoreHistory, history)
    await session.flush()
    return quotes


def _reprice_locked(
    locked: Locked, pressures: Mapping[str, Pressure], now: datetime
) -> tuple[list[Quote], list[dict[str, object]]]:
    quotes: list[Quote] = []
    history: list[dict[str, object]] = []
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
        history.append(
            {
                "symbol": symbol,
                "ts": now,
                "final_price": final,
                "reality_score": score.reality_score,
                "market_price": market,
            }
        )
        quotes.append(stock_store.quote_of(stock, score, stale=stale and market is not None))
    return quotes, history


async def recompute_index(session: AsyncSession, index: str, now: datetime | None = None) -> None:
    """Set an index's Reality Score from its (possibly new) components; recorded as admin."""
    now = now or datetime.now(UTC)
    index_defs = await stock_store.index_definitions(session)
    components = index_defs.get(index)
    if not components:
        return
    locked = await lock(session, [index])
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
