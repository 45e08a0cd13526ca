"""The one ingest path: checks → dedupe → anti-manipulation → apply or hold → publish.

Called by the JetStream consumer (ack after return) and by `POST /reality/ingest`. The
transaction covers the event row, score moves, score_changes, index recomputes, Final
Prices, history points and llm_calls; live messages go out only after it committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from em_backend import errors, scoring
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


@dataclass(frozen=True)
class Outcome:
    event_id: str
    status: Status
    changes: list[scoring.Change] = field(default_factory=list)
    held: list[event_store.Held] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)


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
        received_at = received_at or datetime.now(UTC)
        try:
            event = checks.verified_event(
                body,
                signature,
                self._settings.reality_secrets(),
                received_at,
                timedelta(seconds=self._settings.ingest_max_skew_seconds),
            )
            outcome = await self._store(event)
        except errors.IngestRejected as exc:
            self._metrics.ingest.labels("rejected", exc.reason, via).inc()
            logger.warning(
                "reality event rejected",
                extra={"reason": exc.reason, "detail": exc.detail, "via": via},
            )
            raise
        reason = outcome.held[0].reason if outcome.held else ""
        label = {"applied": "accepted", "pending_review": "pending", "duplicate": "duplicate"}
        self._metrics.ingest.labels(label[outcome.status], reason, via).inc()
        logger.info(
            "reality event processed",
            extra={"event_id": event.event_id, "status": outcome.status, "via": via},
        )
        await self._announce(event, outcome)
        return outcome

    async def _store(self, event: contracts.RealityEvent) -> Outcome:
        now = datetime.now(UTC)
        source = scoring.primary_source(event)
        async with self._sessions() as session, session.begin():
            known = await stock_store.existing(session, event.stocks)
            missing = sorted(set(event.stocks) - known)
            if missing:
                raise errors.IngestRejected(
                    checks.UNKNOWN_SYMBOL, f"unknown symbols: {', '.join(missing)}"
                )
            if await event_store.exists(session, event.event_id):
                return Outcome(event.event_id, "duplicate")
            index_defs = await stock_store.index_definitions(session)
            held = await self._screen(session, event, index_defs, source, now)
            status: Status = "pending_review" if held else "applied"
            reason = "; ".join(f"{h.symbol}: {h.reason}" for h in held) or None
            inserted = await event_store.insert_event(
                session, event, source=source, status=status, reason=reason, now=now
            )
            if not inserted:
                return Outcome(event.event_id, "duplicate")
            event_store.add_llm_calls(session, event, now)
            if held:
                event_store.add_audits(session, event.event_id, held, now)
                return Outcome(event.event_id, "pending_review", held=held)
            changes, quotes = await self.apply(session, event, index_defs, now)
        return Outcome(event.event_id, "applied", changes=changes, quotes=quotes)

    async def apply(
        self,
        session: AsyncSession,
        event: contracts.RealityEvent,
        index_defs: dict[str, list[indexes.Component]],
        now: datetime,
    ) -> tuple[list[scoring.Change], list[Quote]]:
        """Move scores (also used by an admin's approval); caller commits, then publishes."""
        direct = {s for s in event.stocks if s not in index_defs}
        affected = direct | {i for s in direct for i in indexes.containing(s, index_defs)}
        pressures = await self._pricing.pressures(affected)
        return await scoring.apply_event(session, event, index_defs, pressures, now)

    async def _screen(
        self,
        session: AsyncSession,
        event: contracts.RealityEvent,
        index_defs: dict[str, list[indexes.Component]],
        source: str,
        now: datetime,
    ) -> list[event_store.Held]:
        held: list[event_store.Held] = []
        delta = blending.to_cents(Decimal(event.impact_points))
        for symbol in sorted({s for s in event.stocks if s not in index_defs}):
            window = await scoring.source_impacts_24h(session, symbol, now)
            verdict = screening.screen(delta, source, window, self._rules)
            if verdict.suspicious and verdict.reason is not None:
                held.append(event_store.Held(symbol, verdict.reason, delta))
        return held

    async def _announce(self, event: contracts.RealityEvent, outcome: Outcome) -> None:
        if outcome.status == "applied":
            for change in outcome.changes:
                await self._pricing.publish(
                    messages.reality_update(
                        change.symbol, change.old, change.new, event.event_id, event.summary
                    )
                )
            await self._pricing.publish_quotes(outcome.quotes)
        elif outcome.status == "pending_review":
            for item in outcome.held:
                await self._pricing.publish(
                    messages.audit_event(
                        item.symbol, event.event_id, "pending_review", item.reason, item.delta
                    )
                )
