"""Account balances and the double-entry ledger that explains every change to them.

Every writer of money locks the accounts it touches first (`lock`, in id order, so two
transactions never wait on each other in a cycle), then records movements and `flush`es
them: one ledger row per leg (the legs of a transaction sum to zero) and one UPDATE per
account. The account row lock also serialises everything else about that account
(its reservations and positions), so those need no locks of their own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend import errors
from em_backend.db import tables

Bucket = Literal["cash", "reserved", "collateral"]
ISSUER = "issuer"


@dataclass
class Balance:
    account_id: int
    cash: Decimal
    reserved: Decimal
    collateral: Decimal


async def lock(session: AsyncSession, account_ids: Iterable[int]) -> dict[int, Balance]:
    """Lock the accounts (in id order) and return their balances; missing ids are absent."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    a = tables.Account
    rows = await session.execute(
        select(a.id, a.cash, a.reserved, a.collateral)
        .where(a.id.in_(ids))
        .order_by(a.id)
        .with_for_update()
    )
    return {r.id: Balance(r.id, r.cash, r.reserved, r.collateral) for r in rows}


async def issuer_id(session: AsyncSession) -> int:
    a = tables.Account
    found = await session.scalar(select(a.id).where(a.system_key == ISSUER))
    if found is None:
        raise errors.Unavailable("the issuer account is missing; run the migrations")
    return int(found)


class Movements:
    """Transfers collected during one database transaction, written by `flush`."""

    def __init__(self, txn_id: str | None = None) -> None:
        self.txn_id = txn_id or uuid.uuid4().hex
        self._legs: list[dict[str, object]] = []
        self._deltas: dict[int, dict[str, Decimal]] = defaultdict(
            lambda: {"cash": Decimal(0), "reserved": Decimal(0), "collateral": Decimal(0)}
        )

    def __bool__(self) -> bool:
        return bool(self._legs)

    def move(
        self,
        source: tuple[int, Bucket],
        target: tuple[int, Bucket],
        amount: Decimal,
        *,
        kind: str,
        ref: str | None,
    ) -> None:
        """`amount` leaves `source` (account, bucket) and arrives at `target`."""
        if amount < 0:
            raise ValueError(f"negative transfer {amount} ({kind})")
        if amount == 0:
            return
        for (account_id, bucket), signed in ((source, -amount), (target, amount)):
            self._legs.append(
                {
                    "txn_id": self.txn_id,
                    "account_id": account_id,
                    "bucket": bucket,
                    "kind": kind,
                    "amount": signed,
                    "ref": ref,
                }
            )
            self._deltas[account_id][bucket] += signed

    def delta(self, account_id: int, bucket: Bucket) -> Decimal:
        return self._deltas[account_id][bucket] if account_id in self._deltas else Decimal(0)

    async def flush(self, session: AsyncSession) -> None:
        if not self._legs:
            return
        conn = await session.connection()
        await conn.execute(_INSERT_LEGS, self._legs)
        rows = [
            {
                "p_id": aid,
                "p_cash": d["cash"],
                "p_reserved": d["reserved"],
                "p_coll": d["collateral"],
            }
            for aid, d in sorted(self._deltas.items())
            if any(d.values())
        ]
        if rows:
            await conn.execute(_APPLY, rows)
        self._legs.clear()
        self._deltas.clear()


_LEDGER = cast(Table, tables.LedgerEntry.__table__)
_ACCOUNTS = cast(Table, tables.Account.__table__)
_INSERT_LEGS = insert(_LEDGER)
_APPLY = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("p_id"))
    .values(
        cash=_ACCOUNTS.c.cash + bindparam("p_cash"),
        reserved=_ACCOUNTS.c.reserved + bindparam("p_reserved"),
        collateral=_ACCOUNTS.c.collateral + bindparam("p_coll"),
        updated_at=func.now(),
    )
)
