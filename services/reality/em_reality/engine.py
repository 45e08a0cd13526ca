"""The loop: every POLL_INTERVAL seconds one cycle, never two at once, on the leader only.

A cycle: refresh the symbol list, crawl the sources, let the pipeline match, dedupe and
score the new articles, ask the LLM where the §6 condition holds and the budget allows,
then queue the events and mark the articles seen in one transaction and wake the relay.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import sqlalchemy.exc

from em_common import contracts
from em_reality import crawling, errors, leadership, llm, outbox, pipeline, publishing, sources
from em_reality import symbols as symbol_lists

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class CycleStats:
    started_at: datetime
    duration_s: float = 0.0
    fetched: int = 0
    extracted: int = 0
    articles: int = 0
    skipped_seen: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    grouped: int = 0
    unmatched: int = 0
    events: int = 0
    queued: int = 0
    llm_modes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CycleResult:
    events: list[contracts.RealityEvent]
    drafts: list[pipeline.Draft]
    stats: CycleStats


@dataclass(slots=True)
class Totals:
    """Cumulative figures since start, read by the metrics collector."""

    cycles: int = 0
    failed_cycles: int = 0
    fetched: int = 0
    extracted: int = 0
    dropped: collections.Counter[str] = field(default_factory=collections.Counter)
    duplicates: int = 0
    events_queued: int = 0
    last_cycle_duration_s: float = 0.0
    last_cycle_at: datetime | None = None


async def _nothing_seen(keys: Collection[str]) -> set[str]:
    return set()


class Engine:
    def __init__(
        self,
        *,
        source_list: Sequence[sources.Source],
        crawler_factory: Callable[[crawling.SeenFilter], crawling.Crawler],
        core: pipeline.Pipeline,
        llm_runner: llm.LlmRunner,
        symbol_source: symbol_lists.SymbolSource,
        store: outbox.OutboxStore | None = None,
        relay: publishing.OutboxRelay | None = None,
        leader: leadership.LeaderLock | None = None,
        poll_interval: float = 300.0,
    ) -> None:
        self.sources = list(source_list)
        seen: crawling.SeenFilter = store.seen if store is not None else _nothing_seen
        self.crawler = crawler_factory(seen)
        self.core = core
        self.llm = llm_runner
        self.symbols = symbol_source
        self.store = store
        self.relay = relay
        self.leader = leader
        self.poll_interval = poll_interval
        self.totals = Totals()

    async def cycle(self, *, dry_run: bool = False) -> CycleResult:
        """One pass over the sources; with `dry_run`, nothing is written, queued or asked."""
        started = time.monotonic()
        stats = CycleStats(started_at=datetime.now(UTC))
        self.core.set_symbols(await self.symbols.refresh())
        report = await self.crawler.crawl(self.sources)
        assessed = self.core.assess(report.articles, datetime.now(UTC))
        drafts: list[pipeline.Draft] = []
        events: list[contracts.RealityEvent] = []
        modes: collections.Counter[str] = collections.Counter()
        for draft in assessed.drafts:
            final, event = await self._finish(draft, dry_run=dry_run)
            drafts.append(final)
            events.append(event)
            modes[event.llm_mode] += 1
        if not dry_run and self.store is not None:
            stats.queued = await self.store.commit_cycle(events, report.done_keys)
            if self.relay is not None:
                self.relay.kick()
        stats.fetched, stats.extracted = report.fetched, report.extracted
        stats.articles, stats.skipped_seen = len(report.articles), report.skipped_seen
        stats.dropped = dict(report.dropped)
        stats.duplicates, stats.grouped = assessed.duplicates, assessed.grouped
        stats.unmatched, stats.events = assessed.unmatched, len(events)
        stats.llm_modes = dict(modes)
        stats.duration_s = time.monotonic() - started
        if not dry_run:
            self._count(stats)
        logger.info("cycle done", extra={"dry_run": dry_run, **asdict(stats)})
        return CycleResult(events, drafts, stats)

    async def _finish(
        self, draft: pipeline.Draft, *, dry_run: bool
    ) -> tuple[pipeline.Draft, contracts.RealityEvent]:
        if not self.llm.enabled:
            return draft, draft.to_event("disabled")
        if not draft.llm_wanted or dry_run:
            return draft, draft.to_event("skipped")
        outcome = await self.llm.assess(draft.stocks, draft.title, draft.text)
        calls = [outcome.call] if outcome.call is not None else []
        if outcome.mode == "used" and outcome.assessment is not None:
            draft = self.core.apply_llm(draft, outcome.assessment)
        return draft, draft.to_event(outcome.mode, calls)

    def _count(self, stats: CycleStats) -> None:
        totals = self.totals
        totals.cycles += 1
        totals.fetched += stats.fetched
        totals.extracted += stats.extracted
        totals.dropped.update(stats.dropped)
        totals.duplicates += stats.duplicates
        totals.events_queued += stats.queued
        totals.last_cycle_duration_s = stats.duration_s
        totals.last_cycle_at = stats.started_at

    async def run(self, stop: asyncio.Event) -> None:
        """Cycles until `stop`; the next cycle starts only after the previous one ended."""
        relay_task = None
        if self.relay is not None:
            relay_task = asyncio.create_task(self.relay.run(stop, self._is_leader))
        try:
            while not stop.is_set():
                started = time.monotonic()
                await self._guarded_cycle()
                remaining = self.poll_interval - (time.monotonic() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(remaining, 0.0))
        finally:
            if relay_task is not None:
                stop.set()
                await relay_task
            if self.leader is not None:
                await self.leader.release()

    def _is_leader(self) -> bool:
        return self.leader is None or self.leader.is_leader

    async def _guarded_cycle(self) -> None:
        if self.leader is not None and not await self.leader.ensure():
            logger.debug("not the leader: cycle skipped")
            return
        try:
            await self.cycle()
        except errors.SymbolsUnavailable as exc:
            self.totals.failed_cycles += 1
            logger.warning("cycle skipped", extra={"error": str(exc)})
        except (sqlalchemy.exc.SQLAlchemyError, errors.RealityError) as exc:
            self.totals.failed_cycles += 1
            logger.error("cycle failed", extra={"error": repr(exc)})
        except Exception:  # a bug in one cycle must not stop the next
            self.totals.failed_cycles += 1
            logger.exception("cycle crashed")
