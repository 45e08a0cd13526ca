"""The operations port: `/` (the runbook's health check), `/metrics`, `/state`.

`/state` reports journal position and output cursors; `/state?digest=1` adds the books'
digest, which costs a full serialisation of every book (tests and tools only).

A raw ASGI app under uvicorn, sharing the service's event loop; three read-only routes do not
need a framework. uvicorn's own signal handling is switched off: the service owns SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from prometheus_client import make_asgi_app

from em_orderbook import metrics

logger = logging.getLogger(__name__)

SERVICE = "everything-market-orderbook"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_app(
    status: Callable[[], str],
    state: Callable[[bool], Awaitable[dict[str, Any]]],
    registry: metrics.Metrics,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    prometheus = make_asgi_app(registry.registry)

    async def json_response(send: Send, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/metrics":
            await prometheus(scope, receive, send)
        elif path == "/":
            current = status()
            code = 200 if current == "healthy" else 503
            await json_response(send, code, {"service": SERVICE, "status": current})
        elif path == "/state":
            digest = b"digest=1" in scope.get("query_string", b"")
            await json_response(send, 200, await state(digest))
        else:
            await json_response(send, 404, {"detail": "not found"})

    return app


class OpsServer:
    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], host: str, port: int
    ):
        self._sock = socket.create_server((host, port), reuse_port=False)
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(
            app, lifespan="off", access_log=False, log_config=None, log_level="warning"
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]), name="ops-http")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5.0)
            except (TimeoutError, Exception):  # a failed server must not block shutdown
                logger.warning("ops server did not stop cleanly", exc_info=True)
        self._sock.close()
