"""Durable JetStream pull consumers with explicit ack after the effect is committed.

A consumer runs a list of handlers for each message, in order (or one batch handler for
each fetched batch); a message is acked only when all of them returned. A handler that
raises makes the message come back later (nak with a delay), so every handler must be
idempotent: the MARKET trades consumer runs the
price recompute and, added by the trading code, settlement (idempotent on `trade_id`).
Handlers that refuse a message for good (bad signature, invalid payload) return normally
after recording why: refused messages are acked, never redelivered forever. While
`paused()` is true (maintenance: writers stopped) nothing is fetched; messages wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats import errors as nats_errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from em_backend.metrics import Metrics

logger = logging.getLogger(__name__)

Handler = Callable[[Msg], Awaitable[None]]
BatchHandler = Callable[[list[Msg]], Awaitable[None]]

RETRY_DELAY_SECONDS = 1.0
MAX_DELIVER = 50
PAUSE_POLL_SECONDS = 0.5


class DurableConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        *,
        name: str,
        stream: str,
        subject: str,
        metrics: Metrics,
        batch: int = 64,
        handlers: list[Handler] | None = None,
        batch_handler: BatchHandler | None = None,
        paused: Callable[[], bool] = lambda: False,
    ) -> None:
        self.name = name
        self.stream = stream
        self.subject = subject
        self.handlers: list[Handler] = list(handlers or [])
        self.batch_handler = batch_handler
        self._js = js
        self._metrics = metrics
        self._batch = batch
        self._paused = paused
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def add_handler(self, handler: Handler) -> None:
        """Append a handler; it runs after the ones already registered, for every message."""
        self.handlers.append(handler)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        """Finish the message in hand, then stop fetching (SIGTERM drain)."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        config = api.ConsumerConfig(
            durable_name=self.name,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=30,
            max_deliver=MAX_DELIVER,
            filter_subject=self.subject,
        )
        return await self._js.pull_subscribe(
            self.subject, durable=self.name, stream=self.stream, config=config
        )

    async def _run(self) -> None:
        sub: JetStreamContext.PullSubscription | None = None
        while not self._stopping.is_set():
            try:
                if self._paused():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), PAUSE_POLL_SECONDS)
                    continue
                if sub is None:
                    sub = await self._subscribe()
                try:
                    messages = await sub.fetch(self._batch, timeout=1.0)
                except (nats_errors.TimeoutError, TimeoutError):
                    continue
                if self.batch_handler is not None:
                    await self.handle_batch(messages)
                else:
                    for msg in messages:
                        await self.handle(msg)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning(
                    "consumer loop failed; retrying", exc_info=True, extra={"consumer": self.name}
                )
                sub = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), RETRY_DELAY_SECONDS)
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def handle_batch(self, messages: list[Msg]) -> None:
        """One call for the whole fetch; all acked on success, all nak'ed on failure."""
        assert self.batch_handler is not None
        try:
            await self.batch_handler(messages)
        except Exception:
            logger.exception(
                "batch handler failed; messages will be redelivered",
                extra={"consumer": self.name, "count": len(messages)},
            )
            self._metrics.consumer_messages.labels(self.name, "retry").inc(len(messages))
            for msg in messages:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=RETRY_DELAY_SECONDS)
            return
        for msg in messages:
            await msg.ack()
        self._metrics.consumer_messages.labels(self.name, "acked").inc(len(messages))

    async def handle(self, msg: Msg) -> None:
        """Run every handler; ack on success, nak with a delay on any failure."""
        try:
            for handler in self.handlers:
                await handler(msg)
        except Exception:
            logger.exception(
                "handler failed; message will be redelivered",
                extra={"consumer": self.name, "subject": msg.subject},
            )
            self._metrics.consumer_messages.labels(self.name, "retry").inc()
            with contextlib.suppress(Exception):
                await msg.nak(delay=RETRY_DELAY_SECONDS)
            return
        await msg.ack()
        self._metrics.consumer_messages.labels(self.name, "acked").inc()
