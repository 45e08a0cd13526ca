"""Placing and cancelling orders: reserve, then the orderbook, then record its answer.

A new order (a retry finds its row and skips the first step):
1. One transaction locks the account, inserts the reservation row (status `pending`, unique
   on account + client_order_id) and moves the order's worst case from cash to reserved.
2. PlaceOrder over gRPC with the same client_order_id; the orderbook is idempotent on it.
3. One transaction records the answer (order id, status, units that will never fill),
   releases what those units held, and settles the fills it reports.
If step 2 certainly never reached the orderbook (circuit open, connection refused) the row
is deleted and its reservation released. If the outcome is unknown (a timeout) the row stays
pending: a client retry, or the reconciler after PENDING_ORDER_GRACE_SECONDS, sends the same
request again and the orderbook answers with the original result, never a second order.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import psycopg
from grpc import aio as grpc_aio
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from em_backend import errors
from em_backend.db import tables
from em_backend.db.rawpool import RawPool
from em_backend.domain import reservations
from em_backend.market.batching import OrderRefused, PlaceBatcher
from em_backend.market.orderbook import OrderbookClient
from em_backend.models import trading as models
from em_backend.store import hotpath
from em_backend.store import orders as order_store
from em_backend.trading import settling, views
from em_backend.trading.metrics import TradingMetrics
from em_backend.trading.money import Inconsistent, InsufficientFunds, MoneyTxn
from everything_market.v1 import orderbook_pb2 as pb

logger = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], Awaitable[None]]

STATUS = {
    pb.ORDER_STATUS_OPEN: "open",
    pb.ORDER_STATUS_PARTIALLY_FILLED: "open",
    pb.ORDER_STATUS_FILLED: "filled",
    pb.ORDER_STATUS_CANCELLED: "cancelled",
    pb.ORDER_STATUS_REJECTED: "rejected",
}
SIDES = {"buy": pb.SIDE_BUY, "sell": pb.SIDE_SELL}
TYPES = {"limit": pb.ORDER_TYPE_LIMIT, "market": pb.ORDER_TYPE_MARKET}
TIFS = {"GTC": pb.TIME_IN_FORCE_GTC, "IOC": pb.TIME_IN_FORCE_IOC, "FOK": pb.TIME_IN_FORCE_FOK}
_NOT_CONNECTED = ("failed to connect", "connection refused", "connect failed", "no route to host")


@dataclass(frozen=True)
class Placed:
    order: order_store.OrderRow
    fills: list[models.FillPublic]
    duplicate: bool


def never_sent(exc: errors.OrderbookUnavailable) -> bool:
    """True when the request certainly did not reach the orderbook."""
    cause = exc.__cause__
    if cause is None:
        return True  # refused by the circuit breaker before any call
    if isinstance(cause, grpc_aio.AioRpcError) and cause.code() == grpc.StatusCode.UNAVAILABLE:
        details = (cause.details() or "").lower()
        return any(marker in details for marker in _NOT_CONNECTED)
    return False


def place_request(row: order_store.OrderRow) -> pb.PlaceOrderRequest:
    return pb.PlaceOrderRequest(
        symbol=row.symbol,
        account_id=str(row.account_id),
        client_order_id=row.client_order_id,
        side=SIDES[row.side],
        type=TYPES[row.order_type],
        time_in_force=TIFS[row.time_in_force],
        price_cents=0 if row.price is None else reservations.to_cents(row.price),
        quantity=row.qty,
    )


class Orders:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        orderbook: OrderbookClient,
        publish: Publish,
        metrics: TradingMetrics,
        *,
        timeout_seconds: float,
        pending_grace_seconds: float,
        durable: RawPool,
        relaxed: RawPool,
    ) -> None:
        self.sessions = sessions
        self.durable = durable
        self.relaxed = relaxed
        self.placer = PlaceBatcher(orderbook, deadline=timeout_seconds)
        self.orderbook = orderbook
        self.publish = publish
        self.metrics = metrics
        self.timeout = timeout_seconds
        self.pending_grace = pending_grace_seconds

    # --- placing ------------------------------------------------------------------------

    async def place(self, account_id: int, body: models.OrderCreate, client_id: str) -> Placed:
        if self.orderbook_down():
            self.metrics.orders.labels("orderbook_down").inc()
            raise errors.OrderbookUnavailable(
                "the orderbook is unavailable; nothing was placed, try again shortly"
            )
        row, existing = await self._reserve(account_id, body, client_id)
        if existing and row.status != "pending":
            self.metrics.orders.labels("duplicate").inc()
            return Placed(row, await self._settled_fills(row), duplicate=True)
        return await self._send(row, retry=existing)

    def orderbook_down(self) -> bool:
        """The breaker is open and cooling down (looked at without moving its state)."""
        breaker = self.orderbook.breaker
        cooling = time.monotonic() - breaker.opened_at < breaker.reset_seconds
        return breaker.state == "open" and cooling

    async def _reserve(
        self, account_id: int, body: models.OrderCreate, client_id: str
    ) -> tuple[order_store.OrderRow, bool]:
        now = datetime.now(UTC)
        wanted = order_store.OrderRow(
            id=0,
            order_id=None,
            client_order_id=client_id,
            account_id=account_id,
            symbol=body.symbol,
            side=body.side,
            order_type=body.type,
            time_in_force=body.tif,
            price=body.limit,
            qty=body.quantity,
            reserved=reservations.ZERO,
            status="pending",
            filled_qty=0,
            closed_qty=0,
            filled_value=reservations.ZERO,
            reject_reason=None,
            created_at=now,
            updated_at=now,
        )
        if body.side == "buy":
            return await self._reserve_buy(wanted)
        async with self.sessions() as session, session.begin():
            txn = await MoneyTxn.begin(session, [account_id])
            if account_id not in txn.balances:
                raise errors.Unauthorized("the account no longer exists")
            existing = await order_store.by_client_id(session, account_id, client_id)
            if existing is not None:
                return _same(existing, wanted), True
            exposure = await txn.exposure(account_id, body.symbol)
            row = await order_store.insert_pending(session, wanted)
            await exposure.add_new(row)
            await txn.finish(may_reserve=(account_id, body.symbol), ref=f"order:{row.id}")
        return row, False

    async def _reserve_buy(self, wanted: order_store.OrderRow) -> tuple[order_store.OrderRow, bool]:
        """A buy holds price x quantity whatever else the account does, so it needs no lock
        and no reads: insert, move the money, and let the constraints refuse (cash below
        zero: insufficient funds; the client_order_id taken: a retry)."""
        need = reservations.cents(wanted.domain.unit_requirement * wanted.qty)
        wanted.reserved = need
        account = wanted.account_id
        try:
            txn_id = uuid.uuid4().hex
            row = await self.durable.run(lambda cur: hotpath.reserve_buy(cur, wanted, txn_id))
            return row, False
        except psycopg.IntegrityError as exc:
            constraint = exc.diag.constraint_name
            if constraint == "uq_order_reservations_account_id_client_order_id":
                async with self.sessions() as session:
                    existing = await order_store.by_client_id(
                        session, account, wanted.client_order_id
                    )
                if existing is not None:
                    return _same(existing, wanted), True
            if constraint == "ck_accounts_cash_non_negative":
                raise InsufficientFunds(f"insufficient funds: the order needs {need}") from exc
            if constraint == "fk_order_reservations_account_id_accounts":
                raise errors.Unauthorized("the account no longer exists") from exc
            raise

    async def _send(self, row: order_store.OrderRow, *, retry: bool) -> Placed:
        try:
            resp = await self.placer.place(place_request(row))
        except errors.OrderbookUnavailable as exc:
            if never_sent(exc):
                await self._abandon(row, "orderbook unavailable")
                self.metrics.orders.labels("orderbook_down").inc()
                raise errors.OrderbookUnavailable(
                    "the orderbook is unavailable; nothing was placed, try again shortly"
                ) from exc
            self.metrics.orders.labels("unknown_outcome").inc()
            raise errors.OrderbookUnavailable(
                "the orderbook did not confirm the order in time; retry with the same "
                "client_order_id to learn its outcome"
            ) from exc
        except OrderRefused as exc:
            await self._abandon(row, exc.details)
            self.metrics.orders.labels("refused").inc()
            raise errors.Invalid(f"the orderbook refused the order: {exc.details}") from exc
        order = await self.acknowledge(row, resp)
        self.metrics.orders.labels(order.status).inc()
        fills = [
            models.FillPublic(
                trade_id=f.trade_id,
                price=reservations.from_cents(f.price_cents),
                quantity=f.quantity,
                liquidity="taker",
            )
            for f in resp.fills
        ]
        return Placed(order, fills, duplicate=retry or resp.duplicate)

    async def _abandon(self, row: order_store.OrderRow, reason: str) -> None:
        """Forget a pending order that never reached the book, releasing its reservation."""
        async with self.sessions() as session, session.begin():
            txn = await MoneyTxn.begin(session, [row.account_id])
            exposure = await txn.exposure(row.account_id, row.symbol)
            held = await exposure.order(row.side, reservation_id=row.id)
            if held is None or held.status != "pending":
                return
            exposure.forget(held)
            await order_store.delete(session, held.id)
            await txn.finish(ref=f"order:{row.id}")
        logger.info("abandoned order", extra={"reservation": row.id, "reason": reason})

    async def acknowledge(
        self, row: order_store.OrderRow, resp: pb.PlaceOrderResponse
    ) -> order_store.OrderRow:
        """Record the orderbook's answer and settle the fills it reports (one transaction)."""
        never = row.qty - resp.filled_quantity - resp.resting_quantity
        if not resp.fills and not resp.self_trade_cancelled_order_ids and never <= 0:
            return await self._acknowledge_resting(row, resp)
        stp = {
            oid: await self._book_filled(row.symbol, oid)
            for oid in resp.self_trade_cancelled_order_ids
        }
        trades = [t for f in resp.fills if (t := settling.Trade.from_fill(row.symbol, f))]
        accounts = {row.account_id} | {t.buyer for t in trades} | {t.seller for t in trades}
        touched: dict[int, order_store.OrderRow] = {}
        async with self.sessions() as session, session.begin():
            txn = await MoneyTxn.begin(session, accounts)
            exposure = await txn.exposure(row.account_id, row.symbol)
            mine = await exposure.order(row.side, reservation_id=row.id)
            if mine is None or mine.status != "pending":
                fresh = await order_store.by_id(session, row.id)
                return fresh or row
            mine.order_id = resp.order_id or None
            mine.status = STATUS.get(resp.status, "rejected")
            mine.reject_reason = resp.reject_reason or None
            mine.closed_qty = min(mine.qty - mine.filled_qty, mine.closed_qty + max(0, never))
            mine.dirty = True
            touched[mine.id] = mine
            for order_id, book_filled in stp.items():
                cancelled = await exposure.order(_opposite(row.side), order_id=order_id)
                if cancelled is not None and book_filled is not None:
                    _close(cancelled, book_filled)
                    touched[cancelled.id] = cancelled
            for trade in trades:
                try:
                    rows = await settling.settle_in(txn, trade)
                except (settling.NotLinked, Inconsistent) as exc:
                    # The maker's answer is still being recorded, or the trade is odd: the
                    # stream consumer settles it later, or reports it.
                    logger.info("fill left to the stream", extra={"reason": str(exc)})
                    continue
                for r in rows or ():
                    touched[r.id] = r
            await txn.finish(ref=f"order:{row.id}")
        await self._announce(touched.values())
        return mine

    async def _acknowledge_resting(
        self, row: order_store.OrderRow, resp: pb.PlaceOrderResponse
    ) -> order_store.OrderRow:
        """Nothing filled and nothing closed: only the order id and status change, and no
        money moves, so one conditional UPDATE does it, on a relaxed commit (a crash that
        loses it leaves the row pending, and the reconciler asks the orderbook again)."""
        order_id, status = resp.order_id or None, STATUS.get(resp.status, "rejected")
        mine = await self.relaxed.run(
            lambda cur: hotpath.acknowledge(cur, row.id, order_id, status)
        )
        if mine is None:
            return await self.relaxed.run(lambda cur: hotpath.by_id(cur, row.id)) or row
        await self._announce([mine])
        return mine

    async def _book_filled(self, symbol: str, order_id: str) -> int | None:
        """How much of an order the book filled before it ended (None if unknown)."""
        try:
            state = await self.orderbook.call(
                "GetOrder", pb.GetOrderRequest(symbol=symbol, order_id=order_id)
            )
        except (errors.OrderbookUnavailable, grpc_aio.AioRpcError):
            logger.warning("could not read order state", extra={"order_id": order_id})
            return None
        if state.status in (pb.ORDER_STATUS_CANCELLED, pb.ORDER_STATUS_REJECTED):
            return int(state.filled_quantity)
        return None

    async def _settled_fills(self, row: order_store.OrderRow) -> list[models.FillPublic]:
        if row.order_id is None:
            return []
        st = tables.SettledTrade
        async with self.sessions() as session:
            rows = await session.execute(
                select(st.trade_id, st.price, st.qty, st.taker_side)
                .where(or_(st.buy_order_id == row.order_id, st.sell_order_id == row.order_id))
                .order_by(st.executed_at, st.trade_id)
            )
            return [
                models.FillPublic(
                    trade_id=r.trade_id,
                    price=r.price,
                    quantity=r.qty,
                    liquidity="taker" if r.taker_side == row.side else "maker",
                )
                for r in rows
            ]

    # --- cancelling ---------------------------------------------------------------------

    async def cancel(self, account_id: int, order_id: str) -> order_store.OrderRow:
        async with self.sessions() as session:
            row = await order_store.by_order_id(session, order_id)
        if row is None or row.account_id != account_id:
            raise errors.NotFound(f"no order {order_id}")
        if row.status in ("cancelled", "rejected"):
            return row
        if row.status == "filled":
            raise errors.Conflict(f"order {order_id} is already filled")
        request = pb.CancelOrderRequest(
            symbol=row.symbol, order_id=order_id, account_id=str(account_id)
        )
        try:
            resp = await self.orderbook.call("CancelOrder", request, deadline=self.timeout)
        except grpc_aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
                raise errors.Invalid(f"the orderbook refused the cancel: {exc.details()}") from exc
            filled = await self._book_filled(row.symbol, order_id)
            if filled is None:
                raise errors.Conflict(
                    f"order {order_id} can no longer be cancelled: {exc.details()}"
                ) from exc
            return await self._closed(row, book_filled=filled)
        return await self._closed(row, cancelled=int(resp.cancelled_quantity))

    async def _closed(
        self,
        row: order_store.OrderRow,
        *,
        cancelled: int | None = None,
        book_filled: int | None = None,
    ) -> order_store.OrderRow:
        async with self.sessions() as session, session.begin():
            txn = await MoneyTxn.begin(session, [row.account_id])
            exposure = await txn.exposure(row.account_id, row.symbol)
            mine = await exposure.order(row.side, reservation_id=row.id)
            if mine is None or mine.status in order_store.TERMINAL:
                return await order_store.by_id(session, row.id) or row
            if book_filled is not None:
                _close(mine, book_filled)
            else:
                mine.closed_qty = min(
                    mine.qty - mine.filled_qty, mine.closed_qty + (cancelled or 0)
                )
                mine.status = "cancelled"
                mine.dirty = True
            await txn.finish(ref=f"order:{row.id}")
        await self._announce([mine])
        return mine

    # --- settling from the MARKET stream and catching up ------------------------------

    async def settle(self, trade: settling.Trade) -> str:
        """Settle a trade from the stream; returns the outcome (a metrics label).

        Raises NotLinked while an order's answer is still being recorded (retry later).
        """
        st = tables.SettledTrade
        async with self.sessions() as session:
            # Usually the PlaceOrder answer settled it already: say so without locking.
            if await session.scalar(select(st.trade_id).where(st.trade_id == trade.trade_id)):
                return "duplicate"
        try:
            async with self.sessions() as session, session.begin():
                txn = await MoneyTxn.begin(session, [trade.buyer, trade.seller])
                if len(txn.balances) != 2:
                    return "foreign"
                rows = await settling.settle_in(txn, trade)
                if rows is None:
                    return "duplicate"
                await txn.finish(ref=f"trade:{trade.trade_id}")
        except settling.NotLinked as exc:
            async with self.sessions() as session:
                waiting = await order_store.has_pending(
                    session, exc.account_id, trade.symbol, exc.side
                )
            if waiting:
                raise
            logger.error("trade names an order we do not know", extra={"trade_id": trade.trade_id})
            return "unknown_order"
        except Inconsistent:
            logger.exception("trade not settled", extra={"trade_id": trade.trade_id})
            return "anomaly"
        await self._announce(rows)
        return "settled"

    async def reconcile_once(self) -> int:
        """Send pending orders older than the grace period again; returns how many resolved."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.pending_grace)
        async with self.sessions() as session:
            stuck = await order_store.pending_older_than(session, cutoff)
        resolved = 0
        for row in stuck:
            try:
                await self._send(row, retry=True)
            except errors.OrderbookUnavailable:
                break
            except errors.BackendError:
                pass  # refused and abandoned
            resolved += 1
        return resolved

    async def _announce(self, rows: Any) -> None:
        for row in rows:
            await self.publish(views.order_update(row))


def _same(existing: order_store.OrderRow, wanted: order_store.OrderRow) -> order_store.OrderRow:
    if not existing.same_terms(wanted):
        raise errors.Conflict(
            f"client_order_id {wanted.client_order_id!r} was already used for a different order"
        )
    return existing


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


def _close(row: order_store.OrderRow, book_filled: int) -> None:
    """The book ended this order after filling `book_filled`: the rest never fills."""
    row.closed_qty = max(row.closed_qty, row.qty - max(book_filled, row.filled_qty))
    if row.status not in order_store.TERMINAL:
        row.status = "cancelled"
    row.dirty = True
