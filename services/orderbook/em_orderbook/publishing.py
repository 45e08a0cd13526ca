"""Trades and book changes to the MARKET stream, asynchronously and without loss.

Messages are queued per journal batch and published in order by one sender that keeps a
single *flight* outstanding: everything queued goes out at once, and only the flight's last
message asks for an acknowledgement. JetStream stores one connection's messages for a stream
in the order they arrive, so that one ack covers the whole flight; under load this is one
ack per round trip instead of one per message. A flight whose ack is refused or overdue
(NATS down, a restart), or that was in flight across a reconnect (which may lose messages
without the last one noticing), is sent again with the same `Nats-Msg-Id`s, which the stream
de-duplicates.

`published_through` is the outbox cursor: every message of every batch up to it is stored.
Snapshots wait for it, so a restart re-emits from the snapshot on and loses nothing between.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

import nats.errors
from nats.aio.client import Client

from em_orderbook import acks, events, tasks

logger = logging.getLogger(__name__)

MAX_FLIGHT_MESSAGES = 5_000


class _Group:
    __slots__ = ("acked", "messages", "seq")

    def __init__(self, seq: int, messages: list[events.Message]) -> None:
        self.seq = seq
        self.messages = messages
        self.acked = False


class _Flight:
    __slots__ = ("connection", "groups", "sent_at", "token")

    def __init__(self, token: str, groups: list[_Group], connection: int) -> None:
        self.token = token
        self.groups = groups
        self.connection = connection
        self.sent_at = time.monotonic()


class Publisher:
    def __init__(self, nc: Client, *, ack_timeout: float = 5.0) -> None:
        self._nc = nc
        self.ack_timeout = ack_timeout
        self._queue: deque[_Group] = deque()  # not yet acknowledged, in order
        self._unsent: deque[_Group] = deque()  # to (re)send, in order
        self._flight: _Flight | None = None
        self._inbox = acks.AckInbox(nc, self._ack)
        self._wake = asyncio.Event()
        self._counter = 0
        self._last_pushed = 0
        self._errors = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.published = 0

    async def start(self, through: int) -> None:
        self._last_pushed = through
        await self._inbox.start()
        tasks.spawn(self._tasks, self._run(), "publisher")
        tasks.spawn(self._tasks, self._watchdog(), "publisher-watchdog")

    def push(self, seq: int, messages: list[events.Message]) -> None:
        self._last_pushed = seq
        if messages:
            group = _Group(seq, messages)
            self._queue.append(group)
            self._unsent.append(group)
            if self._flight is None and not self._wake.is_set():
                self._wake.set()

    @property
    def published_through(self) -> int:
        """Journal position up to which every message is stored in the MARKET stream."""
        return self._queue[0].seq - 1 if self._queue else self._last_pushed

    @property
    def backlog(self) -> int:
        return len(self._queue)

    async def _run(self) -> None:
        unsent = self._unsent
        publish = self._nc.publish
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._flight is not None or not unsent:
                continue
            if self._errors:
                await asyncio.sleep(min(0.05 * 2**self._errors, 2.0))
            groups: list[_Group] = []
            count = 0
            while unsent and count < MAX_FLIGHT_MESSAGES:
                group = unsent.popleft()
                if not group.acked:
                    groups.append(group)
                    count += len(group.messages)
            if not groups:
                continue
            self._counter += 1
            flight = self._flight = _Flight(
                str(self._counter), groups, self._nc.stats["reconnects"]
            )
            messages = [m for g in groups for m in g.messages]
            *rest, (subject, msg_id, payload) = messages
            try:
                for s, m, p in rest:
                    await publish(s, p, headers={"Nats-Msg-Id": m})
                await publish(
                    subject,
                    payload,
                    reply=self._inbox.reply(flight.token),
                    headers={"Nats-Msg-Id": msg_id},
                )
            except nats.errors.Error as exc:
                self._ack(flight.token, acks.AckError(repr(exc)))

    def _ack(self, token: str, ack: dict[str, Any] | acks.AckError) -> None:
        flight = self._flight
        if flight is None or flight.token != token:
            return  # a late answer to a flight already given up on
        self._flight = None
        if not isinstance(ack, acks.AckError) and self._nc.stats["reconnects"] != flight.connection:
            ack = acks.AckError("reconnected while the flight was out")
        if isinstance(ack, acks.AckError):
            self._errors = min(self._errors + 1, 6)
            if self._errors == 1:
                logger.warning("event publish not confirmed; retrying", extra={"error": str(ack)})
            self._unsent.extendleft(reversed(flight.groups))
        else:
            self._errors = 0
            for group in flight.groups:
                group.acked = True
                self.published += len(group.messages)
            queue = self._queue
            while queue and queue[0].acked:
                queue.popleft()
        if self._unsent and not self._wake.is_set():
            self._wake.set()

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(self.ack_timeout / 2)
            flight = self._flight
            if flight is not None and time.monotonic() - flight.sent_at > self.ack_timeout:
                self._ack(flight.token, acks.AckError("ack overdue"))

    async def flush(self, seq: int, wait_s: float) -> bool:
        """Wait until everything up to `seq` is stored (or `wait_s` passes)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while self.published_through < seq:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def close(self) -> None:
        await tasks.cancel(self._tasks)
        await self._inbox.stop()
