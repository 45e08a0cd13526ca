"""`em backend` as a process: serves (reaching the real orderbook), and exits cleanly on
SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx

from em_cli.devstack import ports
from tests.integration.backend.helpers import (
    ADMIN_KEY,
    REALITY_SECRET,
    eventually,
    process_env,
    start_process,
)
from tests.support import orderbook as orderbook_support


async def test_serves_then_drains_on_sigterm(
    database_url: str, own_nats: str, orderbook: orderbook_support.Shard
) -> None:
    port = ports.free_port()
    env = process_env(database_url, own_nats, orderbook.addr)
    proc = await start_process(port, env, output=asyncio.subprocess.PIPE)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def health() -> int:
                try:
                    return (await http.get("/health")).status_code
                except httpx.TransportError:
                    return 0

            await eventually(health, lambda code: code == 200, within=30)
            listed = await http.post(
                "/api/v1/admin/stocks",
                json={"symbol": "ELON", "name": "Elon"},
                headers={"X-ADMIN-KEY": ADMIN_KEY},
            )
            assert listed.status_code == 201, listed.text
            # Answered by the real orderbook over gRPC (stale when it cannot be reached).
            pressure = (await http.get("/api/v1/market/ELON/pressure")).json()
            assert (pressure["stale"], pressure["market_price"]) == (False, None)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.stdout is not None
    log = (await proc.stdout.read()).decode()
    assert '"msg": "backend stopping"' in log
    assert REALITY_SECRET not in log
    assert ADMIN_KEY not in log


async def test_placeholder_secret_refused_outside_development() -> None:
    env = {
        **os.environ,
        "EM_ENV": "production",
        "DATABASE_URL": "postgresql://127.0.0.1:1/market",
        "ADMIN_API_KEY": "changethis",
        "REALITY_API_SECRET": "x" * 20,
        "JWT_SECRET": "y" * 20,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "em_cli.main",
        "backend",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"ADMIN_API_KEY is missing or a placeholder" in err
    assert b"changethis" not in err
