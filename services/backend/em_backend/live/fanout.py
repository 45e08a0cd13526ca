"""Fan-out of live messages across backend replicas through core NATS (lossy by design).

A replica that changes something publishes once; every replica (itself included) receives
it on `<prefix>.<type>`, refreshes its in-memory quotes and hands it to its local hub.
Lost messages are tolerable: quotes are reloaded from the database periodically.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from em_backend.live.hub import Hub

logger = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], Awaitable[None] | None]


class Fanout:
    def __init__(self, nc: Nats, hub: Hub, *, prefix: str) -> None:
        self._nc = nc
        self._hub = hub
        self._prefix = prefix
        self._listeners: list[Listener] = []
        self._sub: Subscription | None = None

    def on_message(self, listener: Listener) -> None:
        """Run `listener` for every message before it reaches the sockets (cache refresh)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(f"{self._prefix}.>", cb=self._received)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    async def publish(self, message: dict[str, Any]) -> None:
        """Send to every replica; falls back to local delivery when NATS is not connected."""
        body = json.dumps(message, separators=(",", ":"), default=str).encode()
        if not self._nc.is_connected:
            await self._dispatch(message)
            return
        await self._nc.publish(f"{self._prefix}.{message['type']}", body)

    async def _received(self, msg: Msg) -> None:
        try:
            message = json.loads(msg.data)
        except ValueError:
            logger.warning("ignoring malformed live message", extra={"subject": msg.subject})
            return
        if isinstance(message, dict):
            await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                result = listener(message)
                if result is not None:
                    await result
            except Exception:
                logger.exception("live listener failed", extra={"type": message.get("type")})
        self._hub.deliver(message)
