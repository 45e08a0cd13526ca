"""ASGI middleware: maintenance gate and request metrics (pure ASGI, no per-request tasks).

Maintenance is read from `Control.state` on every request, so a KV change takes effect on
the next request. /health and /metrics stay open: probes and scrapes must keep working.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPEN_PATHS = frozenset({"/health", "/metrics"})


class GuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        runtime: Any = getattr(scope["app"].state, "runtime", None)
        if runtime is not None and scope["path"] not in OPEN_PATHS:
            state = runtime.control.state
            if state.maintenance_on:
                retry = state.retry_after(runtime.settings.maintenance_retry_after_seconds)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1013, "reason": "maintenance"})
                    return
                await _unavailable(send, state.maintenance_message, retry)
                return
        if scope["type"] != "http" or runtime is None:
            await self.app(scope, receive, send)
            return
        await self._measured(scope, receive, send, runtime)

    async def _measured(self, scope: Scope, receive: Receive, send: Send, runtime: Any) -> None:
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics = runtime.metrics
            metrics.request_seconds.labels(scope["method"], template).observe(
                time.perf_counter() - started
            )
            if status >= 500:
                metrics.responses_5xx.labels(template).inc()


async def _unavailable(send: Send, message: str, retry_after: int) -> None:
    body = json.dumps({"detail": message, "maintenance": True}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
