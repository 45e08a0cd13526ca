"""The transactional outbox and the seen-set, in PostgreSQL.

A cycle's events and the keys of the articles it read are written in one transaction: after
a crash either both exist (the relay publishes the events, the articles are not read again)
or neither (the next cycle reads the articles again and rebuilds the same event ids). Events
leave in `seq` order; `published_at` is set only after JetStream acknowledged them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from em_common import contracts
from em_reality.db import tables

logger = logging.getLogger(__name__)

_OUTBOX = tables.metadata.tables[tables.OutboxEntry.__tablename__]
_SEEN = tables.metadata.tables[tables.SeenArticle.__tablename__]


@dataclass(frozen=True, slots=True)
class Pending:
    seq: int
    event_id: str
    payload: dict[str, Any]


class OutboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def seen(self, keys: Collection[str]) -> set[str]:
        """Those of `keys` already in the seen-set."""
        if not keys:
            return set()
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(_SEEN.c.key).where(_SEEN.c.key.in_(list(keys))))
            return {row[0] for row in rows}

    async def commit_cycle(
        self, events: Sequence[contracts.RealityEvent], seen: Mapping[str, str]
    ) -> int:
        """Queue the events and mark the articles seen, atomically; return events queued.

        An event id already queued (the same story seen again) is skipped: the first
        version stands, as it would at the backend, which is idempotent on event_id.
        """
        queued = 0
        async with self._engine.begin() as conn:
            for event in events:
                result = await conn.execute(
                    insert(_OUTBOX)
                    .values(event_id=event.event_id, payload=event.model_dump(mode="json"))
                    .on_conflict_do_nothing(index_elements=["event_id"])
                    .returning(_OUTBOX.c.seq)
                )
                queued += result.first() is not None
            if seen:
                await conn.execute(
                    insert(_SEEN)
                    .values([{"key": key, "source_id": src} for key, src in seen.items()])
                    .on_conflict_do_nothing(index_elements=["key"])
                )
        return queued

    async def pending(self, limit: int = 100) -> list[Pending]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(_OUTBOX.c.seq, _OUTBOX.c.event_id, _OUTBOX.c.payload)
                .where(_OUTBOX.c.published_at.is_(None))
                .order_by(_OUTBOX.c.seq)
                .limit(limit)
            )
            return [Pending(int(r.seq), str(r.event_id), dict(r.payload)) for r in rows]

    async def mark_published(self, seq: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(_OUTBOX).where(_OUTBOX.c.seq == seq).values(published_at=datetime.now(UTC))
            )

    async def depth(self) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(_OUTBOX).where(_OUTBOX.c.published_at.is_(None))
            )
            return int(count or 0)
