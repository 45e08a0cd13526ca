"""An admin's decision on a held event: approve applies it exactly once, reject never.

The event row is locked while deciding and its status moves from `pending_review` exactly
once; a second decision finds another status and is a Conflict (HTTP 409).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from em_backend import errors, scoring
from em_backend.ingest.pipeline import Ingestor
from em_backend.live import messages
from em_backend.market.quotes import Quote
from em_backend.pricing import Pricing
from em_backend.store import events as event_store
from em_common import contracts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    event_id: str
    status: str
    decided_at: datetime
    changes: list[scoring.Change]


class Reviewer:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        ingestor: Ingestor,
        pricing: Pricing,
    ) -> None:
        self._sessions = sessions
        self._ingestor = ingestor
        self._pricing = pricing

    async def decide(
        self, event_id: str, *, approve: bool, admin_id: str, note: str | None
    ) -> Decision:
        now = datetime.now(UTC)
        changes: list[scoring.Change] = []
        quotes: list[Quote] = []
        async with self._sessions() as session, session.begin():
            row = await event_store.lock_event(session, event_id)
            if row is None:
                raise errors.NotFound(f"unknown event {event_id}")
            if row.status != "pending_review":
                raise errors.Conflict(f"event {event_id} was already decided ({row.status})")
            event = contracts.RealityEvent.model_validate(row.payload)
            if approve:
                changes, quotes = await self._ingestor.apply_approved(session, event, now)
            row.status = "applied" if approve else "rejected"
            row.decided_at = now
            await event_store.decide_audits(
                session,
                event_id,
                decision="approve" if approve else "reject",
                admin_id=admin_id,
                note=note,
                now=now,
            )
        logger.info(
            "event decided",
            extra={"event_id": event_id, "approve": approve, "admin_id": admin_id},
        )
        status = "approved" if approve else "rejected"
        for symbol in sorted(set(event.stocks)):
            await self._pricing.publish(messages.audit_event(symbol, event_id, status, note, None))
        for change in changes:
            await self._pricing.publish(
                messages.reality_update(
                    change.symbol, change.old, change.new, event_id, event.summary, event=event
                )
            )
        await self._pricing.publish_quotes(quotes)
        return Decision(event_id, row.status, now, changes)
