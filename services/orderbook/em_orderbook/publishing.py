"""Trades and book changes to the MARKET stream, asynchronously and without loss.

Messages are queued per journal batch as a group, published in order, and only the group's
last message asks for an acknowledgement: JetStream stores one connection's messages for a
stream in the order they arrive, so that ack covers the whole group at a fraction of the
cost of one ack per message. A group whose ack is refused or overdue (NATS down, a restart),
or that was in flight across a reconnect (which may lose messages without the last one
noticing), is sent again whole with the same `Nats-Msg-Id`s, which the stream de-duplicates.

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


class _Group:
    __slots__ = ("acked", "connection", "messages", "sent_at", "seq")

    def __init__(self, seq: int, messages: list[events.Message]) -> None:
        self.seq = seq
        self.messages = messages
        self.acked = False
        self.sent_at = 0.0
        self.connection = 0


class Publisher:
    def __init__(self, nc: Client, *, window: int = 256, ack_timeout: float = 5.0) -> None:
        self._nc = nc
        self.window = window
        self.ack_timeout = ack_timeout
        self._queue: deque[_Group] = deque()  # not yet acknowledged, in order
        self._unsent: deque[_Group] = deque()  # to (re)send, in order
        self._inflight: dict[str, _Group] = {}
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
            if not self._wake.is_set():
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
        inflight = self._inflight
        publish = self._nc.publish
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._errors:
                await asyncio.sleep(min(0.05 * 2**self._errors, 2.0))
            while unsent and len(inflight) < self.window:
                group = unsent.popleft()
                if group.acked:
                    continue
                self._counter += 1
                token = str(self._counter)
                inflight[token] = group
                group.sent_at = time.monotonic()
                group.connection = self._nc.stats["reconnects"]
                *rest, (subject, msg_id, payload) = group.messages
                try:
                    for s, m, p in rest:
                        await publish(s, p, headers={"Nats-Msg-Id": m})
                    await publish(
                        subject,
                        payload,
                        reply=self._inbox.reply(token),
                        headers={"Nats-Msg-Id": msg_id},
                    )
                except nats.errors.Error as exc:
                    self._ack(token, acks.AckError(repr(exc)))
                    break

    def _ack(self, token: str, ack: dict[str, Any] | acks.AckError) -> None:
        group = self._inflight.pop(token, None)
        if group is None or group.acked:
            return
        if not isinstance(ack, acks.AckError) and self._nc.stats["reconnects"] != group.connection:
            # A reconnect since the group went out may have lost its earlier messages, which
            # the last one's ack would not reveal: send it again (duplicates are dropped).
            ack = acks.AckError("reconnected while the group was in flight")
        if isinstance(ack, acks.AckError):
            self._errors = min(self._errors + 1, 6)
            if self._errors == 1:
                logger.warning("event publish refused", extra={"error": str(ack)})
            self._unsent.appendleft(group)
        else:
            self._errors = 0
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
            cutoff = time.monotonic() - self.ack_timeout
            overdue = [t for t, g in self._inflight.items() if g.sent_at < cutoff]
            if overdue:
                logger.warning("event acks overdue; re-sending", extra={"groups": len(overdue)})
                groups = sorted((self._inflight.pop(t) for t in overdue), key=lambda g: g.seq)
                self._unsent.extendleft(reversed(groups))
                self._wake.set()

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
