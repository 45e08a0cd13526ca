"""Signed events to JetStream, fed from the outbox, retried until acknowledged.

The body is the event's canonical JSON; `X-Signature` is its HMAC under REALITY_API_SECRET
and `Nats-Msg-Id` its event id, so a publish repeated after a lost ack (or by a second
replica) is dropped by the stream's duplicate window instead of applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import nats.errors
import sqlalchemy.exc
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import errors as js_errors

from em_common import contracts, messaging, signing
from em_reality import errors, outbox

logger = logging.getLogger(__name__)


def encode(payload: Mapping[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """The bytes published and their headers."""
    body = signing.canonical_json(payload)
    headers = {"Nats-Msg-Id": str(payload["event_id"]), "X-Signature": signing.sign(body, secret)}
    return body, headers


class NatsLink:
    """A NATS connection made in the background and kept: start-up never waits for NATS."""

    def __init__(self, url: str, name: str = "em-reality", connect_timeout: float = 5.0) -> None:
        self._url = url
        self._name = name
        self._connect_timeout = connect_timeout
        self.client: Client | None = None
        self._topology_ok = False
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    async def jetstream(self) -> JetStreamContext:
        """The JetStream context, connecting (and creating the streams) first if needed."""
        async with self._lock:
            if self.client is None or self.client.is_closed:
                try:
                    # nats.py keeps retrying a first connection forever when reconnects are
                    # endless; the relay would hang, so give up here and retry next tick.
                    self.client = await asyncio.wait_for(
                        messaging.connect(self._url, name=self._name), self._connect_timeout
                    )
                except (nats.errors.Error, OSError, TimeoutError) as exc:
                    self.client = None
                    raise errors.PublishError(f"NATS unreachable at {self._url}: {exc}") from exc
            js = self.client.jetstream()
            if not self._topology_ok:
                try:
                    await messaging.ensure_topology(js)
                except (nats.errors.Error, js_errors.Error) as exc:
                    raise errors.PublishError(f"JetStream not ready: {exc!r}") from exc
                self._topology_ok = True
            return js

    def topology_lost(self) -> None:
        self._topology_ok = False

    async def close(self) -> None:
        if self.client is not None and not self.client.is_closed:
            with contextlib.suppress(nats.errors.Error):
                await self.client.drain()
        self.client = None


@dataclass(slots=True)
class RelayCounters:
    published: int = 0
    duplicates: int = 0
    failures: int = 0


class Publisher:
    def __init__(self, link: NatsLink, secret: str, *, ack_timeout: float = 5.0) -> None:
        if not secret:
            raise errors.PublishError("REALITY_API_SECRET is empty: events cannot be signed")
        self._link = link
        self._secret = secret
        self._timeout = ack_timeout

    async def publish(self, payload: Mapping[str, Any]) -> bool:
        """Publish and wait for the ack; True when the stream already had this event id."""
        js = await self._link.jetstream()
        body, headers = encode(payload, self._secret)
        try:
            ack = await js.publish(
                contracts.REALITY_SUBJECT, body, timeout=self._timeout, headers=headers
            )
        except nats.errors.NoRespondersError as exc:
            self._link.topology_lost()
            raise errors.PublishError("no stream answers on reality.events") from exc
        except (nats.errors.Error, js_errors.Error, TimeoutError) as exc:
            raise errors.PublishError(f"publish not acknowledged: {exc!r}") from exc
        return bool(ack.duplicate)


class OutboxRelay:
    """Moves events from the outbox to JetStream in order; the leader runs one."""

    def __init__(
        self,
        store: outbox.OutboxStore,
        publisher: Publisher,
        *,
        idle_seconds: float = 5.0,
        max_backoff: float = 10.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._idle = idle_seconds
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self.counters = RelayCounters()
        self.depth = 0

    def kick(self) -> None:
        """New events are queued: drain now rather than at the next idle tick."""
        self._wake.set()

    async def drain(self) -> int:
        """Publish everything pending, oldest first; stop at the first failure (raised)."""
        sent = 0
        while batch := await self._store.pending():
            for item in batch:
                duplicate = await self._publisher.publish(item.payload)
                await self._store.mark_published(item.seq)
                sent += 1
                self.counters.published += 1
                self.counters.duplicates += duplicate
        self.depth = 0
        return sent

    async def run(self, stop: asyncio.Event, may_publish: Callable[[], bool]) -> None:
        backoff = 0.5
        while not stop.is_set():
            wait = self._idle
            if may_publish():
                try:
                    sent = await self.drain()
                    if sent:
                        logger.info("events published", extra={"count": sent})
                    backoff = 0.5
                except (errors.PublishError, sqlalchemy.exc.SQLAlchemyError) as exc:
                    self.counters.failures += 1
                    self.depth = await self._safe_depth()
                    logger.warning(
                        "outbox waits for NATS", extra={"error": str(exc), "depth": self.depth}
                    )
                    wait, backoff = backoff, min(self._max_backoff, backoff * 2)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(stop, self._wake), wait)

    async def _safe_depth(self) -> int:
        try:
            return await self._store.depth()
        except sqlalchemy.exc.SQLAlchemyError:  # the database may be the thing that is down
            logger.warning("outbox depth unavailable")
            return self.depth


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
