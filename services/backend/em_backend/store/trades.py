"""Settled trades as traders and the public read them, and the positions behind a portfolio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend.db import tables
from em_backend.domain.settlement import Holding

T = tables.SettledTrade


async def for_account(
    session: AsyncSession, account_id: int, *, symbol: str | None, limit: int
) -> Sequence[Row[Any]]:
    stmt = select(T).where(or_(T.buyer_account_id == account_id, T.seller_account_id == account_id))
    if symbol is not None:
        stmt = stmt.where(T.symbol == symbol)
    result = await session.execute(
        stmt.order_by(T.executed_at.desc(), T.trade_id.desc()).limit(limit)
    )
    return result.all()


async def for_symbol(session: AsyncSession, symbol: str, limit: int) -> Sequence[Any]:
    result = await session.execute(
        select(T.trade_id, T.symbol, T.price, T.qty, T.taker_side, T.executed_at)
        .where(T.symbol == symbol)
        .order_by(T.executed_at.desc(), T.trade_id.desc())
        .limit(limit)
    )
    return result.all()


async def holdings(session: AsyncSession, account_id: int) -> dict[str, Holding]:
    p = tables.Position
    rows = await session.execute(
        select(p.symbol, p.quantity, p.cost_basis)
        .where(p.account_id == account_id, p.quantity != 0)
        .order_by(p.symbol)
    )
    return {r.symbol: Holding(int(r.quantity), r.cost_basis) for r in rows}


async def balance(session: AsyncSession, account_id: int) -> Any:
    a = tables.Account
    result = await session.execute(
        select(a.cash, a.reserved, a.collateral).where(a.id == account_id)
    )
    return result.first()
