"""The public reality feed: applied events, newest first, with why each score moved.

Public (no key, no token): only applied events are listed. Held and rejected events stay
behind the admin endpoints; an approved one appears once applied, at its approval time.
Pages are a keyset on (decided_at, id), see `domain.feedcursor`: stable while new events
arrive, no gaps or repeats at equal timestamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from em_backend.api.deps import SessionDep
from em_backend.db import tables
from em_backend.domain import feedcursor
from em_backend.models import reality as models
from em_backend.store import events as event_store
from em_backend.store import stocks as stock_store

router = APIRouter(tags=["reality"])

SYMBOL_PATTERN = r"^[A-Z][A-Z0-9_]{1,15}$"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
RESPONSES: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown symbol"}}

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"events per page, 1-{MAX_LIMIT}")]
Before = Annotated[
    str | None,
    Query(
        pattern=feedcursor.PATTERN,
        description="a `cursor` or `next_cursor` from an earlier page: list older events",
        examples=["1764428400000000-42"],
    ),
]


@router.get(
    "/api/v1/reality/events", response_model=models.RealityEventsPublic, responses=RESPONSES
)
async def list_events(
    session: SessionDep,
    symbol: Annotated[
        str | None,
        Query(pattern=SYMBOL_PATTERN, description="only events that moved this symbol"),
    ] = None,
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> models.RealityEventsPublic:
    """Applied reality events, newest first: summary, sources, impact and every score moved."""
    return await _page(session, symbol, before, limit)


@router.get(
    "/api/v1/stocks/{symbol}/events",
    response_model=models.RealityEventsPublic,
    responses=RESPONSES,
    tags=["stocks"],
)
async def list_symbol_events(
    symbol: Annotated[str, Path(pattern=SYMBOL_PATTERN, examples=["ELON"])],
    session: SessionDep,
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> models.RealityEventsPublic:
    """The applied reality events that moved one symbol, newest first (the feed by symbol)."""
    return await _page(session, symbol, before, limit)


async def _page(
    session: AsyncSession, symbol: str | None, before: str | None, limit: int
) -> models.RealityEventsPublic:
    if symbol is not None:
        await stock_store.get(session, symbol)  # 404 naming an unknown symbol
    position = None
    if before is not None:
        cursor = feedcursor.decode(before)  # the Query pattern admits only decodable text
        position = (cursor.at, cursor.row_id)
    events, changes = await event_store.applied_page(
        session, symbol=symbol, before=position, limit=limit + 1
    )
    data = [_public(event, changes[event.event_id]) for event in events[:limit]]
    return models.RealityEventsPublic(
        data=data,
        count=len(data),
        next_cursor=data[-1].cursor if len(events) > limit else None,
    )


def _public(
    event: tables.Event, changes: Sequence[tables.ScoreChange]
) -> models.RealityEventPublic:
    """Only the published parts of the payload: never its LLM calls or review internals."""
    payload = event.payload
    applied_at = event.decided_at or event.received_at
    return models.RealityEventPublic(
        event_id=event.event_id,
        status="applied",
        reviewed=event.reason is not None,
        timestamp=_timestamp(payload.get("timestamp"), applied_at),
        applied_at=applied_at,
        summary=str(payload.get("summary") or ""),
        impact_points=_decimal(payload.get("impact_points")),
        stocks=[str(s) for s in payload.get("stocks") or [] if isinstance(s, str)],
        sources=_sources(payload.get("sources")),
        changes=[
            models.ChangePublic(
                symbol=c.symbol, old_score=c.old_score, new_score=c.new_score, delta=c.delta
            )
            for c in changes
        ],
        cursor=feedcursor.encode(applied_at, event.id),
    )


def _sources(value: object) -> list[models.FeedSourcePublic]:
    sources: list[models.FeedSourcePublic] = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        trust = item.get("trust")
        sources.append(
            models.FeedSourcePublic(
                id=str(item.get("id") or ""),
                url=item["url"],
                trust=float(trust) if isinstance(trust, int | float) else None,
            )
        )
    return sources


def _timestamp(value: object, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo is not None else fallback
    return fallback


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
