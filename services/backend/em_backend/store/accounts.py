"""Traders: users, their accounts, and the starting grant paid by the issuer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend import errors
from em_backend.db import tables
from em_backend.store import ledger


@dataclass(frozen=True)
class TraderRow:
    user_id: int
    username: str
    account_id: int
    password_hash: str
    created_at: datetime


async def register(
    session: AsyncSession, username: str, password_hash: str, grant: Decimal
) -> TraderRow:
    """Create the user and its account, and credit the grant from the issuer (one txn)."""
    u, a = tables.User, tables.Account
    try:
        user = (
            await session.execute(
                insert(u)
                .values(username=username, password_hash=password_hash)
                .returning(u.id, u.created_at)
            )
        ).one()
    except IntegrityError as exc:
        raise errors.Conflict(f"username {username!r} is taken") from exc
    account_id = await session.scalar(insert(a).values(user_id=user.id).returning(a.id))
    assert account_id is not None
    issuer = await ledger.issuer_id(session)
    moves = ledger.Movements()
    moves.move((issuer, "cash"), (account_id, "cash"), grant, kind="grant", ref=f"user:{user.id}")
    await moves.flush(session)
    return TraderRow(user.id, username, account_id, password_hash, user.created_at)


async def by_username(session: AsyncSession, username: str) -> TraderRow | None:
    return await _one(session, tables.User.username == username)


async def by_user_id(session: AsyncSession, user_id: int) -> TraderRow | None:
    return await _one(session, tables.User.id == user_id)


async def _one(session: AsyncSession, condition: object) -> TraderRow | None:
    u, a = tables.User, tables.Account
    row = (
        await session.execute(
            select(u.id, u.username, u.password_hash, u.created_at, a.id.label("account_id"))
            .join(a, a.user_id == u.id)
            .where(condition)  # type: ignore[arg-type]
        )
    ).first()
    if row is None:
        return None
    return TraderRow(row.id, row.username, row.account_id, row.password_hash, row.created_at)
