"""A trader's orders: place (reserve, then the orderbook), list, read, cancel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Security
from starlette.requests import HTTPConnection

from em_backend import errors
from em_backend.api.deps import (
    CurrentTrader,
    SessionDep,
    Trader,
    oauth2_scheme,
    trader_of,
    within_rate,
)
from em_backend.models import trading as models
from em_backend.runtime import Runtime
from em_backend.store import orders as order_store
from em_backend.trading import views
from em_backend.trading.service import Trading

router = APIRouter(prefix="/api/v1", tags=["trading"])

OrderIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", examples=["O0-3fa9c1-17"])]
AUTH: dict[int | str, dict[str, Any]] = {401: {"description": "No valid bearer token"}}
LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many order requests for this account; see Retry-After"},
    503: {"description": "The orderbook is unavailable (nothing was placed or cancelled)"},
}


@dataclass(frozen=True)
class OrderDesk:
    """What an order request needs: its trader (authenticated, within the rate limit) and
    the trading service."""

    trader: Trader
    runtime: Runtime
    trading: Trading


async def order_desk(
    conn: HTTPConnection, token: Annotated[str | None, Security(oauth2_scheme)] = None
) -> OrderDesk:
    """Authenticate, then count the request against the account's order rate (429 with
    Retry-After). One dependency instead of a tree of them: FastAPI's per-dependency cost
    is a good part of an order's CPU."""
    runtime: Runtime = conn.app.state.runtime
    trader = trader_of(runtime, token)
    trading = runtime.trading
    if trading is None:
        raise errors.Unavailable("trading is not available")
    limited, detail = trading.metrics.rate_limited, "too many order requests; slow down"
    within_rate(trading.order_limiter, str(trader.account_id), limited, "orders", detail)
    return OrderDesk(trader, runtime, trading)


Desk = Annotated[OrderDesk, Depends(order_desk)]


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
async def place_order(body: models.OrderCreate, desk: Desk) -> models.OrderPlaced:
    """Reserve funds and place the order; a retry with the same client_order_id is safe."""
    runtime = desk.runtime
    if runtime.quotes.get(body.symbol) is None and await runtime.load_quote(body.symbol) is None:
        raise errors.NotFound(f"unknown symbol {body.symbol}")
    client_id = body.client_order_id or uuid.uuid4().hex
    placed = await desk.trading.orders.place(desk.trader.account_id, body, client_id)
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
async def cancel_order(order_id: OrderIdPath, desk: Desk) -> models.OrderPublic:
    """Cancel the rest of an order and release what it still holds back."""
    return views.order_public(await desk.trading.orders.cancel(desk.trader.account_id, order_id))
