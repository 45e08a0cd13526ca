"""Orders and trades copied into PostgreSQL for queries and audit, in batches, idempotently.

The database is a read model: nothing in the matching path waits for it. Changes are
coalesced per order (the newest state wins) and written every `interval` seconds in one
transaction: COPY into staging tables, then set-based merges. Every write is idempotent
(insert-or-ignore plus an update to the absolute state), so re-projecting after a restart
is harmless.
`projected_through` is the journal position fully stored; snapshots wait for it.

A row the database refuses through its own constraints, such as an (account, client order
id) reused on another shard, is skipped rather than blocking the projection for good; the
trades that need it are skipped with it (the journal still holds both).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final

import psycopg

from em_common import db
from em_orderbook import ids as ids_
from em_orderbook import state, tasks
from em_orderbook.engine import Fill

logger = logging.getLogger(__name__)

# Rows are first COPied into session-local staging tables, then merged set-based.
_STAGING: Final = """
CREATE TEMP TABLE IF NOT EXISTS ob_orders (
    order_id text, account_id bigint, client_order_id text, symbol text, side text,
    type text, tif text, price_cents int, qty bigint, filled_qty bigint, status text,
    created_ms bigint, updated_ms bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ob_trades (
    trade_id text, symbol text, price_cents int, qty bigint, maker_order_id text,
    taker_order_id text, maker_account_id bigint, taker_account_id bigint, taker_side text,
    created_ms bigint
) ON COMMIT DELETE ROWS
"""
_COPY_ORDERS: Final = "COPY ob_orders FROM STDIN"
_COPY_TRADES: Final = "COPY ob_trades FROM STDIN"
_MERGE_ORDERS: Final = """
INSERT INTO orders (order_id, account_id, client_order_id, symbol, side, type, tif,
                    price_cents, qty, filled_qty, status, created_at, updated_at)
SELECT order_id, account_id, client_order_id, symbol, side, type, tif, price_cents, qty,
       filled_qty, status, to_timestamp(created_ms / 1000.0), to_timestamp(updated_ms / 1000.0)
FROM ob_orders
ON CONFLICT DO NOTHING;
UPDATE orders SET filled_qty = s.filled_qty, status = s.status,
                  updated_at = to_timestamp(s.updated_ms / 1000.0)
FROM ob_orders s
WHERE orders.order_id = s.order_id
  AND (orders.filled_qty, orders.status) IS DISTINCT FROM (s.filled_qty, s.status)
"""
_MERGE_TRADES: Final = """
INSERT INTO trades (trade_id, symbol, price_cents, qty, maker_order_id, taker_order_id,
                    maker_account_id, taker_account_id, taker_side, created_at)
SELECT trade_id, symbol, price_cents, qty, maker_order_id, taker_order_id, maker_account_id,
       taker_account_id, taker_side, to_timestamp(created_ms / 1000.0)
FROM ob_trades t
WHERE EXISTS (SELECT 1 FROM orders o WHERE o.order_id = t.maker_order_id)
  AND EXISTS (SELECT 1 FROM orders o WHERE o.order_id = t.taker_order_id)
ON CONFLICT DO NOTHING
"""
_SELECT_ORDER: Final = """
SELECT order_id, symbol, account_id, client_order_id, side, type, tif, price_cents, qty,
       filled_qty, status
FROM orders WHERE order_id = %s
"""


async def fetch_order(database_url: str, order_id: str) -> tuple[Any, ...] | None:
    """An order's stored row, for orders finished too long ago to be kept in memory."""
    async with await psycopg.AsyncConnection.connect(
        db.libpq_url(database_url), connect_timeout=5
    ) as conn:
        cur = await conn.execute(_SELECT_ORDER, (order_id,))
        return await cur.fetchone()


class Projector:
    def __init__(self, database_url: str, ids: ids_.Ids, *, interval: float = 0.2) -> None:
        self._url = db.libpq_url(database_url)
        self._ids = ids
        self.interval = interval
        self._orders: dict[int, state.Record] = {}
        self._trades: list[tuple[Fill, int]] = []
        self._last_pushed = 0
        self._through = 0
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._kick = asyncio.Event()
        self.failures = 0
        self.rows = 0

    async def start(self, through: int) -> None:
        self._last_pushed = self._through = through
        tasks.spawn(self._tasks, self._run(), "projector")

    def push(self, out: state.BatchOutput) -> None:
        self._last_pushed = out.seq
        orders = self._orders
        for record in out.changed:
            orders[record.order_id] = record
        if out.trades:
            ts = out.ts_ms
            self._trades.extend((fill, ts) for fill, _ in out.trades)
        if len(orders) + len(self._trades) > 20_000 and not self._kick.is_set():
            self._kick.set()

    @property
    def projected_through(self) -> int:
        return self._through

    @property
    def backlog(self) -> int:
        return len(self._orders) + len(self._trades)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.interval)
            self._kick.clear()
            await self.flush_once()

    async def flush_once(self) -> bool:
        """Write what is pending; True when the database is up to date."""
        through = self._last_pushed
        orders, trades = self._orders, self._trades
        if not orders and not trades:
            self._through = through
            return True
        self._orders, self._trades = {}, []
        try:
            await self._write(list(orders.values()), trades)
        except (psycopg.Error, OSError) as exc:
            self.failures += 1
            if self.failures == 1 or self.failures % 50 == 0:
                logger.warning("projection failed; will retry", extra={"error": repr(exc)})
            await self._reset()
            orders.update(self._orders)  # newer states win
            self._orders = orders
            self._trades = trades + self._trades
            await asyncio.sleep(min(0.1 * self.failures, 2.0))
            return False
        self.failures = 0
        self._through = through
        return True

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = conn = await psycopg.AsyncConnection.connect(self._url, connect_timeout=5)
            await conn.execute(_STAGING)
            await conn.commit()
        return self._conn

    async def _reset(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None

    async def _write(self, records: list[state.Record], trades: list[tuple[Fill, int]]) -> None:
        order = self._ids.order
        trade = self._ids.trade
        conn = await self._connection()
        async with conn.transaction(), conn.cursor() as cur:
            if records:
                async with cur.copy(_COPY_ORDERS) as copy:
                    for r in records:
                        await copy.write_row(
                            (
                                order(r.order_id),
                                r.account,
                                r.client_order_id,
                                r.symbol,
                                r.side,
                                r.kind,
                                r.tif,
                                r.price,
                                r.qty,
                                r.filled,
                                r.status,
                                r.created_ms,
                                r.updated_ms,
                            )
                        )
                await cur.execute(_MERGE_ORDERS)
            if trades:
                async with cur.copy(_COPY_TRADES) as copy:
                    for f, ts in trades:
                        await copy.write_row(
                            (
                                trade(f.trade_id),
                                f.symbol,
                                f.price,
                                f.qty,
                                order(f.maker_order_id),
                                order(f.taker_order_id),
                                f.maker_account,
                                f.taker_account,
                                f.taker_side,
                                ts,
                            )
                        )
                await cur.execute(_MERGE_TRADES)
        self.rows += len(records) + len(trades)

    async def close(self) -> None:
        await tasks.cancel(self._tasks)
        await self._reset()
