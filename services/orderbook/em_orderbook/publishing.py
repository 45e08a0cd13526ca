"""Trades and book changes to the MARKET stream, asynchronously and without loss.

Messages are queued per journal batch and published with many in flight; each must be
acknowledged by JetStream. Unacknowledged ones (timeout, refusal, NATS down) are sent again
with the same `Nats-Msg-Id`, which the stream de-duplicates. `published_through` is the
outbox cursor: every message of every batch up to it is stored. Snapshots wait for it, so a
restart re-emits from the snapshot onwards and nothing in between is lost.
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


class _Entry:
    __slots__ = ("acked", "msg_id", "payload", "sent_at", "seq", "subject")

    def __init__(self, seq: int, subject: str, msg_id: str, payload: bytes) -> None:
        self.seq = seq
        self.subject = subject
        self.msg_id = msg_id
        self.payload = payload
        self.acked = False
        self.sent_at = 0.0


class Publisher:
    def __init__(self, nc: Client, *, window: int = 1024, ack_timeout: float = 5.0) -> None:
        self._nc = nc
        self.window = window
        self.ack_timeout = ack_timeout
        self._queue: deque[_Entry] = deque()  # not yet acknowledged, in order
        self._unsent: deque[_Entry] = deque()  # to (re)send
        self._inflight: dict[str, _Entry] = {}
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
        if not messages:
            return
        for subject, msg_id, payload in messages:
            entry = _Entry(seq, subject, msg_id, payload)
            self._queue.append(entry)
            self._unsent.append(entry)
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
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._errors:
                await asyncio.sleep(min(0.05 * 2**self._errors, 2.0))
            while unsent and len(inflight) < self.window:
                entry = unsent.popleft()
                if entry.acked:
                    continue
                self._counter += 1
                token = str(self._counter)
                inflight[token] = entry
                entry.sent_at = time.monotonic()
                try:
                    await self._nc.publish(
                        entry.subject,
                        entry.payload,
                        reply=self._inbox.reply(token),
                        headers={"Nats-Msg-Id": entry.msg_id},
                    )
                except nats.errors.Error as exc:
                    self._ack(token, acks.AckError(repr(exc)))
                    break

    def _ack(self, token: str, ack: dict[str, Any] | acks.AckError) -> None:
        entry = self._inflight.pop(token, None)
        if entry is None or entry.acked:
            return
        if isinstance(ack, acks.AckError):
            self._errors = min(self._errors + 1, 6)
            if self._errors == 1:
                logger.warning("event publish refused", extra={"error": str(ack)})
            self._unsent.appendleft(entry)
        else:
            self._errors = 0
            entry.acked = True
            self.published += 1
            queue = self._queue
            while queue and queue[0].acked:
                queue.popleft()
        if self._unsent and not self._wake.is_set():
            self._wake.set()

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(self.ack_timeout / 2)
            cutoff = time.monotonic() - self.ack_timeout
            overdue = [t for t, e in self._inflight.items() if e.sent_at < cutoff]
            if overdue:
                logger.warning("event acks overdue; re-sending", extra={"count": len(overdue)})
                entries = [self._inflight.pop(t) for t in overdue]
                self._unsent.extendleft(reversed(entries))
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
