"""Plain psycopg connections for the order hot path, without SQLAlchemy in between.

Placing a resting order is two single-statement transactions (reserve; record the
orderbook's answer). Through an `AsyncSession` each costs a pool checkout, a greenlet hop
per round trip, BEGIN and COMMIT and the ORM's bookkeeping: most of the backend's CPU per
order. Here a statement runs in autocommit on a connection from a small pool, one round
trip, prepared by psycopg after its first few uses, through a cursor kept with its
connection (a new cursor copies the adapter map, which costs more than the statement).

Two pools share the database:
- `durable`: synchronous commit, for anything a reply promises (a reservation, money);
- `relaxed`: `synchronous_commit = off`, for writes that can be rebuilt when a crash loses
  the last few hundred milliseconds of them. Recording the orderbook's answer to a resting
  order is one: the reservation row stays `pending`, and the reconciler asks the orderbook
  again, which answers the same (it is idempotent on client_order_id). Never money.

A connection that breaks is dropped, never returned. `run` goes further: when the pooled
connection turns out dead (the database restarted since it was opened) it drops every idle
one as well and runs the operation once more on a new connection, so a restart costs the
requests in flight at that moment and nothing after. Every statement of the order path may
run twice: a reservation that did commit is found by its unique client_order_id, and
recording an answer is a conditional UPDATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import psycopg

from em_common import db

logger = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT_S = 5  # a database that does not answer fails the request, never hangs it
WAIT_RECHECK_S = 0.5


class RawPool:
    def __init__(self, database_url: str, size: int, *, relaxed: bool = False) -> None:
        self._dsn = db.libpq_url(database_url)
        self._options = "-c synchronous_commit=off" if relaxed else ""
        self._size = size
        self._idle: list[psycopg.AsyncCursor[Any]] = []
        self._open = 0  # connections in use or idle, and ones being opened
        self._freed = asyncio.Condition()
        self._waiting = 0
        self._closed = False

    @contextlib.asynccontextmanager
    async def cursor(self) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        """A cursor on a connection of the pool, in autocommit."""
        cur = await self._checkout()
        try:
            yield cur
        finally:
            await self._checkin(cur)

    async def run(self, op: Callable[[psycopg.AsyncCursor[Any]], Awaitable[T]]) -> T:
        """`op` on a pooled cursor, and once more on a new connection if that one was dead."""
        cur = await self._checkout()
        try:
            return await op(cur)
        except psycopg.OperationalError:
            if not cur.connection.broken:
                raise
        finally:
            await self._checkin(cur)
        logger.warning("database connection lost; reconnecting")
        await self._drop_idle()
        async with self.cursor() as fresh:
            return await op(fresh)

    async def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        for cur in idle:
            with contextlib.suppress(Exception):
                await cur.connection.close()
        if idle and self._waiting:
            async with self._freed:
                self._freed.notify_all()

    async def _checkout(self) -> psycopg.AsyncCursor[Any]:
        while True:
            if self._closed:
                raise RuntimeError("the pool is closed")
            while self._idle:
                cur = self._idle.pop()
                if not cur.connection.closed:
                    return cur
                self._open -= 1
            if self._open < self._size:
                self._open += 1
                try:
                    conn = await psycopg.AsyncConnection.connect(
                        self._dsn,
                        autocommit=True,
                        options=self._options,
                        connect_timeout=CONNECT_TIMEOUT_S,
                    )
                except BaseException:
                    self._open -= 1
                    raise
                return conn.cursor()
            # Bounded, then look again: a wake-up taken by a waiter that was cancelled at that
            # moment is lost, and must not leave the others waiting for the next check-in.
            self._waiting += 1
            try:
                async with self._freed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._freed.wait(), WAIT_RECHECK_S)
            finally:
                self._waiting -= 1

    async def _checkin(self, cur: psycopg.AsyncCursor[Any]) -> None:
        conn = cur.connection
        reusable = (
            not self._closed
            and not conn.broken
            and not conn.closed
            and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        )
        if reusable:
            self._idle.append(cur)
        else:
            self._open -= 1
            with contextlib.suppress(Exception):
                await conn.close()
        if self._waiting:
            async with self._freed:
                self._freed.notify()

    async def close(self) -> None:
        self._closed = True
        await self._drop_idle()
        async with self._freed:
            self._freed.notify_all()
