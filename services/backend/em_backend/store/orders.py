"""The backend's side of orders (`order_reservations`) and its positions, read and written
with Core statements: this is the hot path of every order and every settlement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy import delete as delete_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend.db import tables
from em_backend.domain import reservations
from em_backend.domain.settlement import Holding

R = tables.OrderReservation
P = tables.Position

TERMINAL = frozenset({"filled", "cancelled", "rejected"})


@dataclass
class OrderRow:
    id: int
    order_id: str | None
    client_order_id: str
    account_id: int
    symbol: str
    side: str
    order_type: str
    time_in_force: str
    price: Decimal | None
    qty: int
    reserved: Decimal
    status: str
    filled_qty: int
    closed_qty: int
    filled_value: Decimal
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime
    dirty: bool = field(default=False, compare=False)

    @property
    def live(self) -> int:
        return self.qty - self.filled_qty - self.closed_qty

    @property
    def domain(self) -> reservations.Order:
        side: reservations.Side = "buy" if self.side == "buy" else "sell"
        return reservations.Order(
            self.id, side, self.price, self.qty, self.filled_qty, self.closed_qty
        )

    @property
    def avg_fill_price(self) -> Decimal | None:
        if not self.filled_qty:
            return None
        return reservations.cents(self.filled_value / self.filled_qty)

    def same_terms(self, other: OrderRow) -> bool:
        keys = ("symbol", "side", "order_type", "time_in_force", "price", "qty")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


COLUMNS = [f.name for f in fields(OrderRow) if f.name != "dirty"]
_UPDATABLE = (
    "order_id",
    "reserved",
    "status",
    "filled_qty",
    "closed_qty",
    "filled_value",
    "reject_reason",
    "updated_at",
)
# Statements are built once: the hot path only binds parameters (SQLAlchemy then reuses the
# compiled form), and they run on the Core connection, skipping the ORM's bookkeeping.
T = cast(Table, R.__table__)
_SELECT = select(*(T.c[c] for c in COLUMNS))
_INSERT = insert(T).returning(T.c.id, T.c.created_at)
_BY_CLIENT = _SELECT.where(
    T.c.account_id == bindparam("p_account"), T.c.client_order_id == bindparam("p_client")
)
_BY_ID = _SELECT.where(T.c.id == bindparam("p_id"))
_BY_ORDER = _SELECT.where(T.c.order_id == bindparam("p_order"))
_ACKNOWLEDGE = (
    update(T)
    .where(T.c.id == bindparam("p_id"), T.c.status == "pending")
    .values(order_id=bindparam("p_order"), status=bindparam("p_status"), updated_at=func.now())
    .returning(*(T.c[c] for c in COLUMNS))
)
_SAVE = (
    update(T)
    .where(T.c.id == bindparam("p_id"))
    .values({c: bindparam(f"p_{c}") for c in _UPDATABLE})
)


def _row(r: Row[Any]) -> OrderRow:
    return OrderRow(*r)  # type: ignore[call-arg]  # columns in field order


async def _run(session: AsyncSession, stmt: Any, params: Any) -> Any:
    conn = await session.connection()
    return await conn.execute(stmt, params)


async def insert_pending(session: AsyncSession, order: OrderRow) -> OrderRow:
    values = {c: getattr(order, c) for c in COLUMNS if c not in ("id", "created_at", "updated_at")}
    row = (await _run(session, _INSERT, values)).one()
    order.id, order.created_at, order.updated_at = row.id, row.created_at, row.created_at
    return order


async def by_client_id(session: AsyncSession, account_id: int, client_id: str) -> OrderRow | None:
    found = (
        await _run(session, _BY_CLIENT, {"p_account": account_id, "p_client": client_id})
    ).first()
    return None if found is None else _row(found)


async def by_id(session: AsyncSession, reservation_id: int) -> OrderRow | None:
    found = (await _run(session, _BY_ID, {"p_id": reservation_id})).first()
    return None if found is None else _row(found)


async def by_order_id(session: AsyncSession, order_id: str) -> OrderRow | None:
    found = (await _run(session, _BY_ORDER, {"p_order": order_id})).first()
    return None if found is None else _row(found)


_LIVE = or_(R.filled_qty + R.closed_qty < R.qty, R.reserved > 0)


async def live_sells(session: AsyncSession, account_id: int, symbol: str) -> list[OrderRow]:
    """Every sell order of the account in the symbol that still holds something back."""
    rows = await session.execute(
        _SELECT.where(
            R.account_id == account_id, R.symbol == symbol, R.side == "sell", _LIVE
        ).order_by(R.id)
    )
    return [_row(r) for r in rows]


async def live_row(
    session: AsyncSession,
    account_id: int,
    symbol: str,
    *,
    reservation_id: int | None = None,
    order_id: str | None = None,
) -> OrderRow | None:
    stmt = _SELECT.where(R.account_id == account_id, R.symbol == symbol, _LIVE)
    if reservation_id is not None:
        stmt = stmt.where(R.id == reservation_id)
    if order_id is not None:
        stmt = stmt.where(R.order_id == order_id)
    found = (await session.execute(stmt)).first()
    return None if found is None else _row(found)


async def has_pending(session: AsyncSession, account_id: int, symbol: str, side: str) -> bool:
    found = await session.scalar(
        select(R.id)
        .where(
            R.account_id == account_id,
            R.symbol == symbol,
            R.side == side,
            R.status == "pending",
        )
        .limit(1)
    )
    return found is not None


async def pending_older_than(session: AsyncSession, cutoff: datetime) -> list[OrderRow]:
    rows = await session.execute(
        _SELECT.where(R.status == "pending", R.created_at < cutoff).order_by(R.id).limit(100)
    )
    return [_row(r) for r in rows]


async def list_for_account(
    session: AsyncSession,
    account_id: int,
    *,
    symbol: str | None,
    open_only: bool,
    limit: int,
    before_id: int | None,
) -> list[OrderRow]:
    conditions = [R.account_id == account_id]
    if symbol is not None:
        conditions.append(R.symbol == symbol)
    if open_only:
        conditions.append(R.status.in_(("pending", "open")))
    if before_id is not None:
        conditions.append(R.id < before_id)
    rows = await session.execute(
        _SELECT.where(and_(*conditions)).order_by(R.id.desc()).limit(limit)
    )
    return [_row(r) for r in rows]


async def save(session: AsyncSession, orders: Sequence[OrderRow]) -> None:
    now = datetime.now(UTC)
    changed = [o for o in orders if o.dirty]
    for order in changed:
        order.updated_at = now
        order.dirty = False
    if changed:
        params = [{"p_id": o.id, **{f"p_{c}": getattr(o, c) for c in _UPDATABLE}} for o in changed]
        await _run(session, _SAVE, params)


async def acknowledge(
    session: AsyncSession, reservation_id: int, order_id: str | None, status: str
) -> OrderRow | None:
    """Record the book's answer for a pending order; None if it was recorded already."""
    params = {"p_id": reservation_id, "p_order": order_id, "p_status": status}
    found = (await _run(session, _ACKNOWLEDGE, params)).first()
    return None if found is None else _row(found)


async def delete(session: AsyncSession, reservation_id: int) -> None:
    await session.execute(delete_(R).where(R.id == reservation_id))


async def holding(session: AsyncSession, account_id: int, symbol: str) -> Holding:
    row = (
        await session.execute(
            select(P.quantity, P.cost_basis).where(P.account_id == account_id, P.symbol == symbol)
        )
    ).first()
    return Holding() if row is None else Holding(int(row.quantity), row.cost_basis)


async def save_holding(session: AsyncSession, account_id: int, symbol: str, h: Holding) -> None:
    stmt = pg_insert(P).values(
        account_id=account_id,
        symbol=symbol,
        quantity=h.quantity,
        cost_basis=h.basis,
        avg_cost=h.avg_cost,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[P.account_id, P.symbol],
        set_={
            "quantity": stmt.excluded.quantity,
            "cost_basis": stmt.excluded.cost_basis,
            "avg_cost": stmt.excluded.avg_cost,
            "updated_at": func.now(),
        },
    )
    await session.execute(stmt)
