"""One orderbook shard's matcher: start-up recovery, the single-writer loop, drain.

Start-up order matters: the ops port answers first (`starting`), then the journal and the
newest usable snapshot are loaded and the journal tail is replayed, and only then does gRPC
accept orders. Shutdown is the reverse: refuse new work, let in-flight orders finish
durably, snapshot, exit. Events and database rows are the outputs follower's job
(following.py); the matcher asks it for its position to report lag and to know how much
journal may be purged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from typing import Any

import nats.errors
import psycopg
from nats.aio.client import Client

from em_common import constants, messaging
from em_orderbook import (
    errors,
    following,
    http_ops,
    ids,
    journaling,
    metrics,
    projecting,
    recovering,
    sequencing,
    sharding,
    snapshotting,
    state,
    tasks,
)
from em_orderbook.settings import OrderbookSettings

logger = logging.getLogger(__name__)


class OrderbookService:
    def __init__(self, settings: OrderbookSettings, *, alpha: float | None = None) -> None:
        self.settings = settings
        count = settings.orderbook_shard_count
        index = sharding.resolve_index(
            settings.orderbook_shard_index, count, settings.hostname or socket.gethostname()
        )
        self.shard = sharding.Shard(index, count)
        self.alpha = alpha if alpha is not None else constants.get_domain().ewma_alpha
        self.metrics = metrics.Metrics()
        self.status = "starting"
        self.exit_code = 0
        self.market = state.MarketState(
            retain=settings.orderbook_idempotency_retain, alpha=self.alpha
        )
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._nc: Client | None = None
        self.ids = ids.Ids(index, "")
        self.journal: journaling.Journal | None = None
        self.sequencer: sequencing.Sequencer | None = None
        self.outputs: dict[str, Any] | None = None
        self._status_subject = ""
        self.snapshotter: snapshotting.Snapshotter | None = None
        self.ops: http_ops.OpsServer | None = None
        self.metrics.watch(self.gauges)

    # -- lifecycle -----------------------------------------------------------------------

    async def start_ops(self) -> int:
        """Serve / and /metrics before recovery, so probes see `starting`; returns the port."""
        app = http_ops.make_app(lambda: self.status, self.describe, self.metrics)
        s = self.settings
        self.ops = http_ops.OpsServer(app, s.orderbook_bind, s.orderbook_http_port)
        self.ops.start()
        return self.ops.port

    async def start(self) -> None:
        s = self.settings
        self._nc = nc = await messaging.connect(s.nats_url, name=f"orderbook-{self.shard.index}")
        await messaging.ensure_streams(nc.jetstream())
        stream, subject, bucket = recovering.names(s.orderbook_journal, self.shard.index)
        journal = self.journal = journaling.Journal(
            nc,
            stream,
            subject,
            max_inflight=s.orderbook_journal_inflight,
            ack_timeout=s.orderbook_ack_timeout,
            on_fatal=self._fatal,
        )
        store = snapshotting.SnapshotStore(nc, bucket, self.shard.index, self.shard.count)
        loaded = await recovering.load(
            journal,
            store,
            retain=s.orderbook_idempotency_retain,
            alpha=self.alpha,
            book_interval_ms=s.orderbook_book_interval_ms,
            also=snapshotting.SnapshotStore(
                nc, bucket, self.shard.index, self.shard.count, role="outputs"
            ),
        )
        self.ids = ids.Ids(self.shard.index, journal.epoch)
        self.market = loaded.market
        self._status_subject = following.status_subject(stream)
        # The matcher snapshots only when it stops: while running, the follower's snapshots
        # (the same state) bound its replay, and taking them never stalls matching.
        self.snapshotter = snapshotting.Snapshotter(
            store,
            every=0,
            epoch=journal.epoch,
            caught_up=lambda: self.market.seq,
            purge_through=_no_purge,
        )
        self.snapshotter.restored(loaded.slots)
        replayed = await recovering.replay(journal, loaded, self.shard.count)
        last = loaded.last
        self.sequencer = sequencing.Sequencer(
            self.market,
            journal,
            shard_count=self.shard.count,
            params=(s.orderbook_idempotency_retain, s.orderbook_book_interval_ms),
            max_batch=s.orderbook_batch_max,
            max_queue=s.orderbook_queue_max,
            linger_s=s.orderbook_journal_linger_ms / 1000,
            on_output=self._output,
        )
        await journal.start(last)
        tasks.spawn(self._tasks, self.sequencer.run(), "sequencer")
        if s.orderbook_book_interval_ms:
            tasks.spawn(self._tasks, self.sequencer.ticks(), "book-ticks")
        tasks.spawn(self._tasks, self._watch_outputs(), "outputs-status")
        logger.info(
            "orderbook recovered",
            extra={
                "shard": self.shard.index,
                "shards": self.shard.count,
                "journal_seq": self.market.seq,
                "replayed_batches": replayed,
                "open_orders": self.market.engine.open_orders(),
                "digest": self.market.digest(),
            },
        )

    def serving(self) -> None:
        self.status = "healthy"

    async def wait(self) -> int:
        await self._stop.wait()
        return self.exit_code

    def request_stop(self, code: int = 0) -> None:
        self.exit_code = self.exit_code or code
        self._stop.set()

    def _fatal(self, exc: BaseException) -> None:
        self.status = "failed"
        if self.sequencer is not None:
            self.sequencer.close(exc)
        if self.journal is not None:
            self.journal.fail_pending(errors.Unavailable(f"journal failed: {exc}"))
        self.request_stop(70)

    async def drain(self) -> None:
        """Finish in-flight commands, flush outputs, snapshot (each step bounded)."""
        if self.status != "failed":
            self.status = "draining"
        wait_s = self.settings.orderbook_drain_seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        if self.sequencer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.sequencer.wait_idle(), wait_s)
            self.sequencer.close(errors.Unavailable("orderbook is shutting down"))
        if self.snapshotter is not None and self.status != "failed":
            await self.snapshotter.final(self.market, max(0.5, deadline - loop.time()))

    async def close(self) -> None:
        if self.ops is not None:
            await self.ops.stop()
        for part in (self.snapshotter, self.journal):
            if part is not None:
                await part.close()
        await tasks.cancel(self._tasks)
        if self._nc is not None:
            await self._nc.close()

    # -- outputs -------------------------------------------------------------------------

    def _output(self, out: state.BatchOutput, elapsed_ns: int) -> None:
        m = self.metrics
        if elapsed_ns:
            m.apply_seconds.observe(elapsed_ns / 1e9)
            m.journal_batch.observe(len(out.results))
        if out.trades:
            m.fills.inc(len(out.trades))
        if self.snapshotter is not None:
            self.snapshotter.note(self.market, len(out.results))

    async def outputs_status(self) -> dict[str, Any] | None:
        """Ask the outputs follower where it is; None when it does not answer."""
        if self._nc is None or not self._status_subject:
            return None
        try:
            msg = await self._nc.request(self._status_subject, b"", timeout=0.5)
            self.outputs = dict(json.loads(msg.data))
        except (nats.errors.Error, TimeoutError, ValueError):
            self.outputs = None
        return self.outputs

    async def _watch_outputs(self) -> None:
        while True:
            await self.outputs_status()
            await asyncio.sleep(1.0)

    # -- reading -------------------------------------------------------------------------

    async def describe(self, digest: bool = True) -> dict[str, Any]:
        market = self.market
        outputs = await self.outputs_status() or {}
        return {
            "digest": market.digest() if digest else None,
            "service": http_ops.SERVICE,
            "status": self.status,
            "shard": self.shard.index,
            "shards": self.shard.count,
            "epoch": self.ids.epoch,
            "journal_seq": market.seq,
            "open_orders": market.engine.open_orders(),
            "symbols": sorted(market.symbols),
            "published_through": outputs.get("published_through"),
            "projected_through": outputs.get("projected_through"),
            "outputs": outputs or None,
        }

    async def stored_order(self, order_id: str) -> tuple[Any, ...] | None:
        try:
            return await projecting.fetch_order(self.settings.database_dsn, order_id)
        except (OSError, psycopg.Error) as exc:
            logger.warning("order lookup in the database failed", extra={"error": repr(exc)})
            return None

    def gauges(self) -> dict[str, Any]:
        market = self.market
        engine = market.engine
        depth = []
        for symbol in market.symbols:
            book = engine.book(symbol)
            for side in (book.bids, book.asks):
                total = sum(level.total for level in side.levels.values())
                depth.append((symbol, side.name, total, len(side.keys)))
        seq = market.seq
        outputs = self.outputs or {}
        lag = {
            "queued_commands": self.sequencer.queued if self.sequencer else 0,
            "inflight_batches": self.journal.inflight if self.journal else 0,
            "unpublished_batches": seq - int(outputs.get("published_through", seq)),
            "unprojected_batches": seq - int(outputs.get("projected_through", seq)),
        }
        return {"seq": seq, "open_orders": engine.open_orders(), "depth": depth, "lag": lag}


async def _no_purge(seq: int) -> None:
    """The follower purges the journal, behind its own older snapshot."""
