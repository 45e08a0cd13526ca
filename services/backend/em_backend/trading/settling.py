"""Settling trades exactly once: money, positions and order progress in one transaction.

A trade reaches the backend twice: in the PlaceOrder answer (the taker's fills) and on
`market.<SYMBOL>.trades`. Whichever comes first settles it; the `settled_trades` primary key
makes the other a no-op. A trade can name an order whose reservation does not know its
order id yet (the PlaceOrder answer is still being recorded): that is `NotLinked`, and the
stream consumer retries it later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert, select

from em_backend.db import tables
from em_backend.domain import reservations
from em_backend.domain.settlement import settle
from em_backend.store import orders as order_store
from em_backend.trading.money import Inconsistent, MoneyTxn
from em_common import contracts
from everything_market.v1 import orderbook_pb2 as pb

logger = logging.getLogger(__name__)


class NotLinked(Exception):
    """A reservation for one of the trade's orders has no order id yet (or is unknown)."""

    def __init__(self, account_id: int, side: str) -> None:
        super().__init__(f"no reservation of account {account_id} for the {side} order")
        self.account_id = account_id
        self.side = side


def _account(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 18 else None


@dataclass(frozen=True)
class Trade:
    trade_id: str
    symbol: str
    buy_order_id: str
    sell_order_id: str
    buyer: int
    seller: int
    price: Decimal
    qty: int
    taker_side: str
    executed_at: datetime

    @classmethod
    def from_event(cls, event: contracts.TradeEvent) -> Trade | None:
        """None for a trade between accounts that are not ours (not numeric ids)."""
        buyer, seller = _account(event.buy_account_id), _account(event.sell_account_id)
        if buyer is None or seller is None:
            return None
        return cls(
            trade_id=event.trade_id,
            symbol=event.symbol,
            buy_order_id=event.buy_order_id,
            sell_order_id=event.sell_order_id,
            buyer=buyer,
            seller=seller,
            price=reservations.cents(event.price),
            qty=event.quantity,
            taker_side=event.taker_side,
            executed_at=event.executed_at,
        )

    @classmethod
    def from_fill(cls, symbol: str, fill: pb.Fill) -> Trade | None:
        maker, taker = _account(fill.maker_account_id), _account(fill.taker_account_id)
        if maker is None or taker is None:
            return None
        taker_buys = fill.taker_side == pb.SIDE_BUY
        return cls(
            trade_id=fill.trade_id,
            symbol=symbol,
            buy_order_id=fill.taker_order_id if taker_buys else fill.maker_order_id,
            sell_order_id=fill.maker_order_id if taker_buys else fill.taker_order_id,
            buyer=taker if taker_buys else maker,
            seller=maker if taker_buys else taker,
            price=reservations.from_cents(fill.price_cents),
            qty=fill.quantity,
            taker_side="buy" if taker_buys else "sell",
            executed_at=datetime.now(UTC),
        )


async def settle_in(txn: MoneyTxn, trade: Trade) -> list[order_store.OrderRow] | None:
    """Settle `trade` inside `txn` (buyer and seller locked). None if settled before.

    Every refusal (NotLinked, Inconsistent) is raised before anything is written, so the
    caller may carry on with the rest of its transaction.
    """
    if trade.buyer == trade.seller:
        raise Inconsistent(f"trade {trade.trade_id} is a self-trade of account {trade.buyer}")
    st = tables.SettledTrade
    if await txn.session.scalar(select(st.trade_id).where(st.trade_id == trade.trade_id)):
        return None  # both accounts are locked, so nobody can be settling it right now
    bought = await txn.exposure(trade.buyer, trade.symbol)
    sold = await txn.exposure(trade.seller, trade.symbol)
    buy = await bought.order("buy", order_id=trade.buy_order_id)
    sell = await sold.order("sell", order_id=trade.sell_order_id)
    if buy is None:
        raise NotLinked(trade.buyer, "buy")
    if sell is None:
        raise NotLinked(trade.seller, "sell")
    for row in (buy, sell):
        if row.live < trade.qty:
            raise Inconsistent(
                f"trade {trade.trade_id} fills {trade.qty} of order {row.order_id}, "
                f"which has {row.live} left"
            )
    await txn.session.execute(
        insert(st).values(
            trade_id=trade.trade_id,
            symbol=trade.symbol,
            buyer_account_id=trade.buyer,
            seller_account_id=trade.seller,
            buy_order_id=trade.buy_order_id,
            sell_order_id=trade.sell_order_id,
            taker_side=trade.taker_side,
            price=trade.price,
            qty=trade.qty,
            executed_at=trade.executed_at,
        )
    )
    result = settle(trade.price, trade.qty, bought.holding, sold.holding)
    accounts = {"buyer": trade.buyer, "seller": trade.seller}
    ref = f"trade:{trade.trade_id}"
    for t in result.transfers:
        txn.moves.move(
            (accounts[t.source[0]], t.source[1]),
            (accounts[t.target[0]], t.target[1]),
            t.amount,
            kind=t.kind,
            ref=ref,
        )
    bought.taken += result.taken_from_reserved("buyer")
    sold.taken += result.taken_from_reserved("seller")
    bought.set_holding(result.buyer)
    sold.set_holding(result.seller)
    value = reservations.cents(trade.price * trade.qty)
    for row in (buy, sell):
        row.filled_qty += trade.qty
        row.filled_value += value
        if row.filled_qty == row.qty:
            row.status = "filled"
        row.dirty = True
    return [buy, sell]
