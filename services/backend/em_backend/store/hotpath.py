"""The statements of a resting order, as plain SQL on a psycopg cursor (db/rawpool.py).

Each is one statement in autocommit, so one round trip and one transaction: PostgreSQL runs
every part of a data-modifying WITH query or none of them. Column lists follow
`orders.OrderRow`, so rows map onto it positionally; parameters are positional too
(psycopg converts a query once and caches it, but dumps a dict's keys on every call).
"""

from __future__ import annotations

from typing import Any

import psycopg

from em_backend.store.orders import COLUMNS, OrderRow

_RETURNING = ", ".join(COLUMNS)
_INSERTED = [c for c in COLUMNS if c not in ("id", "created_at", "updated_at")]

# A buy holds price x quantity whatever else the account does: insert the reservation,
# write both ledger legs, move cash to reserved. The constraints refuse what must not be:
# cash below zero (insufficient funds), a client_order_id used before (a retry), an
# account that no longer exists.
_RESERVE_BUY = f"""
WITH r AS (
    INSERT INTO order_reservations ({", ".join(_INSERTED)})
    VALUES ({", ".join("%s" for _ in _INSERTED)})
    RETURNING {_RETURNING}
), legs AS (
    INSERT INTO ledger_entries (txn_id, account_id, bucket, kind, amount, ref)
    SELECT %s, r.account_id, leg.bucket, 'reserve', leg.amount, 'order:' || r.id
    FROM r CROSS JOIN LATERAL (VALUES ('cash', -r.reserved), ('reserved', r.reserved))
        AS leg (bucket, amount)
), moved AS (
    UPDATE accounts
    SET cash = accounts.cash - r.reserved, reserved = accounts.reserved + r.reserved,
        updated_at = now()
    FROM r WHERE accounts.id = r.account_id
)
SELECT {_RETURNING} FROM r
"""

_ACKNOWLEDGE = f"""
UPDATE order_reservations SET order_id = %s, status = %s, updated_at = now()
WHERE id = %s AND status = 'pending'
RETURNING {_RETURNING}
"""

_BY_ID = f"SELECT {_RETURNING} FROM order_reservations WHERE id = %s"


def _row(found: tuple[Any, ...] | None) -> OrderRow | None:
    return None if found is None else OrderRow(*found)


async def reserve_buy(cur: psycopg.AsyncCursor[Any], order: OrderRow, txn_id: str) -> OrderRow:
    """Insert a pending buy holding `order.reserved` (ledger transaction `txn_id`); raises
    psycopg.IntegrityError naming the constraint that refused it."""
    await cur.execute(_RESERVE_BUY, [*(getattr(order, c) for c in _INSERTED), txn_id])
    row = _row(await cur.fetchone())
    if row is None:  # pragma: no cover - an INSERT … RETURNING always returns its row
        raise RuntimeError("the reservation insert returned nothing")
    return row


async def acknowledge(
    cur: psycopg.AsyncCursor[Any], reservation_id: int, order_id: str | None, status: str
) -> OrderRow | None:
    """Record the book's answer for a pending order; None if it was recorded already."""
    await cur.execute(_ACKNOWLEDGE, (order_id, status, reservation_id))
    return _row(await cur.fetchone())


async def by_id(cur: psycopg.AsyncCursor[Any], reservation_id: int) -> OrderRow | None:
    await cur.execute(_BY_ID, (reservation_id,))
    return _row(await cur.fetchone())
