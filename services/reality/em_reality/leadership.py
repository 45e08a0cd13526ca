"""One active engine among replicas: a PostgreSQL session-level advisory lock.

The lock lives as long as the session that took it, so a replica that dies (or loses its
database connection) frees it without any lease bookkeeping; another replica takes it at its
next attempt. Deterministic event ids make an overlap harmless anyway; the lock makes it rare.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

import psycopg

from em_common import db

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock derived from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


LOCK_KEY = lock_key("everything-market:reality-engine")


class LeaderLock:
    def __init__(self, database_url: str, key: int = LOCK_KEY) -> None:
        self._url = db.libpq_url(database_url)
        self._key = key
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self.is_leader = False

    async def ensure(self) -> bool:
        """Leader now? Checks the held session is alive, else tries to take the lock."""
        if self._conn is not None and not self._conn.closed:
            try:
                await self._conn.execute("SELECT 1")
                if self.is_leader:
                    return True
            except psycopg.Error:
                logger.warning("leader session lost")
                await self._drop()
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=5
                )
            cursor = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
            row = await cursor.fetchone()
        except psycopg.Error as exc:
            logger.warning("leader lock unavailable", extra={"error": str(exc)})
            await self._drop()
            return False
        was = self.is_leader
        self.is_leader = bool(row and row[0])
        if self.is_leader and not was:
            logger.info("became leader")
        return self.is_leader

    async def _drop(self) -> None:
        self.is_leader = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
        self._conn = None

    async def release(self) -> None:
        if self._conn is not None and self.is_leader and not self._conn.closed:
            with contextlib.suppress(psycopg.Error):
                await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        await self._drop()
