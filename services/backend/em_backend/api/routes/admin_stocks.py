"""Admin-only listing and editing of symbols (X-ADMIN-KEY)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from em_backend import scoring
from em_backend.api.deps import AdminKey, RuntimeDep, SessionDep
from em_backend.api.routes.stocks import NOT_FOUND, SymbolPath, to_public
from em_backend.db import tables
from em_backend.models import stocks as models
from em_backend.store import stocks as stock_store

router = APIRouter(prefix="/api/v1/admin/stocks", tags=["admin"])

ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "X-ADMIN-KEY missing"},
    403: {"description": "Wrong admin key, or admin access locked"},
}


@router.post(
    "",
    response_model=models.StockPublic,
    status_code=201,
    responses={
        **ADMIN_ERRORS,
        409: {"description": "Symbol exists"},
        422: {"description": "Invalid definition"},
    },
)
async def create_stock(
    body: models.StockCreate, session: SessionDep, runtime: RuntimeDep, _admin: AdminKey
) -> models.StockPublic:
    """List a new stock or index (its Reality and Final start at the initial score)."""
    stock = await stock_store.create(session, body)
    score = await session.get(tables.Score, stock.symbol)
    await session.commit()
    assert score is not None
    await runtime.pricing.publish_quotes([stock_store.quote_of(stock, score, stale=False)])
    return to_public(stock, runtime.quotes)


@router.patch(
    "/{symbol}",
    response_model=models.StockPublic,
    responses={**ADMIN_ERRORS, **NOT_FOUND, 422: {"description": "Invalid change"}},
)
async def update_stock(
    symbol: SymbolPath,
    body: models.StockUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    _admin: AdminKey,
) -> models.StockPublic:
    """Change a symbol's name, description, aliases, weights or index components."""
    stock = await stock_store.update(session, symbol, body)
    if body.market_weight is not None or body.components is not None:
        pressures = await runtime.pricing.pressures([symbol])
        if body.components is not None:
            await scoring.recompute_index(session, symbol)
        quotes = await scoring.reprice(session, [symbol], pressures)
        await session.commit()
        await runtime.pricing.publish_quotes(quotes)
    else:
        await session.commit()
    return to_public(stock, runtime.quotes)
