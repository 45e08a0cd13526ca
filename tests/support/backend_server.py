"""Serve the real backend app with uvicorn on a free loopback port, inside the test's loop.

`serve(settings)` yields a RunningBackend with `base_url`, `ws_url` and the live `runtime`
(to inspect the in-memory state the HTTP answers come from).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import uvicorn

from em_backend.app import create_app
from em_backend.runtime import Runtime
from em_backend.settings import Settings
from tests.support import orderbook as orderbook_support

START_TIMEOUT_S = 30.0


@dataclass
class RunningBackend:
    base_url: str
    ws_url: str
    server: uvicorn.Server
    app_state: object

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app_state.runtime  # type: ignore[attr-defined]
        return runtime


class _QuietServer(uvicorn.Server):
    """Leaves signal handling to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[RunningBackend]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", ws="websockets-sansio"
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("backend exited during start-up")
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("backend did not start")
        await asyncio.sleep(0.02)
    try:
        yield RunningBackend(
            base_url=f"http://127.0.0.1:{port}",
            ws_url=f"ws://127.0.0.1:{port}",
            server=server,
            app_state=app.state,
        )
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
        sock.close()


@contextlib.contextmanager
def serve_in_thread(settings: Settings) -> Iterator[str]:
    """The backend (and the real orderbook, on the same database and NATS server) on their
    own loop in a thread, for sync callers such as schemathesis; yields the base URL."""
    ready: queue.Queue[str | BaseException] = queue.Queue()
    stop = threading.Event()
    config = orderbook_support.settings(
        settings.database_url, settings.nats_url, orderbook_support.unique("J")
    )

    async def main() -> None:
        try:
            async with orderbook_support.served(config) as orderbook:
                local = settings.model_copy(update={"orderbook_addr": orderbook.addr})
                async with serve(local) as running:
                    ready.put(running.base_url)
                    await asyncio.to_thread(stop.wait)
        except BaseException as exc:
            ready.put(exc)
            raise

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    first = ready.get(timeout=START_TIMEOUT_S + 10)
    if isinstance(first, BaseException):
        raise RuntimeError("backend failed to start in its thread") from first
    try:
        yield first
    finally:
        stop.set()
        thread.join(timeout=30)
