"""The order path's plain connection pool: bounded, shared fairly, and the relaxed pool
really commits without waiting for the disk."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from em_backend.db.rawpool import RawPool


async def test_concurrent_work_shares_a_bounded_number_of_connections(database_url: str) -> None:
    pool = RawPool(database_url, 2)

    async def backend_pid(cur: psycopg.AsyncCursor[Any]) -> int:
        await cur.execute("SELECT pg_backend_pid() FROM pg_sleep(0.01)")
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    try:
        pids = await asyncio.wait_for(
            asyncio.gather(*(pool.run(backend_pid) for _ in range(20))), 30
        )
    finally:
        await pool.close()
    assert len(pids) == 20
    assert len(set(pids)) == 2


async def test_the_relaxed_pool_commits_without_waiting_for_the_disk(database_url: str) -> None:
    # Test servers run without synchronous commits; this database gets the production default.
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        [(name,)] = await (await conn.execute("SELECT current_database()")).fetchall()
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
    durable, relaxed = RawPool(database_url, 1), RawPool(database_url, 1, relaxed=True)

    async def setting(cur: psycopg.AsyncCursor[Any]) -> str:
        await cur.execute("SHOW synchronous_commit")
        row = await cur.fetchone()
        assert row is not None
        return str(row[0])

    try:
        assert await durable.run(setting) == "on"
        assert await relaxed.run(setting) == "off"
    finally:
        await durable.close()
        await relaxed.close()
