"""The outputs follower: MARKET events and PostgreSQL rows, derived from the journal.

The matcher only journals, matches and answers. Everything downstream is produced by this
follower, which tails the same journal and replays it through the same deterministic state
code, so it derives exactly the trades, sequence numbers and book changes the matcher saw,
without the matcher spending a cycle on them or waiting for NATS or PostgreSQL. It normally
runs as a child process of `em orderbook` (its own core), inline in tests, or as a separate
`em orderbook --role outputs` container.

Its position is an outbox cursor: it snapshots its state only once everything up to that
point is published and stored, and after a crash replays from its snapshot, re-emitting
what may be missing (the stream and the database de-duplicate). The same snapshots bound
the matcher's replay (it is the same state), so the follower also purges the journal,
behind its older snapshot. It answers status requests on
`_EM.orderbook.<journal stream>.outputs` so the matcher can report its lag.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

from em_common import constants, messaging
from em_orderbook import (
    errors,
    events,
    ids,
    journaling,
    projecting,
    publishing,
    recovering,
    snapshotting,
    state,
    tasks,
)
from em_orderbook.settings import OrderbookSettings

logger = logging.getLogger(__name__)


def status_subject(stream: str) -> str:
    return f"_EM.orderbook.{stream}.outputs"


class OutputsFollower:
    def __init__(self, settings: OrderbookSettings, shard: int) -> None:
        self.settings = settings
        self.shard = shard
        self.count = settings.orderbook_shard_count
        self.alpha = constants.get_domain().ewma_alpha
        self.market = state.MarketState(retain=1, alpha=self.alpha)
        self._nc: Client | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.journal: journaling.Journal | None = None
        self.publisher: publishing.Publisher | None = None
        self.projector: projecting.Projector | None = None
        self.snapshotter: snapshotting.Snapshotter | None = None
        self.failed: BaseException | None = None
        self._ids = ids.Ids(shard, "")
        self._progress = asyncio.Event()
        self.stopped = asyncio.Event()  # set when the tail fails: the process should exit

    async def start(self) -> None:
        s = self.settings
        self._nc = nc = await messaging.connect(s.nats_url, name=f"orderbook-outputs-{self.shard}")
        await messaging.ensure_streams(nc.jetstream())
        stream, subject, bucket = recovering.names(s.orderbook_journal, self.shard)
        journal = self.journal = journaling.Journal(
            nc, stream, subject, max_inflight=1, ack_timeout=5.0, on_fatal=lambda exc: None
        )
        own = snapshotting.SnapshotStore(nc, bucket, self.shard, self.count, role="outputs")
        loaded = await self._load(
            journal, own, snapshotting.SnapshotStore(nc, bucket, self.shard, self.count)
        )
        self.market = loaded.market
        the_ids = ids.Ids(self.shard, journal.epoch)
        self._ids = the_ids
        self.publisher = publishing.Publisher(nc)
        self.projector = projecting.Projector(
            s.database_dsn, the_ids, interval=s.orderbook_projection_interval
        )
        self.snapshotter = snapshotting.Snapshotter(
            own,
            every=s.snapshot_every,
            epoch=journal.epoch,
            caught_up=self.caught_up,
            purge_through=journal.purge_through,
        )
        self.snapshotter.restored(loaded.slots)
        await self.publisher.start(self.market.seq)
        await self.projector.start(self.market.seq)
        await nc.subscribe(status_subject(stream), cb=self._status)
        tasks.spawn(self._tasks, self._tail(), "outputs-tail")
        logger.info(
            "outputs follower started", extra={"shard": self.shard, "journal_seq": self.market.seq}
        )

    async def _load(
        self,
        journal: journaling.Journal,
        own: snapshotting.SnapshotStore,
        matcher: snapshotting.SnapshotStore,
    ) -> recovering.Loaded:
        s = self.settings
        kwargs: dict[str, Any] = {
            "retain": s.orderbook_idempotency_retain,
            "alpha": self.alpha,
            "book_interval_ms": s.orderbook_book_interval_ms,
        }
        try:
            return await recovering.load(journal, own, **kwargs)
        except errors.RecoveryError:
            # Our snapshots are gone and the journal was purged past our start: the best we
            # can do is continue from the matcher's state; outputs before it may be missing.
            logger.error("outputs follower has no usable snapshot; starting at the matcher's")
            loaded = await recovering.load(journal, matcher, **kwargs)
            loaded.slots = []
            return loaded

    async def _tail(self) -> None:
        assert self.journal is not None
        market = self.market
        try:
            async for seq, payload in self.journal.follow(market.seq + 1):
                ts_ms, count, params, cmds = journaling.decode(payload)
                if count != self.count:
                    raise errors.RecoveryError(f"journal batch {seq} has {count} shards")
                self.output(market.apply(seq, ts_ms, cmds, params))
        except Exception as exc:  # anything else would leave a silent, stuck follower
            self.failed = exc
            logger.critical("outputs follower stopped", extra={"error": repr(exc)})
            self.stopped.set()

    def output(self, out: state.BatchOutput) -> None:
        assert self.publisher is not None and self.projector is not None
        self.publisher.push(out.seq, events.build(out, self._ids))
        self.projector.push(out)
        assert self.snapshotter is not None
        self.snapshotter.note(self.market, len(out.results))
        self._progress.set()

    def caught_up(self) -> int:
        assert self.publisher is not None and self.projector is not None
        return min(self.publisher.published_through, self.projector.projected_through)

    def status(self) -> dict[str, Any]:
        return {
            "seq": self.market.seq,
            "published_through": self.publisher.published_through if self.publisher else 0,
            "projected_through": self.projector.projected_through if self.projector else 0,
            "floor": self.snapshotter.floor if self.snapshotter else 0,
            "snapshot_seq": self.snapshotter.last_seq if self.snapshotter else 0,
            "failed": None if self.failed is None else str(self.failed),
        }

    async def _status(self, msg: Msg) -> None:
        if msg.reply:
            await msg.respond(json.dumps(self.status()).encode())

    async def drain(self, wait_s: float) -> None:
        """Catch up with the journal's end, flush what was derived, snapshot, stop tailing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        if self.journal is not None and self.failed is None:
            try:
                _, last = await self.journal.open()
            except (nats.errors.Error, TimeoutError, errors.OrderbookError):
                last = self.market.seq
            while self.market.seq < last and self.failed is None:
                self._progress.clear()
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), remaining)
        await tasks.cancel(self._tasks)
        if self.publisher is not None:
            await self.publisher.flush(self.market.seq, wait_s)
        if self.projector is not None:
            await self.projector.flush_once()
        if self.snapshotter is not None:
            await self.snapshotter.final(self.market, max(0.5, deadline - loop.time()))

    async def close(self) -> None:
        await tasks.cancel(self._tasks)
        for part in (self.snapshotter, self.publisher, self.projector, self.journal):
            if part is not None:
                await part.close()
        if self._nc is not None:
            await self._nc.close()
