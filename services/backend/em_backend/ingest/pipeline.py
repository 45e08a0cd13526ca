"""The one ingest path: checks → dedupe → anti-manipulation → apply or hold → publish.

Used by the JetStream consumer (a fetched batch at a time, acked after return) and by
`POST /reality/ingest` (a batch of one). One transaction per batch covers the event rows,
score moves, score_changes, index recomputes, Final Prices, history points, llm_calls and
review records; live messages go out only after it committed. Events of a batch are
decided in order, each seeing the moves of the ones before it (the 24 h source shares too).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from em_backend import errors, scoring
from em_backend.db import tables
from em_backend.domain import blending, indexes, screening
from em_backend.ingest import checks
from em_backend.live import messages
from em_backend.market.quotes import Quote
from em_backend.metrics import Metrics
from em_backend.pricing import Pricing
from em_backend.settings import Settings
from em_backend.store import events as event_store
from em_backend.store import stocks as stock_store
from em_common import contracts

logger = logging.getLogger(__name__)

Status = Literal["applied", "pending_review", "duplicate"]
METRIC_OUTCOME = {"applied": "accepted", "pending_review": "pending", "duplicate": "duplicate"}


class RaceLost(Exception):
    """Another writer stored one of the batch's events first; the batch is retried."""


@dataclass(frozen=True)
class Incoming:
    body: bytes
    signature: str | None
    via: str
    received_at: datetime


@dataclass(frozen=True)
class Outcome:
    event_id: str
    status: Status
    changes: list[scoring.Change] = field(default_factory=list)
    held: list[event_store.Held] = field(default_factory=list)


Result = Outcome | errors.IngestRejected


class Ingestor:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        pricing: Pricing,
        metrics: Metrics,
        rules: screening.Rules,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._pricing = pricing
        self._metrics = metrics
        self._rules = rules

    async def ingest(
        self,
        body: bytes,
        signature: str | None,
        *,
        via: str,
        received_at: datetime | None = None,
    ) -> Outcome:
        """Process one signed event; raises IngestRejected when it is refused."""
        incoming = Incoming(body, signature, via, received_at or datetime.now(UTC))
        try:
            (result,) = await self.ingest_many([incoming])
        except RaceLost:
            # Stored concurrently (the same event over NATS): now it is a duplicate.
            (result,) = await self.ingest_many([incoming])
        if isinstance(result, errors.IngestRejected):
            raise result
        return result

    async def ingest_many(self, batch: Sequence[Incoming]) -> list[Result]:
        """Process events in order; refusals are results, transient failures raise."""
        results: list[Result | None] = [None] * len(batch)
        valid: dict[int, contracts.RealityEvent] = {}
        skew = timedelta(seconds=self._settings.ingest_max_skew_seconds)
        secrets = self._settings.reality_secrets()
        for position, item in enumerate(batch):
            try:
                valid[position] = checks.verified_event(
                    item.body, item.signature, secrets, item.received_at, skew
                )
            except errors.IngestRejected as exc:
                results[position] = exc
        quotes: list[Quote] = []
        if valid:
            stored, quotes = await self._store(list(valid.values()))
            for position, stored_result in zip(valid, stored, strict=True):
                results[position] = stored_result
        final: list[Result] = []
        for position, (item, maybe) in enumerate(zip(batch, results, strict=True)):
            assert maybe is not None
            self._record(item.via, maybe)
            if isinstance(maybe, Outcome):
                await self._announce(valid[position], maybe)
            final.append(maybe)
        await self._pricing.publish_quotes(quotes)
        return final

    def _record(self, via: str, result: Result) -> None:
        if isinstance(result, errors.IngestRejected):
            self._metrics.ingest.labels("rejected", result.reason, via).inc()
            logger.warning(
                "reality event rejected",
                extra={"reason": result.reason, "detail": result.detail, "via": via},
            )
            return
        reason = result.held[0].reason if result.held else ""
        self._metrics.ingest.labels(METRIC_OUTCOME[result.status], reason, via).inc()
        logger.info(
            "reality event processed",
            extra={"event_id": result.event_id, "status": result.status, "via": via},
        )

    async def _store(
        self, events: list[contracts.RealityEvent]
    ) -> tuple[list[Result], list[Quote]]:
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            known = await stock_store.existing(session, {s for e in events for s in e.stocks})
            seen = await event_store.existing_ids(session, [e.event_id for e in events])
            index_defs = await stock_store.index_definitions(session)
            results: list[Result | None] = []
            todo: list[contracts.RealityEvent] = []
            for event in events:
                missing = sorted(set(event.stocks) - known)
                if missing:
                    results.append(
                        errors.IngestRejected(
                            checks.UNKNOWN_SYMBOL, f"unknown symbols: {', '.join(missing)}"
                        )
                    )
                elif event.event_id in seen:
                    results.append(Outcome(event.event_id, "duplicate"))
                else:
                    seen.add(event.event_id)
                    results.append(None)
                    todo.append(event)
            decided: list[Outcome] = []
            quotes: list[Quote] = []
            if todo:
                decided, quotes = await self._decide(session, todo, index_defs, now)
        answers = iter(decided)
        return [r if r is not None else next(answers) for r in results], quotes

    async def _decide(
        self,
        session: AsyncSession,
        events: list[contracts.RealityEvent],
        index_defs: dict[str, list[indexes.Component]],
        now: datetime,
    ) -> tuple[list[Outcome], list[Quote]]:
        direct = {s for e in events for s in scoring.direct_symbols(e, index_defs)}
        windows = await scoring.source_impacts_24h(session, direct, now)
        pressures = await self._pricing.pressures(scoring.affected(direct, index_defs))
        board = await scoring.open_board(session, direct, index_defs)
        outcomes: list[Outcome] = []
        for event in events:
            held = self._screen(event, index_defs, windows)
            if held:
                outcomes.append(Outcome(event.event_id, "pending_review", held=held))
                continue
            changes = board.apply(event, now)
            source = scoring.primary_source(event)
            for change in changes:
                window = windows.setdefault(change.symbol, {})
                window[source] = window.get(source, Decimal(0)) + abs(change.delta)
            outcomes.append(Outcome(event.event_id, "applied", changes=changes))
        await self._write_events(session, events, outcomes, now)
        quotes = await scoring.finish(session, board, pressures, now)
        return outcomes, quotes

    async def _write_events(
        self,
        session: AsyncSession,
        events: list[contracts.RealityEvent],
        outcomes: list[Outcome],
        now: datetime,
    ) -> None:
        rows = [
            event_store.EventRow(
                event=event,
                source=scoring.primary_source(event),
                status=outcome.status,
                reason="; ".join(f"{h.symbol}: {h.reason}" for h in outcome.held) or None,
            )
            for event, outcome in zip(events, outcomes, strict=True)
        ]
        inserted = await event_store.insert_events(session, rows, now)
        if inserted != len(rows):
            raise RaceLost("an event of this batch was stored concurrently")
        calls = [row for event in events for row in event_store.llm_call_rows(event, now)]
        audits = [
            row
            for event, outcome in zip(events, outcomes, strict=True)
            for row in event_store.audit_rows(event.event_id, outcome.held, now)
        ]
        # A call without output gets SQL NULL (the column default), not JSON null.
        await scoring.bulk_insert(
            session, tables.LlmCall, [c for c in calls if c["output"] is not None]
        )
        await scoring.bulk_insert(
            session,
            tables.LlmCall,
            [{k: v for k, v in c.items() if k != "output"} for c in calls if c["output"] is None],
        )
        await scoring.bulk_insert(session, tables.LlmAudit, audits)

    async def apply_approved(
        self, session: AsyncSession, event: contracts.RealityEvent, now: datetime
    ) -> tuple[list[scoring.Change], list[Quote]]:
        """Apply a held event an admin approved (no screening); caller commits, publishes."""
        index_defs = await stock_store.index_definitions(session)
        direct = scoring.direct_symbols(event, index_defs)
        pressures = await self._pricing.pressures(scoring.affected(direct, index_defs))
        board = await scoring.open_board(session, direct, index_defs)
        changes = board.apply(event, now)
        quotes = await scoring.finish(session, board, pressures, now)
        return changes, quotes

    def _screen(
        self,
        event: contracts.RealityEvent,
        index_defs: dict[str, list[indexes.Component]],
        windows: dict[str, dict[str, Decimal]],
    ) -> list[event_store.Held]:
        held: list[event_store.Held] = []
        delta = blending.to_cents(Decimal(event.impact_points))
        source = scoring.primary_source(event)
        for symbol in scoring.direct_symbols(event, index_defs):
            verdict = screening.screen(delta, source, windows.get(symbol, {}), self._rules)
            if verdict.suspicious and verdict.reason is not None:
                held.append(event_store.Held(symbol, verdict.reason, delta))
        return held

    async def _announce(self, event: contracts.RealityEvent, outcome: Outcome) -> None:
        if outcome.status == "applied":
            for change in outcome.changes:
                await self._pricing.publish(
                    messages.reality_update(
                        change.symbol,
                        change.old,
                        change.new,
                        event.event_id,
                        event.summary,
                        event=event,
                    )
                )
        elif outcome.status == "pending_review":
            for item in outcome.held:
                await self._pricing.publish(
                    messages.audit_event(
                        item.symbol, event.event_id, "pending_review", item.reason, item.delta
                    )
                )
