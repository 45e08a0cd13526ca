"""`em backend` with WEB_CONCURRENCY=2: two workers on one socket, a dead one replaced,
SIGTERM drains them all."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from em_cli.devstack import ports
from tests.integration.backend.helpers import (
    ADMIN_KEY,
    REALITY_SECRET,
    eventually,
    process_env,
    start_process,
)


def children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


async def test_workers_share_the_port_and_a_dead_one_is_replaced(
    database_url: str, own_nats: str
) -> None:
    port = ports.free_port()
    env = process_env(
        database_url, own_nats, f"127.0.0.1:{ports.free_port()}", WEB_CONCURRENCY="2"
    )  # /health does not need the orderbook
    proc = await start_process(port, env, output=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    lines: list[str] = []

    async def collect(stream: asyncio.StreamReader) -> None:
        async for line in stream:
            lines.append(line.decode())

    reader = asyncio.create_task(collect(proc.stdout))

    def started() -> int:
        return sum('"msg": "Application startup complete."' in line for line in lines)

    try:
        # A fresh connection per request, so the kernel hands each to whichever worker
        # accepts it first.
        async def health() -> int:
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                    return (await http.get("/health")).status_code
            except httpx.TransportError:
                return 0

        await eventually(health, lambda code: code == 200, within=30)
        first = children(proc.pid)
        assert len(first) == 2

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        replaced = await eventually(
            lambda: asyncio.sleep(0, children(proc.pid)),
            lambda now: len(now) == 2 and victim not in now,
            within=10,
        )
        assert replaced - first, "a new worker took the dead one's place"
        await eventually(health, lambda code: code == 200, within=30)
        await eventually(lambda: asyncio.sleep(0, started()), lambda n: n == 3, within=30)

        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        await asyncio.wait_for(reader, 30)
        assert code == 0, "".join(lines)
        assert all(_gone(worker) for worker in replaced)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        reader.cancel()
    log = "".join(lines)
    assert '"msg": "worker died"' in log
    assert log.count('"msg": "backend stopping"') == 2  # both workers drained
    assert REALITY_SECRET not in log and ADMIN_KEY not in log


def _gone(pid: int) -> bool:
    """Exited (a zombie until its parent's parent reaps it counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_workers_do_not_outlive_a_killed_supervisor(database_url: str, own_nats: str) -> None:
    env = process_env(database_url, own_nats, f"127.0.0.1:{ports.free_port()}", WEB_CONCURRENCY="2")
    proc = await start_process(ports.free_port(), env, output=asyncio.subprocess.DEVNULL)
    try:
        workers = await eventually(
            lambda: asyncio.sleep(0, children(proc.pid)), lambda now: len(now) == 2, within=10
        )
    finally:
        proc.kill()
        await proc.wait()
    await eventually(
        lambda: asyncio.sleep(0, [w for w in workers if not _gone(w)]),
        lambda alive: alive == [],
        within=30,
    )
