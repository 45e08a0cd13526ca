"""Rebuilding a shard's state from its newest usable snapshot plus the journal after it.

The service runs this at start-up (re-emitting what the replayed batches produced); tools and
the crash test run `rebuild` to recompute, from the journal alone, the books a shard must
come back with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from em_common import constants, messaging
from em_orderbook import errors, journaling, sharding, snapshotting, state
from em_orderbook.settings import OrderbookSettings

logger = logging.getLogger(__name__)


def names(prefix: str, shard: int) -> tuple[str, str, str]:
    """(journal stream, journal subject, snapshot bucket) of a shard."""
    return f"{prefix}_{shard}", f"{prefix.lower()}.{shard}", f"{prefix}_SNAPSHOTS"


class Loaded:
    """The starting point: state from a snapshot (or empty) and where the journal ends."""

    def __init__(
        self, market: state.MarketState, slots: list[tuple[int, int]], first: int, last: int
    ) -> None:
        self.market = market
        self.slots = slots
        self.first = first
        self.last = last


async def load(
    journal: journaling.Journal,
    store: snapshotting.SnapshotStore,
    *,
    retain: int,
    alpha: float,
    book_interval_ms: int,
    also: snapshotting.SnapshotStore | None = None,
) -> Loaded:
    """The newest usable snapshot of `store` (and of `also`, another role's snapshots of the
    same deterministic state), or an empty state when the journal starts at its beginning.
    `slots` are `store`'s own, for the next write to replace the older one."""
    first, last = await journal.open()
    await store.open()
    found = await store.load(journal.epoch)
    slots = [(slot, int(snap["seq"])) for slot, snap in found]
    if also is not None:
        await also.open()
        found += await also.load(journal.epoch)
        found.sort(key=lambda item: int(item[1]["seq"]), reverse=True)
    for slot, snap in found:
        seq = int(snap["seq"])
        if seq > last:
            raise errors.RecoveryError(
                f"snapshot is at journal {seq} but the journal ends at {last}"
            )
        if last > seq and first > seq + 1:
            logger.warning("snapshot older than the journal's start", extra={"slot": slot})
            continue
        try:
            market = state.MarketState.from_snapshot(snap, alpha=alpha)
        except (errors.OrderbookError, KeyError, TypeError, ValueError) as exc:
            logger.warning("snapshot unusable", extra={"slot": slot, "error": repr(exc)})
            continue
        return Loaded(market, slots, first, last)
    if first > 1 and last >= first:
        raise errors.RecoveryError(f"journal starts at {first} and no snapshot covers it")
    fresh = state.MarketState(retain=retain, alpha=alpha, book_interval_ms=book_interval_ms)
    return Loaded(fresh, slots, first, last)


async def replay(
    journal: journaling.Journal,
    loaded: Loaded,
    shard_count: int,
    on_output: Callable[[state.BatchOutput], Any] | None = None,
) -> int:
    """Apply the journal after the snapshot; returns how many batches were replayed."""
    market = loaded.market
    replayed = 0
    async for seq, payload in journal.read(market.seq + 1, loaded.last):
        ts_ms, count, params, cmds = journaling.decode(payload)
        if count != shard_count:
            raise errors.RecoveryError(f"journal batch {seq} was written with {count} shards")
        out = market.apply(seq, ts_ms, cmds, params)
        if on_output is not None:
            on_output(out)
        replayed += 1
    return replayed


async def rebuild(settings: OrderbookSettings, hostname: str = "") -> state.MarketState:
    """The state a shard must recover to, recomputed offline from snapshot and journal."""
    count = settings.orderbook_shard_count
    index = sharding.resolve_index(settings.orderbook_shard_index, count, hostname)
    stream, subject, bucket = names(settings.orderbook_journal, index)
    nc = await messaging.connect(settings.nats_url, name=f"orderbook-rebuild-{index}")
    try:
        journal = journaling.Journal(
            nc, stream, subject, max_inflight=1, ack_timeout=5.0, on_fatal=lambda exc: None
        )
        store = snapshotting.SnapshotStore(nc, bucket, index, count)
        alpha = constants.get_domain().ewma_alpha
        loaded = await load(
            journal,
            store,
            retain=settings.orderbook_idempotency_retain,
            alpha=alpha,
            book_interval_ms=settings.orderbook_book_interval_ms,
        )
        await replay(journal, loaded, count)
        return loaded.market
    finally:
        await nc.close()
