"""Protobuf answers built from the state's plain records (the edge's half of translation)."""

from __future__ import annotations

from typing import Any, Final

from em_orderbook import ids as ids_
from em_orderbook import state
from everything_market.v1 import orderbook_pb2 as pb

STATUS: Final = {
    state.OPEN: pb.ORDER_STATUS_OPEN,
    state.PARTIAL: pb.ORDER_STATUS_PARTIALLY_FILLED,
    state.FILLED: pb.ORDER_STATUS_FILLED,
    state.CANCELLED: pb.ORDER_STATUS_CANCELLED,
    state.REJECTED: pb.ORDER_STATUS_REJECTED,
}
SIDE: Final = {"buy": pb.SIDE_BUY, "sell": pb.SIDE_SELL}
KIND: Final = {"limit": pb.ORDER_TYPE_LIMIT, "market": pb.ORDER_TYPE_MARKET}
TIF: Final = {"gtc": pb.TIME_IN_FORCE_GTC, "ioc": pb.TIME_IN_FORCE_IOC, "fok": pb.TIME_IN_FORCE_FOK}


def place(record: state.Record, duplicate: bool, ids: ids_.Ids) -> pb.PlaceOrderResponse:
    """The answer the order was placed with; `duplicate` marks a retry's copy of it."""
    number, status, reason, message, fills, filled, resting, cancelled, stp = record.result
    order_id = ids.order(number) if number else ""
    resp = pb.PlaceOrderResponse(
        order_id=order_id,
        status=STATUS[status],
        reject_reason=f"{reason}: {message}" if reason else "",
        filled_quantity=filled,
        resting_quantity=resting,
        cancelled_quantity=cancelled,
        duplicate=duplicate,
        client_order_id=record.client_order_id,
    )
    if fills:
        side = SIDE[record.side]
        account = record.account
        add = resp.fills.add
        for trade, maker, maker_account, price, qty in fills:
            add(
                trade_id=ids.trade(trade),
                maker_order_id=ids.order(maker),
                taker_order_id=order_id,
                maker_account_id=maker_account,
                taker_account_id=account,
                price_cents=price,
                quantity=qty,
                taker_side=side,
            )
    if stp:
        resp.self_trade_cancelled_order_ids.extend(ids.order(n) for n in stp)
    return resp


def order_state(record: state.Record, ids: ids_.Ids) -> pb.OrderState:
    return pb.OrderState(
        order_id=ids.order(record.order_id),
        symbol=record.symbol,
        account_id=record.account,
        client_order_id=record.client_order_id,
        side=SIDE[record.side],
        type=KIND[record.kind],
        time_in_force=TIF[record.tif],
        price_cents=record.price or 0,
        quantity=record.qty,
        filled_quantity=record.filled,
        status=STATUS[record.status],
    )


def levels(rows: list[tuple[int, int, int]]) -> list[pb.PriceLevel]:
    return [pb.PriceLevel(price_cents=p, quantity=q, orders=n) for p, q, n in rows]


def db_order_state(row: tuple[Any, ...]) -> pb.OrderState:
    """An OrderState from an `orders` row (order_id, symbol, account_id, client_order_id,
    side, type, tif, price_cents, qty, filled_qty, status)."""
    order_id, symbol, account, coid, side, kind, tif, price, qty, filled, status = row
    return pb.OrderState(
        order_id=order_id,
        symbol=symbol,
        account_id=str(account),
        client_order_id=coid,
        side=SIDE[side],
        type=KIND[kind],
        time_in_force=TIF[tif],
        price_cents=price or 0,
        quantity=qty,
        filled_quantity=filled,
        status=STATUS.get(status, pb.ORDER_STATUS_UNSPECIFIED),
    )
