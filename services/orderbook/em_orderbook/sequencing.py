"""The single writer: commands queue here, go to the journal in batches, and are applied in
journal order once durable. Only `_durable` mutates the market state.

Batching is by arrival: every command submitted while the journal has `max_inflight`
batches outstanding joins the next batch, so under load each journal append carries many
orders (group commit) and at low load an order goes out at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from em_orderbook import commands, errors, journaling, state

logger = logging.getLogger(__name__)


class Sequencer:
    def __init__(
        self,
        market: state.MarketState,
        journal: journaling.Journal,
        *,
        shard_count: int,
        params: state.Params,
        max_batch: int,
        max_queue: int,
        linger_s: float = 0.0,
        on_output: Callable[[state.BatchOutput, int], None],
    ) -> None:
        self.market = market
        self.journal = journal
        self.shard_count = shard_count
        self.params = params
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.linger_s = linger_s
        self._last_cut = 0.0
        self._last_size = 0
        self._on_output = on_output
        self._queue: deque[tuple[commands.Command, asyncio.Future[Any]]] = deque()
        self._wake = asyncio.Event()
        self._last_ts = market.ts_ms
        self.closed: BaseException | None = None
        self.pending_places: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self.queued = 0
        self._idle = asyncio.Event()
        self._idle.set()
        journal.on_durable = self.durable
        journal.on_slot_free = self._slot_free

    def submit(self, cmd: commands.Command) -> asyncio.Future[Any]:
        """Queue a command; the future resolves with its result once journaled and applied."""
        if self.closed is not None:
            raise errors.Unavailable(f"orderbook is not taking orders: {self.closed}")
        if self.queued >= self.max_queue:
            raise errors.Unavailable("orderbook is overloaded; retry shortly")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((cmd, future))
        self.queued += 1
        self._idle.clear()
        if not self._wake.is_set():
            self._wake.set()
        return future

    def _slot_free(self) -> None:
        if self._queue and not self._wake.is_set():
            self._wake.set()

    async def run(self) -> None:
        """Cut batches and hand them to the journal until closed."""
        queue = self._queue
        journal = self.journal
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Concurrent callers (the last batch carried several) and recent traffic.
            busy = self._last_size > 1 and time.monotonic() - self._last_cut < 0.005
            if self.linger_s and busy and len(queue) < self.max_batch:
                await asyncio.sleep(self.linger_s)  # under load: let more orders join
            while queue and journal.can_send():
                self._last_cut = time.monotonic()
                size = self._last_size = min(len(queue), self.max_batch)
                cmds: list[commands.Command] = []
                futures: list[asyncio.Future[Any]] = []
                for _ in range(size):
                    cmd, future = queue.popleft()
                    cmds.append(cmd)
                    futures.append(future)
                now = time.time_ns() // 1_000_000
                ts = self._last_ts = now if now > self._last_ts else self._last_ts
                batch = journaling.Batch(cmds, futures, ts)
                await journal.send(batch, self.shard_count, self.params)

    def durable(self, batch: journaling.Batch) -> None:
        """Journal callback, in journal order: apply, answer the callers, pass outputs on."""
        started = time.perf_counter()
        out = self.market.apply(batch.seq, batch.ts_ms, batch.cmds, self.params)
        elapsed_ns = int((time.perf_counter() - started) * 1e9)
        self.queued -= len(batch.cmds)
        pending = self.pending_places
        for cmd, future, result in zip(batch.cmds, batch.futures, out.results, strict=True):
            if cmd[0] == commands.PLACE:
                pending.pop((cmd[2], cmd[3]), None)
            if not future.done():
                future.set_result(result)
        self._on_output(out, elapsed_ns)
        if not self.queued:
            self._idle.set()

    def close(self, reason: BaseException) -> None:
        """Refuse new commands and fail the queued ones (in-flight batches still complete)."""
        if self.closed is None:
            self.closed = reason
        while self._queue:
            _, future = self._queue.popleft()
            self.queued -= 1
            if not future.done():
                future.set_exception(errors.Unavailable(str(reason)))
        if not self.queued:
            self._idle.set()

    async def ticks(self) -> None:
        """Journal a tick when book changes wait for their interval and nothing else comes,
        so the last change is announced without waiting for the next order."""
        market = self.market
        interval = max(self.params[1], 10) / 1000
        while self.closed is None:
            await asyncio.sleep(interval)
            if market.pending_books and not self.queued:
                now = time.time_ns() // 1_000_000
                if now >= market.next_book_ms:
                    try:
                        self.submit([commands.TICK]).add_done_callback(_ignore)
                    except errors.Unavailable:
                        return

    async def wait_idle(self) -> None:
        """Until every submitted command is applied (or failed)."""
        await self._idle.wait()


def _ignore(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: a failed tick needs no one's attention
