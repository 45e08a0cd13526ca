"""A trader's orders: place (reserve, then the orderbook), list, read, cancel."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from em_backend import errors
from em_backend.api.deps import CurrentTrader, RuntimeDep, SessionDep, Trader, TradingDep
from em_backend.models import trading as models
from em_backend.store import orders as order_store
from em_backend.trading import views

router = APIRouter(prefix="/api/v1", tags=["trading"])

OrderIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", examples=["O0-3fa9c1-17"])]
AUTH: dict[int | str, dict[str, Any]] = {401: {"description": "No valid bearer token"}}
LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many order requests for this account; see Retry-After"},
    503: {"description": "The orderbook is unavailable (nothing was placed or cancelled)"},
}


async def limit_orders(trader: CurrentTrader, trading: TradingDep) -> Trader:
    """Order requests per account (429 with Retry-After)."""
    wait = trading.order_limiter.take(str(trader.account_id), time.monotonic())
    if wait:
        trading.metrics.rate_limited.labels("orders").inc()
        raise HTTPException(
            status_code=429,
            detail="too many order requests; slow down",
            headers={"Retry-After": str(trading.order_limiter.retry_after(wait))},
        )
    return trader


LimitedTrader = Annotated[Trader, Depends(limit_orders)]


@router.post(
    "/orders",
    status_code=201,
    response_model=models.OrderPlaced,
    responses={
        **AUTH,
        404: {"description": "Unknown symbol"},
        409: {"description": "client_order_id already used for a different order"},
        422: {"description": "Invalid order or insufficient funds"},
        **LIMITED,
    },
)
async def place_order(
    body: models.OrderCreate, trader: LimitedTrader, runtime: RuntimeDep, trading: TradingDep
) -> models.OrderPlaced:
    """Reserve funds and place the order; a retry with the same client_order_id is safe."""
    if runtime.quotes.get(body.symbol) is None and await runtime.load_quote(body.symbol) is None:
        raise errors.NotFound(f"unknown symbol {body.symbol}")
    client_id = body.client_order_id or uuid.uuid4().hex
    placed = await trading.orders.place(trader.account_id, body, client_id)
    public = views.order_public(placed.order)
    return models.OrderPlaced(**public.model_dump(), fills=placed.fills, duplicate=placed.duplicate)


@router.get("/orders", response_model=models.OrdersPublic, responses=AUTH)
async def list_orders(
    trader: CurrentTrader,
    session: SessionDep,
    symbol: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")] = None,
    status: Annotated[Literal["open", "all"], Query()] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> models.OrdersPublic:
    """The trader's own orders, newest first (`status=open`: pending or resting)."""
    rows = await order_store.list_for_account(
        session,
        trader.account_id,
        symbol=symbol,
        open_only=status == "open",
        limit=limit,
        before_id=None,
    )
    data = [views.order_public(r) for r in rows]
    return models.OrdersPublic(data=data, count=len(data))


@router.get(
    "/orders/{order_id}",
    response_model=models.OrderPublic,
    responses={**AUTH, 404: {"description": "No such order of this trader"}},
)
async def get_order(
    order_id: OrderIdPath, trader: CurrentTrader, session: SessionDep
) -> models.OrderPublic:
    """One of the trader's own orders."""
    row = await order_store.by_order_id(session, order_id)
    if row is None or row.account_id != trader.account_id:
        raise errors.NotFound(f"no order {order_id}")
    return views.order_public(row)


@router.delete(
    "/orders/{order_id}",
    response_model=models.OrderPublic,
    responses={
        **AUTH,
        404: {"description": "No such order of this trader"},
        409: {"description": "The order is already filled or finished"},
        **LIMITED,
    },
)
async def cancel_order(
    order_id: OrderIdPath, trader: LimitedTrader, trading: TradingDep
) -> models.OrderPublic:
    """Cancel the rest of an order and release what it still holds back."""
    return views.order_public(await trading.orders.cancel(trader.account_id, order_id))
