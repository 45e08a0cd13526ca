"""Reality events, their review records (`llm_audit`) and reported LLM calls."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Table, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend.db import tables
from em_common import contracts


@dataclass(frozen=True)
class Held:
    """One symbol of a held event and why it was held."""

    symbol: str
    reason: str
    delta: Decimal


@dataclass(frozen=True)
class EventRow:
    event: contracts.RealityEvent
    source: str
    status: str
    reason: str | None


async def existing_ids(session: AsyncSession, event_ids: Iterable[str]) -> set[str]:
    wanted = set(event_ids)
    result = await session.scalars(
        select(tables.Event.event_id).where(tables.Event.event_id.in_(wanted))
    )
    return set(result.all())


async def insert_events(session: AsyncSession, rows: Sequence[EventRow], now: datetime) -> int:
    """Insert event rows; returns how many were new (others were stored concurrently)."""
    if not rows:
        return 0
    table = tables.Event.__table__
    assert isinstance(table, Table)
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(table.c.event_id)
    )
    params = [
        {
            "event_id": row.event.event_id,
            "source": row.source,
            "payload": row.event.model_dump(mode="json"),
            "status": row.status,
            "reason": row.reason,
            "received_at": now,
            "decided_at": now if row.status == "applied" else None,
        }
        for row in rows
    ]
    result = await session.execute(stmt, params)
    return len(result.all())


def llm_call_rows(event: contracts.RealityEvent, now: datetime) -> list[dict[str, object]]:
    return [
        {
            "event_id": event.event_id,
            "model": call.model,
            "input_hash": call.input_hash,
            "output": call.output,
            "valid": call.outcome == "used",
            "latency_ms": call.latency_ms,
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "created_at": now,
        }
        for call in event.llm_calls
    ]


def audit_rows(event_id: str, held: Sequence[Held], now: datetime) -> list[dict[str, object]]:
    return [
        {
            "event_id": event_id,
            "symbol": item.symbol,
            "reason": item.reason,
            "delta": item.delta,
            "decision": None,
            "approved_by": None,
            "approved_at": None,
            "note": None,
            "created_at": now,
        }
        for item in held
    ]


async def lock_event(session: AsyncSession, event_id: str) -> tables.Event | None:
    return await session.scalar(
        select(tables.Event).where(tables.Event.event_id == event_id).with_for_update()
    )


async def decide_audits(
    session: AsyncSession,
    event_id: str,
    *,
    decision: str,
    admin_id: str,
    note: str | None,
    now: datetime,
) -> None:
    await session.execute(
        update(tables.LlmAudit)
        .where(tables.LlmAudit.event_id == event_id, tables.LlmAudit.decision.is_(None))
        .values(decision=decision, approved_by=admin_id, approved_at=now, note=note)
    )


async def pending(
    session: AsyncSession, limit: int
) -> list[tuple[tables.Event, list[tables.LlmAudit]]]:
    events = (
        await session.scalars(
            select(tables.Event)
            .where(tables.Event.status == "pending_review")
            .order_by(tables.Event.received_at.desc(), tables.Event.id.desc())
            .limit(limit)
        )
    ).all()
    ids = [e.event_id for e in events]
    audits = (
        await session.scalars(
            select(tables.LlmAudit)
            .where(tables.LlmAudit.event_id.in_(ids))
            .order_by(tables.LlmAudit.id)
        )
    ).all()
    by_event: dict[str, list[tables.LlmAudit]] = {}
    for audit in audits:
        by_event.setdefault(audit.event_id, []).append(audit)
    return [(e, by_event.get(e.event_id, [])) for e in events]


@dataclass(frozen=True)
class AuditFilter:
    symbol: str | None = None
    event_id: str | None = None
    source: str | None = None
    decision: str | None = None  # approve | reject | pending
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


async def audit_decisions(session: AsyncSession, f: AuditFilter) -> Sequence[tables.LlmAudit]:
    query = select(tables.LlmAudit)
    if f.symbol:
        query = query.where(tables.LlmAudit.symbol == f.symbol)
    if f.event_id:
        query = query.where(tables.LlmAudit.event_id == f.event_id)
    if f.decision == "pending":
        query = query.where(tables.LlmAudit.decision.is_(None))
    elif f.decision:
        query = query.where(tables.LlmAudit.decision == f.decision)
    if f.since:
        query = query.where(tables.LlmAudit.created_at >= f.since)
    if f.until:
        query = query.where(tables.LlmAudit.created_at < f.until)
    query = query.order_by(tables.LlmAudit.created_at.desc(), tables.LlmAudit.id.desc())
    return (await session.scalars(query.limit(f.limit))).all()


async def audit_changes(session: AsyncSession, f: AuditFilter) -> Sequence[tables.ScoreChange]:
    query = select(tables.ScoreChange)
    if f.symbol:
        query = query.where(tables.ScoreChange.symbol == f.symbol)
    if f.event_id:
        query = query.where(tables.ScoreChange.event_id == f.event_id)
    if f.source:
        query = query.where(tables.ScoreChange.source == f.source)
    if f.since:
        query = query.where(tables.ScoreChange.created_at >= f.since)
    if f.until:
        query = query.where(tables.ScoreChange.created_at < f.until)
    query = query.order_by(tables.ScoreChange.created_at.desc(), tables.ScoreChange.id.desc())
    return (await session.scalars(query.limit(f.limit))).all()


async def applied_page(
    session: AsyncSession,
    *,
    symbol: str | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> tuple[Sequence[tables.Event], dict[str, list[tables.ScoreChange]]]:
    """Applied events, newest decision first (keyset on decided_at, id), with their score
    changes; `symbol` keeps events that moved it. Held and rejected events never appear."""
    event = tables.Event
    query = select(event).where(event.status == "applied", event.decided_at.is_not(None))
    if symbol is not None:
        moved = select(tables.ScoreChange.event_id).where(tables.ScoreChange.symbol == symbol)
        query = query.where(event.event_id.in_(moved))
    if before is not None:
        query = query.where(tuple_(event.decided_at, event.id) < tuple_(*before))
    query = query.order_by(event.decided_at.desc(), event.id.desc()).limit(limit)
    events = (await session.scalars(query)).all()
    changes: dict[str, list[tables.ScoreChange]] = {e.event_id: [] for e in events}
    if events:
        rows = await session.scalars(
            select(tables.ScoreChange)
            .where(tables.ScoreChange.event_id.in_(list(changes)))
            .order_by(tables.ScoreChange.symbol, tables.ScoreChange.id)
        )
        for row in rows.all():
            if row.event_id is not None:
                changes[row.event_id].append(row)
    return events, changes
