"""A trader's money and holdings, marked at the Final Price, and their own fills."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from em_backend import errors
from em_backend.api.deps import CurrentTrader, RuntimeDep, SessionDep
from em_backend.domain import reservations
from em_backend.domain.settlement import unrealized_pnl
from em_backend.models import trading as models
from em_backend.store import trades as trade_store
from em_common import constants

router = APIRouter(prefix="/api/v1", tags=["trading"])

AUTH: dict[int | str, dict[str, Any]] = {401: {"description": "No valid bearer token"}}


@router.get("/portfolio", response_model=models.PortfolioPublic, responses=AUTH)
async def portfolio(
    trader: CurrentTrader, session: SessionDep, runtime: RuntimeDep
) -> models.PortfolioPublic:
    """Cash, reserved, collateral and positions with P&L marked at the Final Price."""
    balance = await trade_store.balance(session, trader.account_id)
    if balance is None:
        raise errors.Unauthorized("the account no longer exists")
    positions: list[models.PositionPublic] = []
    value = pnl = reservations.ZERO
    for symbol, holding in (await trade_store.holdings(session, trader.account_id)).items():
        quote = runtime.quotes.get(symbol) or await runtime.load_quote(symbol)
        mark = quote.final if quote else None
        market_value = None if mark is None else reservations.cents(mark * holding.quantity)
        gain = None if mark is None else unrealized_pnl(holding, mark)
        value += market_value or 0
        pnl += gain or 0
        positions.append(
            models.PositionPublic(
                symbol=symbol,
                quantity=holding.quantity,
                average_cost=holding.avg_cost,
                cost_basis=holding.basis,
                mark_price=mark,
                market_value=market_value,
                unrealized_pnl=gain,
                collateral=holding.collateral,
            )
        )
    return models.PortfolioPublic(
        cash=balance.cash,
        reserved=balance.reserved,
        collateral=balance.collateral,
        positions=positions,
        positions_value=reservations.cents(value),
        unrealized_pnl=reservations.cents(pnl),
        equity=reservations.cents(balance.cash + balance.reserved + balance.collateral + value),
        starting_cash=constants.STARTING_CASH,
    )


@router.get("/trades", response_model=models.TradesPublic, responses=AUTH)
async def my_trades(
    trader: CurrentTrader,
    session: SessionDep,
    symbol: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> models.TradesPublic:
    """The trader's own settled fills, newest first."""
    rows = await trade_store.for_account(session, trader.account_id, symbol=symbol, limit=limit)
    data = []
    for (t,) in rows:
        side = "buy" if t.buyer_account_id == trader.account_id else "sell"
        data.append(
            models.TradePublic(
                trade_id=t.trade_id,
                symbol=t.symbol,
                side=side,
                order_id=t.buy_order_id if side == "buy" else t.sell_order_id,
                price=t.price,
                quantity=t.qty,
                liquidity="taker" if t.taker_side == side else "maker",
                executed_at=t.executed_at,
                settled_at=t.settled_at,
            )
        )
    return models.TradesPublic(data=data, count=len(data))
