"""Periodic snapshots of the shard's state, so that a restart replays only a short journal.

Snapshots live next to the journal, in a JetStream object store, alternating between two
objects per shard and role. The outputs follower snapshots every SNAPSHOT_EVERY commands,
but only once every event and row produced up to that position is stored, so its replay
after a restart re-emits exactly what might still be missing; the matcher, whose state is
the same, recovers from those too and writes its own only when it stops, so matching never
pauses for one. The journal is purged up to the follower's *older* slot, so if the newest
snapshot turns out unreadable the older one plus the journal still rebuild the state.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import zlib
from collections.abc import Callable
from typing import Any, Final

from nats.aio.client import Client
from nats.js import api
from nats.js import errors as js_errors
from nats.js.object_store import ObjectStore

from em_orderbook import errors, state, tasks

logger = logging.getLogger(__name__)

FORMAT: Final = "em-orderbook-snapshot/1"
SLOTS: Final = 2


class SnapshotStore:
    def __init__(
        self, nc: Client, bucket: str, shard: int, shard_count: int, role: str = "matcher"
    ) -> None:
        self._js = nc.jetstream()
        self.role = role
        self.bucket = bucket
        self.shard = shard
        self.shard_count = shard_count
        self._store: ObjectStore | None = None

    async def open(self) -> None:
        try:
            self._store = await self._js.object_store(self.bucket)
        except js_errors.BucketNotFoundError:
            self._store = await self._js.create_object_store(
                self.bucket,
                config=api.ObjectStoreConfig(
                    description="Orderbook state snapshots", storage=api.StorageType.FILE
                ),
            )

    def _name(self, slot: int) -> str:
        return f"{self.role}-{self.shard}-{slot}"

    async def save(self, slot: int, epoch: str, snapshot: dict[str, Any]) -> None:
        assert self._store is not None
        doc = {"format": FORMAT, "shard": self.shard, "shard_count": self.shard_count}
        doc |= {"epoch": epoch, "state": snapshot}
        data = zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)
        await self._store.put(self._name(slot), data)

    async def load(self, epoch: str) -> list[tuple[int, dict[str, Any]]]:
        """Readable snapshots of this shard and journal epoch as (slot, state), newest first."""
        assert self._store is not None
        found: list[tuple[int, dict[str, Any]]] = []
        for slot in range(SLOTS):
            try:
                buffer = io.BytesIO()  # `get` without one concatenates chunks quadratically
                await self._store.get(self._name(slot), writeinto=buffer)
                doc = json.loads(zlib.decompress(buffer.getvalue()))
            except js_errors.ObjectNotFoundError:
                continue
            except (js_errors.Error, ValueError, zlib.error) as exc:
                logger.warning("unreadable snapshot", extra={"slot": slot, "error": repr(exc)})
                continue
            if doc.get("format") != FORMAT or doc.get("shard") != self.shard:
                logger.warning("ignoring foreign snapshot", extra={"slot": slot})
                continue
            if doc.get("shard_count") != self.shard_count:
                raise errors.RecoveryError(
                    f"snapshot was taken with {doc.get('shard_count')} shards, settings say "
                    f"{self.shard_count}: re-sharding needs a migration"
                )
            if doc.get("epoch") != epoch:
                raise errors.RecoveryError(
                    "snapshot belongs to another journal (was the journal stream recreated?)"
                )
            found.append((slot, doc["state"]))
        found.sort(key=lambda item: int(item[1]["seq"]), reverse=True)
        return found


class Snapshotter:
    """Decides when to snapshot and writes snapshots in the background."""

    def __init__(
        self,
        store: SnapshotStore,
        *,
        every: int,
        epoch: str,
        caught_up: Callable[[], int],
        purge_through: Callable[[int], Any],
    ) -> None:
        self.store = store
        self.every = every
        self.epoch = epoch
        self._caught_up = caught_up
        self._purge_through = purge_through
        self._since = 0
        self._busy = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.slot_seqs = [0] * SLOTS
        self.last_seq = 0

    @property
    def floor(self) -> int:
        """The older slot's position: the journal after it must be kept."""
        return min(self.slot_seqs)

    def restored(self, slots: list[tuple[int, int]]) -> None:
        """Slots and positions found at start-up, so the next write replaces the older one."""
        for slot, seq in slots:
            self.slot_seqs[slot] = seq
        self.last_seq = max(self.slot_seqs)

    def note(self, market: state.MarketState, commands: int) -> None:
        """Count applied commands; snapshot every `every` of them (0: only in `final`)."""
        self._since += commands
        if self.every and self._since >= self.every and not self._busy:
            self._since = 0
            self._busy = True
            snapshot = market.to_snapshot()
            tasks.spawn(self._tasks, self._write(snapshot), "snapshot")

    async def _write(self, snapshot: dict[str, Any], wait_s: float | None = None) -> None:
        try:
            seq = int(snapshot["seq"])
            loop = asyncio.get_running_loop()
            deadline = None if wait_s is None else loop.time() + wait_s
            while self._caught_up() < seq:
                if deadline is not None and loop.time() > deadline:
                    logger.warning("snapshot skipped: outputs not caught up", extra={"seq": seq})
                    return
                await asyncio.sleep(0.05)
            slot = self.slot_seqs.index(min(self.slot_seqs))
            await self.store.save(slot, self.epoch, snapshot)
            self.slot_seqs[slot] = seq
            self.last_seq = max(self.last_seq, seq)
            logger.info("snapshot stored", extra={"seq": seq, "slot": slot})
            await self._purge_through(self.floor)
        except Exception:
            logger.exception("snapshot failed")
        finally:
            self._busy = False

    async def final(self, market: state.MarketState, wait_s: float) -> None:
        """At shutdown: one more snapshot of the final state, so the next start replays nothing."""
        await tasks.cancel(self._tasks)
        if market.seq > self.last_seq:
            await self._write(market.to_snapshot(), wait_s)

    async def close(self) -> None:
        await tasks.cancel(self._tasks)
