"""The WebSocket hub of one replica: who is connected, what they want, bounded queues.

`deliver()` never awaits a socket: it serialises a message once and puts it on each
interested client's queue; a client whose queue is full is dropped on the spot, so one
slow reader can never hold up the others. Each connection's own task drains its queue.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from em_backend.metrics import Metrics

logger = logging.getLogger(__name__)

ALL = "*"
_ids = itertools.count(1)


@dataclass(eq=False)
class Client:
    """One socket's state; `account_id` is set for authenticated sockets (private messages)."""

    queue_size: int
    account_id: int | None = None
    id: int = field(default_factory=lambda: next(_ids))
    symbols: set[str] = field(default_factory=set)
    queue: asyncio.Queue[str] = field(init=False)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    # Set whenever something is queued or the client is dropped: the socket's sender waits
    # on this one event (no task per message) and drains the queue without waiting.
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)

    def offer(self, text: str) -> bool:
        """Queue one serialised message; False when the queue is full (caller drops)."""
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        self.wakeup.set()
        return True

    def wants(self, message: dict[str, Any]) -> bool:
        """Private messages go to their account only; symbol messages to subscribers."""
        account = message.get("account_id")
        if account is not None:
            return self.account_id is not None and account == self.account_id
        symbol = message.get("symbol")
        if symbol is None:
            return True
        return ALL in self.symbols or symbol in self.symbols


class Hub:
    def __init__(self, *, queue_size: int, metrics: Metrics) -> None:
        self.queue_size = queue_size
        self._clients: set[Client] = set()
        self._metrics = metrics

    @property
    def count(self) -> int:
        return len(self._clients)

    def connect(self, account_id: int | None = None) -> Client:
        client = Client(queue_size=self.queue_size, account_id=account_id)
        self._clients.add(client)
        self._metrics.ws_connections.set(len(self._clients))
        return client

    def disconnect(self, client: Client) -> None:
        self._clients.discard(client)
        self._metrics.ws_connections.set(len(self._clients))

    def deliver(self, message: dict[str, Any]) -> int:
        """Queue `message` for every interested local client; returns how many got it."""
        text: str | None = None
        delivered = 0
        for client in list(self._clients):
            if client.dropped.is_set() or not client.wants(message):
                continue
            if text is None:
                text = json.dumps(message, separators=(",", ":"), default=str)
            if client.offer(text):
                delivered += 1
            else:
                self.drop(client)
        return delivered

    def deliver_many(self, messages: Iterable[dict[str, Any]]) -> None:
        for message in messages:
            self.deliver(message)

    def drop(self, client: Client) -> None:
        """Disconnect a client that cannot keep up; its socket task closes it."""
        logger.info("dropping slow websocket client", extra={"client_id": client.id})
        client.dropped.set()
        client.wakeup.set()
        self._metrics.ws_dropped.inc()
        self.disconnect(client)
