"""The shard's command journal: a JetStream stream appended in order, pipelined and fenced.

Every command is journaled *before* the engine sees it, and the engine applies a batch only
once JetStream has acknowledged it, so the in-memory books never run ahead of what a restart
would rebuild. Batches are group-committed (one message carries every command queued while
earlier batches were in flight) and up to `max_inflight` messages are in flight at once.

Order is enforced by the server: each message says `Nats-Expected-Last-Sequence: seq - 1`,
so a batch can never be stored after a gap, and a second writer on the same shard is refused
(fencing). A lost or refused ack puts the journal into repair: in-flight batches are re-sent
one by one with their original `Nats-Msg-Id`, so a batch that was in fact stored is answered
as a duplicate instead of being written twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.js import api
from nats.js import errors as js_errors

from em_orderbook import acks, commands, errors, state, tasks

logger = logging.getLogger(__name__)

EPOCH_KEY = "em_epoch"
_BACKOFF_MAX_S = 2.0


class Batch:
    """Commands journaled (and later applied) together; `futures` wait for their results."""

    __slots__ = ("acked", "cmds", "futures", "payload", "sent_at", "seq", "ts_ms")

    def __init__(
        self, cmds: list[commands.Command], futures: list[asyncio.Future[Any]], ts_ms: int
    ) -> None:
        self.cmds = cmds
        self.futures = futures
        self.ts_ms = ts_ms
        self.seq = 0
        self.payload = b""
        self.acked = False
        self.sent_at = 0.0


def encode(
    ts_ms: int, shard_count: int, params: state.Params, cmds: list[commands.Command]
) -> bytes:
    body = {"ts": ts_ms, "n": shard_count, "p": params, "c": cmds}
    return json.dumps(body, separators=(",", ":")).encode()


def decode(payload: bytes) -> tuple[int, int, state.Params, list[commands.Command]]:
    data = json.loads(payload)
    retain, interval = data["p"]
    return int(data["ts"]), int(data["n"]), (int(retain), int(interval)), data["c"]


class Journal:
    def __init__(
        self,
        nc: Client,
        stream: str,
        subject: str,
        *,
        max_inflight: int,
        ack_timeout: float,
        on_fatal: Callable[[BaseException], None],
    ) -> None:
        self._nc = nc
        self._js = nc.jetstream()
        self.stream = stream
        self.subject = subject
        self.max_inflight = max_inflight
        self.ack_timeout = ack_timeout
        self._on_fatal = on_fatal
        self._inflight: deque[Batch] = deque()
        self._by_seq: dict[str, Batch] = {}
        self._inbox = acks.AckInbox(nc, self._ack)
        self._next_seq = 0
        self.epoch = ""
        self.repairing = False
        self.failed: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Set by the sequencer: apply a durable batch; wake the writer when a slot frees.
        self.on_durable: Callable[[Batch], None] = lambda batch: None
        self.on_slot_free: Callable[[], None] = lambda: None

    # -- setup and reading ---------------------------------------------------------------

    async def open(self) -> tuple[int, int]:
        """Create the stream if needed; return (first seq, last seq) of what it holds."""
        try:
            info = await self._js.stream_info(self.stream)
        except js_errors.NotFoundError:
            config = api.StreamConfig(
                name=self.stream,
                description="Orderbook command journal (one shard); source of truth",
                subjects=[self.subject],
                storage=api.StorageType.FILE,
                retention=api.RetentionPolicy.LIMITS,
                duplicate_window=120.0,
                metadata={EPOCH_KEY: secrets.token_hex(3)},
            )
            await self._js.add_stream(config)
            info = await self._js.stream_info(self.stream)
            logger.info("created journal stream", extra={"stream": self.stream})
        epoch = (info.config.metadata or {}).get(EPOCH_KEY)
        if not epoch:
            raise errors.RecoveryError(f"stream {self.stream} has no {EPOCH_KEY} metadata")
        self.epoch = epoch
        return int(info.state.first_seq), int(info.state.last_seq)

    async def read(self, start: int, end: int) -> AsyncIterator[tuple[int, bytes]]:
        """Messages start..end (inclusive) in order, through a throw-away pull consumer."""
        if start > end:
            return
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=api.AckPolicy.NONE,
            inactive_threshold=60.0,
            mem_storage=True,
        )
        sub = await self._js.pull_subscribe(self.subject, stream=self.stream, config=config)
        try:
            expected = start
            while expected <= end:
                for msg in await sub.fetch(batch=min(1000, end - expected + 1), timeout=10):
                    seq = msg.metadata.sequence.stream
                    if seq != expected:
                        raise errors.RecoveryError(f"journal read {seq}, expected {expected}")
                    yield seq, msg.data
                    expected += 1
        finally:
            await sub.unsubscribe()

    async def follow(self, start: int) -> AsyncIterator[tuple[int, bytes]]:
        """Messages from `start` on, forever: a tail that survives NATS restarts."""
        expected = start
        while True:
            config = api.ConsumerConfig(
                deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=expected,
                ack_policy=api.AckPolicy.NONE,
                inactive_threshold=60.0,
                mem_storage=True,
            )
            try:
                sub = await self._js.pull_subscribe(self.subject, stream=self.stream, config=config)
            except (nats.errors.Error, TimeoutError) as exc:
                logger.warning("journal tail cannot subscribe", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
                continue
            try:
                while True:
                    try:
                        msgs = await sub.fetch(batch=1000, timeout=1.0)
                    except (nats.errors.TimeoutError, TimeoutError):
                        continue
                    for msg in msgs:
                        seq = msg.metadata.sequence.stream
                        if seq < expected:
                            continue
                        if seq != expected:
                            raise errors.RecoveryError(f"journal tail read {seq}, not {expected}")
                        yield seq, msg.data
                        expected += 1
            except nats.errors.Error as exc:
                logger.warning("journal tail interrupted", extra={"error": repr(exc)})
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(nats.errors.Error):
                    await sub.unsubscribe()

    async def purge_through(self, seq: int) -> None:
        """Drop messages up to and including `seq` (covered by a stored snapshot)."""
        if seq > 0:
            await self._js.purge_stream(self.stream, seq=seq + 1)

    # -- appending -----------------------------------------------------------------------

    async def start(self, last_seq: int) -> None:
        self._next_seq = last_seq + 1
        await self._inbox.start()
        tasks.spawn(self._tasks, self._watchdog(), "journal-watchdog")

    def can_send(self) -> bool:
        return (
            not self.repairing and self.failed is None and len(self._inflight) < self.max_inflight
        )

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    async def send(self, batch: Batch, shard_count: int, params: state.Params) -> None:
        seq = batch.seq = self._next_seq
        self._next_seq = seq + 1
        batch.payload = encode(batch.ts_ms, shard_count, params, batch.cmds)
        batch.sent_at = time.monotonic()
        self._inflight.append(batch)
        token = str(seq)
        self._by_seq[token] = batch
        try:
            await self._nc.publish(
                self.subject,
                batch.payload,
                reply=self._inbox.reply(token),
                headers=self._headers(seq),
            )
        except nats.errors.Error as exc:  # e.g. connection closed: repair re-sends it
            logger.warning("journal append not sent", extra={"seq": seq, "error": repr(exc)})
            if not self.repairing:
                self._start_repair()

    def _headers(self, seq: int) -> dict[str, str]:
        return {
            "Nats-Msg-Id": f"{self.epoch}:{seq}",
            "Nats-Expected-Last-Sequence": str(seq - 1),
        }

    def _ack(self, token: str, ack: dict[str, Any] | acks.AckError) -> None:
        batch = self._by_seq.get(token)
        if batch is None or batch.acked:
            return
        if isinstance(ack, acks.AckError):
            if not self.repairing:
                logger.warning("journal append refused", extra={"seq": batch.seq, "error": ack})
                self._start_repair()
            return
        if ack.get("seq") != batch.seq or ack.get("stream") != self.stream:
            self._fail(errors.JournalFenced(f"journal ack {ack} for batch {batch.seq}"))
            return
        batch.acked = True
        self._advance()

    def _advance(self) -> None:
        inflight = self._inflight
        freed = False
        while inflight and inflight[0].acked:
            batch = inflight.popleft()
            del self._by_seq[str(batch.seq)]
            freed = True
            try:
                self.on_durable(batch)
            except Exception as exc:
                self._fail(exc)
                return
        if freed:
            self.on_slot_free()

    def _fail(self, exc: BaseException) -> None:
        if self.failed is None:
            self.failed = exc
            logger.critical("journal failed; stopping", extra={"error": repr(exc)})
            self._on_fatal(exc)

    # -- repair --------------------------------------------------------------------------

    async def _watchdog(self) -> None:
        while self.failed is None:
            await asyncio.sleep(self.ack_timeout / 4)
            head = self._inflight[0] if self._inflight else None
            overdue = head is not None and time.monotonic() - head.sent_at > self.ack_timeout
            if head is not None and overdue and not self.repairing:
                logger.warning("journal ack overdue", extra={"seq": head.seq})
                self._start_repair()

    def _start_repair(self) -> None:
        self.repairing = True
        tasks.spawn(self._tasks, self._repair(), "journal-repair")

    async def _repair(self) -> None:
        delay = 0.05
        try:
            while self._inflight and self.failed is None:
                batch = self._inflight[0]
                if not batch.acked:
                    try:
                        await self._resend(batch)
                        delay = 0.05
                    except (TimeoutError, nats.errors.Error, acks.AckError) as exc:
                        logger.warning("journal retry", extra={"seq": batch.seq, "error": exc})
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, _BACKOFF_MAX_S)
                        continue
                    batch.acked = True
                self._advance()
        except errors.JournalFenced as exc:
            self._fail(exc)
        finally:
            self.repairing = False
            self.on_slot_free()

    async def _resend(self, batch: Batch) -> None:
        msg = await self._nc.request(
            self.subject, batch.payload, timeout=self.ack_timeout, headers=self._headers(batch.seq)
        )
        ack = acks.parse(msg)
        if isinstance(ack, acks.AckError):
            if ack.err_code != acks.WRONG_LAST_SEQUENCE:
                raise ack
            await self._confirm_stored(batch)
        elif ack.get("seq") != batch.seq:
            raise errors.JournalFenced(f"journal ack {ack} for batch {batch.seq}")

    async def _confirm_stored(self, batch: Batch) -> None:
        """After 'wrong last sequence': the batch must already be there, written by us."""
        try:
            stored = await self._js.get_msg(self.stream, batch.seq)
        except js_errors.NotFoundError:
            raise errors.JournalFenced(f"journal moved past {batch.seq - 1} without us") from None
        msg_id = (stored.headers or {}).get("Nats-Msg-Id")
        if msg_id != f"{self.epoch}:{batch.seq}" or stored.data != batch.payload:
            raise errors.JournalFenced(f"journal seq {batch.seq} was written by someone else")

    async def close(self) -> None:
        await tasks.cancel(self._tasks)
        await self._inbox.stop()

    def fail_pending(self, exc: BaseException) -> None:
        for batch in self._inflight:
            for future in batch.futures:
                if not future.done():
                    future.set_exception(exc)
